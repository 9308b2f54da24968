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
    def __init__(self, model: type[M]) -> None:
        self.model = model
        self._rows: dict[int, M] = {}
        self._loaded_at = 0.0
        self._lock = threading.Lock()
        post_save.connect(self._invalidate, sender=model, weak=False)
        post_delete.connect(self._invalidate, sender=model, weak=False)

    def _invalidate(self, **_: Any) -> None:
        self._loaded_at = 0.0

    def get(self, pk: int | None) -> M | None:
        if pk is None:
            return None
        if time.monotonic() - self._loaded_at > TTL_SECONDS:
            with self._lock:
                self._rows = {row.pk: row for row in self.model._default_manager.all()}
                self._loaded_at = time.monotonic()
        row = self._rows.get(pk)
        if row is None:  # created in another process since the last load
            row = self.model._default_manager.filter(pk=pk).first()
        return row

    def attach(self, obj: models.Model, *fields: str) -> None:
        """Fill foreign keys of `obj` from the cache so reading them costs no query."""
        for name in fields:
            setattr(obj, name, self.get(getattr(obj, f"{name}_id")))
