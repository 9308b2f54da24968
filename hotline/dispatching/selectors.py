"""Reads of the dispatching package (and of the closed cases it learns from)."""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.db.models import QuerySet

from hotline.cases.models import Case, CaseStatus

from .models import CatalogueImport, DispatchSettings, Matter, ModelVersion, Outcome, Suggestion

T = TypeVar("T")
_shared: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar(
    "dispatching_shared_reads", default=None
)


@contextlib.contextmanager
def reads_shared() -> Iterator[None]:
    """Inside the block, the settings, the active catalogue and the active model version are read once: the
    case-events job wraps each batch of events in it (a batch takes a fraction of a second; a change made
    meanwhile applies from the next batch), instead of reading them again for every case."""
    token = _shared.set({})
    try:
        yield
    finally:
        _shared.reset(token)


def _once(key: str, load: Callable[[], T]) -> T:
    memo = _shared.get()
    if memo is None:
        return load()
    if key not in memo:
        memo[key] = load()
    return memo[key]


def dispatch_settings() -> DispatchSettings:
    def load() -> DispatchSettings:
        row = DispatchSettings.objects.select_related("auto_actor").order_by("pk").first()
        return row if row is not None else DispatchSettings()

    return _once("settings", load)


def matters(*, active_only: bool = False) -> QuerySet[Matter]:
    qs = Matter.objects.select_related("unit", "parent", "parent__parent")
    return qs.filter(is_active=True) if active_only else qs


def active_matters() -> list[Matter]:
    """The active catalogue (read once per `reads_shared` block)."""
    return _once("matters", lambda: list(matters(active_only=True)))


def model_versions() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.all()


def active_model_version() -> ModelVersion | None:
    return _once(
        "model_version", lambda: ModelVersion.objects.filter(is_active=True).order_by("-version").first()
    )


def imports() -> QuerySet[CatalogueImport]:
    return CatalogueImport.objects.select_related("actor")


def recent_overrides(*, limit: int = 20) -> QuerySet[Suggestion]:
    return (
        Suggestion.objects.filter(outcome=Outcome.OVERRIDDEN)
        .select_related("case", "unit", "final_unit", "decided_by")
        .order_by("-decided_at")[:limit]
    )


def outcome_counts() -> dict[str, int]:
    from django.db.models import Count

    return dict(Suggestion.objects.values_list("outcome").annotate(n=Count("id")).values_list("outcome", "n"))


def training_cases(*, limit: int) -> QuerySet[Case]:
    """Closed cases with a main unit, newest last (the newest slice is held back for measuring)."""
    newest = (
        Case.objects.filter(status=CaseStatus.CLOSED, main_unit__isnull=False, closed_at__isnull=False)
        .order_by("-closed_at", "-id")
        .values_list("id", flat=True)[:limit]
    )
    return Case.objects.filter(id__in=list(newest)).order_by("closed_at", "id")
