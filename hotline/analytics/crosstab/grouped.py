"""The measures in a form that can be grouped: the rows a measure counts, how a row reaches its case and its
handling unit, and the numerator / denominator as aggregates.

Each entry is the measure of `measures.py` with the same row selection and the same formula, split so that a
cross-tab can group it by any dimension in one query. `tests/analytics/test_crosstab.py` checks that every
grouped form's grand total equals the measure's own figure on a hand-built fixture, so the two cannot drift.
Call figures (answer rate, service level) have no case and no unit: they are not offered here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Aggregate, Count, DurationField, ExpressionWrapper, F, Q, QuerySet, Sum

from hotline.cases.models import (
    SATISFIED_RATINGS,
    CaseEvent,
    CaseStatus,
    CloseKind,
    ExtensionRequest,
)
from hotline.sla.models import Clock, Stage

from .. import measures as m
from ..measures import AVERAGE, Measure, Scope


@dataclass(frozen=True)
class Grouped:
    measure: Measure
    rows: Callable[[Scope], QuerySet[Any]]
    case: str  # path from a row to its case: "" (the row is the case) or "case__"
    unit: str  # the row's handling unit, for the unit dimension
    time: str  # the field that put the row in the period, for the time dimensions
    den: Callable[[], Aggregate]
    num: Callable[[], Aggregate] | None = None
    # case-search parameters that, with the cell's filters, list the cases behind the figure (None: no list)
    drill: dict[str, str] | None = field(default=None)

    @property
    def key(self) -> str:
        return self.measure.key

    @property
    def kind(self) -> str:
        return self.measure.kind


def _spent() -> Aggregate:
    return Sum(ExpressionWrapper(F("finished_at") - F("assigned_at"), output_field=DurationField()))


def _sign_for_rows(scope: Scope) -> QuerySet[Clock]:
    return Clock.objects.filter(
        scope.in_units("assignment__unit"),
        stage=Stage.SIGN_FOR,
        started_at__gte=scope.start,
        started_at__lt=scope.end,
    ).filter(Q(assignment__signed_at__isnull=False) | Q(stopped_at__isnull=True, due_at__lt=scope.now))


def _reported_on_time_rows(scope: Scope) -> QuerySet[Any]:
    from hotline.cases.models import Assignment, AssignmentStatus

    return Assignment.objects.filter(
        scope.in_units(),
        status=AssignmentStatus.REPORTED,
        finished_at__gte=scope.start,
        finished_at__lt=scope.end,
    )


def _redo_rows(scope: Scope) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(
        scope.handled_here("case_id"),
        Q(action="callback") | Q(action="supervision_opinion", to_status=CaseStatus.REDO),
        at__gte=scope.start,
        at__lt=scope.end,
    )


def _extension_rows(scope: Scope) -> QuerySet[ExtensionRequest]:
    return ExtensionRequest.objects.filter(
        scope.in_units("assignment__unit"), requested_at__gte=scope.start, requested_at__lt=scope.end
    )


GROUPED: list[Grouped] = [
    Grouped(
        m.measure("intake_volume"),
        m._intake,
        case="",
        unit="main_unit",
        time="created_at",
        den=lambda: Count("id"),
        drill={"not_status": CaseStatus.DRAFT},
    ),
    Grouped(
        m.measure("first_contact_resolution"),
        lambda scope: m._intake(scope).exclude(status__in=m.NOT_ACCEPTED),
        case="",
        unit="main_unit",
        time="created_at",
        den=lambda: Count("id"),
        num=lambda: Count("id", filter=Q(close_kind=CloseKind.ANSWERED)),
        drill={"not_status": ",".join(m.NOT_ACCEPTED)},
    ),
    Grouped(
        m.measure("on_time_sign_for"),
        _sign_for_rows,
        case="case__",
        unit="assignment__unit",
        time="started_at",
        den=lambda: Count("id"),
        num=lambda: Count("id", filter=Q(assignment__signed_at__lte=F("due_at"))),
    ),
    Grouped(
        m.measure("on_time_completion"),
        _reported_on_time_rows,
        case="case__",
        unit="unit",
        time="finished_at",
        den=lambda: Count("id"),
        num=lambda: Count("id", filter=Q(due_at__isnull=True) | Q(finished_at__lte=F("due_at"))),
    ),
    Grouped(
        m.measure("redo_rate"),
        _redo_rows,
        case="case__",
        unit="case__main_unit",
        time="at",
        den=lambda: Count("case_id", distinct=True, filter=Q(action="callback")),
        num=lambda: Count("case_id", distinct=True, filter=Q(to_status=CaseStatus.REDO)),
    ),
    Grouped(
        m.measure("satisfaction"),
        m.callback_rows,
        case="case__",
        unit="case__main_unit",
        time="created_at",
        den=lambda: Count("id"),
        num=lambda: Count("id", filter=Q(rating__in=SATISFIED_RATINGS)),
    ),
    Grouped(
        m.measure("response_rate"),
        m.responded_rows,
        case="case__",
        unit="case__main_unit",
        time="created_at",
        den=lambda: Count("id"),
        num=lambda: Count("id", filter=Q(responded=m.RESPONDED)),
    ),
    Grouped(
        m.measure("solution_rate"),
        m.solution_rows,
        case="case__",
        unit="case__main_unit",
        time="created_at",
        den=lambda: Count("id"),
        num=lambda: Count("id", filter=Q(solution=m.SOLVED)),
    ),
    Grouped(
        m.measure("redispatch_rate"),
        m.redispatch_rows,
        case="case__",
        unit="unit",
        time="assigned_at",
        den=lambda: Count("id"),
        num=lambda: Count("id", filter=m.REDISPATCHED),
    ),
    Grouped(
        m.measure("extensions"),
        _extension_rows,
        case="assignment__case__",
        unit="assignment__unit",
        time="requested_at",
        den=lambda: Count("id"),
    ),
    Grouped(
        m.measure("sla_alerts"),
        m.sla_alert_rows,
        case="case__",
        unit="unit",
        time="at",
        den=lambda: Count("id"),
    ),
    Grouped(
        m.measure("average_handling_hours"),
        m.reported_assignments,
        case="case__",
        unit="unit",
        time="finished_at",
        den=lambda: Count("id"),
        num=_spent,
    ),
]

REGISTRY: dict[str, Grouped] = {g.key: g for g in GROUPED}


def value_of(grouped: Grouped, num: Any, den: Any) -> tuple[float | int | None, int | None, int]:
    """(value, numerator, denominator) of one cell, by the measure's kind (rates and means over nothing: None)."""
    den = int(den or 0)
    if grouped.num is None:
        return den, None, den
    if grouped.kind == AVERAGE:
        seconds = num.total_seconds() if hasattr(num, "total_seconds") else float(num or 0)
        return (round(seconds / den / 3600, 1) if den else None), int(seconds), den
    n = int(num or 0)
    return (round(100 * n / den, 1) if den else None), n, den
