"""Reads of the dispatching package (and of the closed cases it learns from)."""

from __future__ import annotations

from django.db.models import QuerySet

from hotline.cases.models import Case, CaseStatus

from .models import CatalogueImport, DispatchSettings, Matter, ModelVersion, Outcome, Suggestion


def dispatch_settings() -> DispatchSettings:
    row = DispatchSettings.objects.select_related("auto_actor").order_by("pk").first()
    return row if row is not None else DispatchSettings()


def matters(*, active_only: bool = False) -> QuerySet[Matter]:
    qs = Matter.objects.select_related("unit", "parent", "parent__parent")
    return qs.filter(is_active=True) if active_only else qs


def model_versions() -> QuerySet[ModelVersion]:
    return ModelVersion.objects.all()


def active_model_version() -> ModelVersion | None:
    return ModelVersion.objects.filter(is_active=True).order_by("-version").first()


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
