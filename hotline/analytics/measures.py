"""The measures: each defined once (key, name, the formula shown to users, the query that computes it).

Every figure is one aggregate query over the platform's own tables for a `Scope` (a period and, for a unit, its
subtree); no rows are read into Python. A rate is a numerator over a denominator, both returned, so a reader can
check it; a rate over nothing is `None` (shown "—"), never 0 or 100.

Unit scope: a case counts for a unit when the unit or one of its sub-units was given it to handle (main or
assisting; a copy does not count). Figures with no unit side (calls, intake at the hotline) are not applicable to
a unit scope.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from hotline.cases.models import (
    SATISFIED_RATINGS,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Callback,
    Case,
    CaseEvent,
    CaseStatus,
    Channel,
    CloseKind,
    ExtensionRequest,
    RequestStatus,
)
from hotline.orgs.models import Unit
from hotline.sla.models import Clock, Stage
from hotline.telephony.models import Call, QueueEvent, QueueLog

COUNT = "count"
RATE = "rate"
AVERAGE = "average"  # a mean (hours), numerator = total seconds over the denominator's rows
# Cases that were never taken in: a draft was not submitted, a refusal was not accepted.
NOT_ACCEPTED = [CaseStatus.DRAFT, CaseStatus.PENDING_NOT_ACCEPTED, CaseStatus.NOT_ACCEPTED]


@dataclass(frozen=True)
class Scope:
    """What a figure is computed over: [start, end), `now` for clocks still running, and the unit subtree
    (`None`: the whole centre)."""

    start: dt.datetime
    end: dt.datetime
    now: dt.datetime
    unit: Unit | None = None

    def in_units(self, field: str = "unit") -> Q:
        if self.unit is None:
            return Q()
        return Q(**{f"{field}__path__startswith": self.unit.path})

    def handled_here(self, case_ref: str = "pk") -> Q:
        """Cases given (not copied) to the scope's unit subtree; no condition for the whole centre."""
        if self.unit is None:
            return Q()
        given = Assignment.objects.filter(self.in_units(), case_id=OuterRef(case_ref)).exclude(
            role=AssignmentRole.CC
        )
        return Q(Exists(given))


@dataclass
class Figure:
    """A measure's value: a count, or a percentage (one decimal) of numerator over denominator."""

    value: float | int | None
    numerator: int | None = None
    denominator: int | None = None
    applicable: bool = True
    breakdown: list[dict[str, Any]] = field(default_factory=list)


NOT_APPLICABLE = Figure(value=None, applicable=False)


def rate(counts: dict[str, Any]) -> Figure:
    num, den = int(counts["num"] or 0), int(counts["den"] or 0)
    return Figure(value=round(100 * num / den, 1) if den else None, numerator=num, denominator=den)


@dataclass(frozen=True)
class Measure:
    key: str
    name: Any  # lazy translation
    kind: str  # COUNT or RATE
    formula: Any  # shown beside the figure, in words
    source: str  # the tables it reads
    compute: Callable[[Scope], Figure]
    unit_scoped: bool = True  # False: a figure of the whole centre only (calls, intake at the hotline)


# --------------------------------------------------------------------------- cases


def _intake(scope: Scope) -> QuerySet[Case]:
    return Case.objects.filter(
        scope.handled_here(), created_at__gte=scope.start, created_at__lt=scope.end
    ).exclude(status=CaseStatus.DRAFT)


def intake_volume(scope: Scope) -> Figure:
    labels = dict(Channel.choices)
    rows = _intake(scope).values("channel").annotate(n=Count("id")).order_by("-n", "channel")
    breakdown = [
        {"key": r["channel"], "name": str(labels.get(r["channel"], r["channel"])), "n": r["n"]} for r in rows
    ]
    return Figure(value=sum(b["n"] for b in breakdown), breakdown=breakdown)


def first_contact_resolution(scope: Scope) -> Figure:
    if scope.unit is not None:
        return NOT_APPLICABLE
    accepted = _intake(scope).exclude(status__in=NOT_ACCEPTED)
    return rate(accepted.aggregate(den=Count("id"), num=Count("id", filter=Q(close_kind=CloseKind.ANSWERED))))


def on_time_sign_for(scope: Scope) -> Figure:
    """Sign-for clocks started in the period and decided: signed for, or still unsigned past the deadline.
    (Still within the deadline: not yet decided; withdrawn before signing: not counted.)"""
    clocks = Clock.objects.filter(
        scope.in_units("assignment__unit"),
        stage=Stage.SIGN_FOR,
        started_at__gte=scope.start,
        started_at__lt=scope.end,
    ).filter(Q(assignment__signed_at__isnull=False) | Q(stopped_at__isnull=True, due_at__lt=scope.now))
    return rate(
        clocks.aggregate(den=Count("id"), num=Count("id", filter=Q(assignment__signed_at__lte=F("due_at"))))
    )


def on_time_completion(scope: Scope) -> Figure:
    """Assignments reported (finished) in the period; on time when by their deadline (or without one)."""
    reported = Assignment.objects.filter(
        scope.in_units(),
        status=AssignmentStatus.REPORTED,
        finished_at__gte=scope.start,
        finished_at__lt=scope.end,
    )
    on_time = Q(due_at__isnull=True) | Q(finished_at__lte=F("due_at"))
    return rate(reported.aggregate(den=Count("id"), num=Count("id", filter=on_time)))


def redo_rate(scope: Scope) -> Figure:
    """Cases called back in the period, and of them those sent back to be redone (a dissatisfied callback, or
    a unit leader's opinion on a specially supervised case)."""
    events = CaseEvent.objects.filter(
        scope.handled_here("case_id"),
        Q(action="callback") | Q(action="supervision_opinion", to_status=CaseStatus.REDO),
        at__gte=scope.start,
        at__lt=scope.end,
    )
    return rate(
        events.aggregate(
            den=Count("case_id", distinct=True, filter=Q(action="callback")),
            num=Count("case_id", distinct=True, filter=Q(to_status=CaseStatus.REDO)),
        )
    )


def satisfaction(scope: Scope) -> Figure:
    callbacks = Callback.objects.filter(
        scope.handled_here("case_id"), created_at__gte=scope.start, created_at__lt=scope.end
    )
    return rate(callbacks.aggregate(den=Count("id"), num=Count("id", filter=Q(rating__in=SATISFIED_RATINGS))))


# --------------------------------------------------------------------------- calls


def _offered(scope: Scope) -> QuerySet[Call]:
    """Calls that reached a queue (asked for a person) in the period."""
    return Call.objects.filter(enqueued_at__gte=scope.start, enqueued_at__lt=scope.end)


def answer_rate(scope: Scope) -> Figure:
    if scope.unit is not None:
        return NOT_APPLICABLE
    return rate(
        _offered(scope).aggregate(den=Count("id"), num=Count("id", filter=Q(answered_at__isnull=False)))
    )


def service_level(seconds: int) -> Callable[[Scope], Figure]:
    def compute(scope: Scope) -> Figure:
        if scope.unit is not None:
            return NOT_APPLICABLE
        fast = QueueLog.objects.filter(
            call_id=OuterRef("pk"), event=QueueEvent.CONNECT, wait_ms__lte=seconds * 1000
        )
        calls = _offered(scope).annotate(fast=Exists(fast))
        return rate(calls.aggregate(den=Count("id"), num=Count("id", filter=Q(fast=True))))

    return compute


MEASURES: list[Measure] = [
    Measure(
        "intake_volume",
        _("受理量"),
        COUNT,
        _("统计期内登记的工单数（不含暂存），按来源渠道分列"),
        "cases_case",
        intake_volume,
    ),
    Measure(
        "answer_rate",
        _("接通率"),
        RATE,
        _("人工接通的呼叫数 ÷ 进入排队的呼叫数"),
        "telephony_call",
        answer_rate,
        unit_scoped=False,
    ),
    Measure(
        "service_level_15",
        _("15秒服务水平"),
        RATE,
        _("排队15秒内（含）接通的呼叫数 ÷ 进入排队的呼叫数"),
        "telephony_call, telephony_queuelog",
        service_level(15),
        unit_scoped=False,
    ),
    Measure(
        "service_level_20",
        _("20秒服务水平"),
        RATE,
        _("排队20秒内（含）接通的呼叫数 ÷ 进入排队的呼叫数"),
        "telephony_call, telephony_queuelog",
        service_level(20),
        unit_scoped=False,
    ),
    Measure(
        "first_contact_resolution",
        _("一次办结率"),
        RATE,
        _("受理时即解答归档的工单数 ÷ 受理的工单数（不含暂存、不予受理）"),
        "cases_case",
        first_contact_resolution,
        unit_scoped=False,
    ),
    Measure(
        "on_time_sign_for",
        _("按时签收率"),
        RATE,
        _(
            "签收时限内签收的交办数 ÷（已签收的交办数 + 超过签收时限仍未签收的交办数），按签收计时开始时间统计"
        ),
        "sla_clock, cases_assignment",
        on_time_sign_for,
    ),
    Measure(
        "on_time_completion",
        _("按期办结率"),
        RATE,
        _("办理时限内上报办结的交办数 ÷ 统计期内上报办结的交办数"),
        "cases_assignment",
        on_time_completion,
    ),
    Measure(
        "redo_rate",
        _("重办率"),
        RATE,
        _("回访后退回重办的工单数 ÷ 统计期内回访的工单数"),
        "cases_caseevent",
        redo_rate,
    ),
    Measure(
        "satisfaction",
        _("满意率"),
        RATE,
        _("（非常满意 + 满意 + 基本满意）的回访数 ÷ 统计期内回访总数（五级评价）"),
        "cases_callback",
        satisfaction,
    ),
]

# --------------------------------------------------------------------------- case reports (STAT-2)


def extensions(scope: Scope) -> Figure:
    """Extension requests made in the period by the scope's units, broken down by the office's ruling."""
    labels = dict(RequestStatus.choices)
    rows = (
        ExtensionRequest.objects.filter(
            scope.in_units("assignment__unit"), requested_at__gte=scope.start, requested_at__lt=scope.end
        )
        .values("status")
        .annotate(n=Count("id"))
        .order_by("status")
    )
    breakdown = [
        {"key": r["status"], "name": str(labels.get(r["status"], r["status"])), "n": r["n"]} for r in rows
    ]
    return Figure(value=sum(b["n"] for b in breakdown), breakdown=breakdown)


def average_of(seconds: int | float | None, count: int) -> Figure:
    total = int(seconds or 0)
    return Figure(value=round(total / count / 3600, 1) if count else None, numerator=total, denominator=count)


def handling_seconds(assignments: QuerySet[Assignment]) -> tuple[float, int]:
    """Sum of (reported − assigned) in seconds and the number of assignments, one query on every database."""
    from django.db.models import DurationField, ExpressionWrapper, Sum

    spent = ExpressionWrapper(F("finished_at") - F("assigned_at"), output_field=DurationField())
    row = assignments.aggregate(total=Sum(spent), n=Count("id"))
    total = row["total"]
    return (total.total_seconds() if total is not None else 0.0), int(row["n"] or 0)


def reported_assignments(scope: Scope) -> QuerySet[Assignment]:
    """Assignments (main or assisting) reported in the period by the scope's units."""
    return Assignment.objects.filter(
        scope.in_units(),
        status=AssignmentStatus.REPORTED,
        finished_at__gte=scope.start,
        finished_at__lt=scope.end,
    ).exclude(role=AssignmentRole.CC)


def average_handling_hours(scope: Scope) -> Figure:
    seconds, n = handling_seconds(reported_assignments(scope))
    return average_of(seconds, n)


MEASURES += [
    Measure(
        "extensions",
        _("延期申请数"),
        COUNT,
        _("统计期内承办单位提出的延期申请数，按热线办审核结果分列"),
        "cases_extensionrequest",
        extensions,
    ),
    Measure(
        "average_handling_hours",
        _("平均办理时长"),
        AVERAGE,
        _("统计期内上报办结的交办：（上报时间 − 交办时间）之和 ÷ 交办数，单位小时"),
        "cases_assignment",
        average_handling_hours,
    ),
]

REGISTRY: dict[str, Measure] = {m.key: m for m in MEASURES}


def measure(key: str) -> Measure:
    return REGISTRY[key]
