"""In-process cache of small reference tables (dictionary items, units) for pages that show many of them.

Loaded whole on first use, refreshed after a short time and at once when a row is saved in this process.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Generic, TypeVar

from django.db import models
from django.db.models.signals import post_delete, post_save

M = TypeVar("M", bound=models.Model)
TTL_SECONDS = 60


class RefCache(Generic[M]):
    instances: list[RefCache[Any]] = []

    def __init__(self, model: type[M]) -> None:
        self.model = model
        RefCache.instances.append(self)
        self._rows: dict[int, M] = {}
        self._indexes: dict[tuple[str, ...], dict[tuple[Any, ...], M]] = {}
        self._loaded_at = 0.0
        self._lock = threading.Lock()
        post_save.connect(self._invalidate, sender=model, weak=False)
        post_delete.connect(self._invalidate, sender=model, weak=False)

    def _invalidate(self, **_: Any) -> None:
        self._loaded_at = 0.0

    @classmethod
    def invalidate_all(cls) -> None:
        """Forget every cached table (tests, after rows were written without signals, e.g. a flush)."""
        for cache in cls.instances:
            cache._invalidate()

    def _fresh_rows(self) -> dict[int, M]:
        if time.monotonic() - self._loaded_at > TTL_SECONDS:
            with self._lock:
                self._rows = {row.pk: row for row in self.model._default_manager.all()}
                self._indexes = {}
                self._loaded_at = time.monotonic()
        return self._rows

    def all(self) -> list[M]:
        return list(self._fresh_rows().values())

    def get(self, pk: int | None) -> M | None:
        if pk is None:
            return None
        row = self._fresh_rows().get(pk)
        if row is None:  # created in another process since the last load
            row = self.model._default_manager.filter(pk=pk).first()
        return row

    def get_by(self, **attrs: Any) -> M | None:
        """The row whose fields equal `attrs` (a unique key such as kind + code), else from the database."""
        fields = tuple(sorted(attrs))
        rows = self._fresh_rows()
        index = self._indexes.get(fields)
        if index is None:
            index = {tuple(getattr(row, f) for f in fields): row for row in rows.values()}
            self._indexes[fields] = index
        row = index.get(tuple(attrs[f] for f in fields))
        if row is None:
            row = self.model._default_manager.filter(**attrs).first()
        return row

    def attach(self, obj: models.Model, *fields: str) -> None:
        """Fill foreign keys of `obj` from the cache so reading them costs no query."""
        for name in fields:
            setattr(obj, name, self.get(getattr(obj, f"{name}_id")))
