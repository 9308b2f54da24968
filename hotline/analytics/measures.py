"""The measures: each defined once (key, name, the formula shown to users, the query that computes it).

Every figure is one aggregate query over the platform's own tables for a `Scope` (a period and, for a unit, its
subtree); no rows are read into Python. A rate is a numerator over a denominator, both returned, so a reader can
check it; a rate over nothing is `None` (shown "—"), never 0 or 100.

Unit scope: a case counts for a unit when the unit or one of its sub-units was given it to handle (main or
assisting; a copy does not count). Figures with no unit side (calls, intake at the hotline) are not applicable to
a unit scope.
"""

from __future__ import annotations

import collections
import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Avg, Count, DurationField, Exists, ExpressionWrapper, F, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from hotline.cases.models import (
    OPEN_ASSIGNMENT_STATUSES,
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
from hotline.cases.selectors import OPEN_STATUSES, overdue_q, timezone_midnight
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
    subtree: bool = True  # False: the unit itself only (a unit's own work on the home page)

    def in_units(self, field: str = "unit") -> Q:
        if self.unit is None:
            return Q()
        if not self.subtree:
            return Q(**{f"{field}_id": self.unit.pk})
        # The subtree's ids, read once (the unit table is small): a join to the unit table on a path prefix
        # inside a per-case EXISTS cost seconds at 1,000,000 cases (bench/screen_bench.py), the id list a tenth.
        return Q(**{f"{field}_id__in": self.subtree_ids()})

    def subtree_ids(self) -> list[int]:
        assert self.unit is not None
        return list(Unit.objects.filter(path__startswith=self.unit.path).values_list("pk", flat=True))

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


def _intake_by(scope: Scope, field: str) -> dict[Any, int]:
    """The intake volume's cases counted by one case field: from the daily facts for the days before today
    when they hold the scope (analytics/facts), else (and for today) directly."""
    from .facts import read

    def live(s: Scope) -> dict[tuple[Any, ...], tuple[Any, int]]:
        rows = _intake(s).values(field).annotate(n=Count("id")).order_by()
        return {(r[field],): (0, r["n"]) for r in rows}

    got = read.counts(scope, (field,), live=live)
    return {k[0]: den for k, (_num, den) in (live(scope) if got is None else got).items() if den}


def intake_volume(scope: Scope) -> Figure:
    return intake_by_channel_figure(_intake_by(scope, "channel"))


def intake_by_channel_figure(by_channel: dict[Any, int]) -> Figure:
    """The intake volume's figure from its counts per channel (also the big screen's one grouped query)."""
    labels = dict(Channel.choices)
    rows = sorted(((k, n) for k, n in by_channel.items() if n), key=lambda kv: (-kv[1], kv[0]))
    breakdown = [{"key": k, "name": str(labels.get(k, k)), "n": n} for k, n in rows]
    return Figure(value=sum(b["n"] for b in breakdown), breakdown=breakdown)


def first_contact_resolution(scope: Scope) -> Figure:
    if scope.unit is not None:
        return NOT_APPLICABLE
    from .facts import read

    def live(s: Scope) -> dict[tuple[Any, ...], tuple[Any, int]]:
        accepted = _intake(s).exclude(status__in=NOT_ACCEPTED)
        row = accepted.aggregate(den=Count("id"), num=Count("id", filter=Q(close_kind=CloseKind.ANSWERED)))
        return {(): (row["num"] or 0, row["den"] or 0)}

    got = read.counts(scope, (), fcr=True, live=live)
    num, den = (live(scope) if got is None else got).get((), (0, 0))
    return rate({"num": num, "den": den})


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


def callback_rows(scope: Scope) -> QuerySet[Callback]:
    """Callbacks made in the period on cases the scope handled."""
    return Callback.objects.filter(
        scope.handled_here("case_id"), created_at__gte=scope.start, created_at__lt=scope.end
    )


def satisfaction(scope: Scope) -> Figure:
    return rate(
        callback_rows(scope).aggregate(
            den=Count("id"), num=Count("id", filter=Q(rating__in=SATISFIED_RATINGS))
        )
    )


# The other two of the callback's "three rates": each over the callbacks of the period that recorded the answer
# (a citizen's own rating by SMS digit or on the portal, and callbacks from before the question was asked, record
# none: they are outside the denominator, not counted as "no").
RESPONDED = "yes"
SOLVED = "solved"


def responded_rows(scope: Scope) -> QuerySet[Callback]:
    """Callbacks of the period, on cases the scope handled, that recorded whether the unit contacted the
    citizen."""
    return callback_rows(scope).exclude(responded="")


def solution_rows(scope: Scope) -> QuerySet[Callback]:
    """The same callbacks that recorded whether the problem was solved."""
    return callback_rows(scope).exclude(solution="")


def response_rate(scope: Scope) -> Figure:
    return rate(
        responded_rows(scope).aggregate(den=Count("id"), num=Count("id", filter=Q(responded=RESPONDED)))
    )


def solution_rate(scope: Scope) -> Figure:
    return rate(solution_rows(scope).aggregate(den=Count("id"), num=Count("id", filter=Q(solution=SOLVED))))


def redispatch_rows(scope: Scope) -> QuerySet[Assignment]:
    """The office's dispatches to the scope's units in the period: top-level main assignments (a dispatch
    round's main unit, also a serial step's later main unit; not a unit's own forwarding down, not assisting
    units or copies), by the time they were made."""
    return Assignment.objects.filter(
        scope.in_units(),
        parent__isnull=True,
        role=AssignmentRole.MAIN,
        assigned_at__gte=scope.start,
        assigned_at__lt=scope.end,
    )


# A dispatch had to be made again when its case has a later dispatch round. Only the office's re-dispatches open
# a round (`cases/services/office._dispatch`: 改派 REASSIGN, 同意退件并改派 APPROVE_RETURN; the first DISPATCH is
# only from "submitted", to which a dispatched case never returns); a redo after a callback, a unit's forwarding
# down or sending back, a rejected return reuse the round.
REDISPATCHED = Q(case__dispatch_round__gt=F("round"))


def redispatch_rate(scope: Scope) -> Figure:
    """Dispatches (main, top level) to the scope's units made in the period, and of them those whose case was
    later dispatched again by the office. A case dispatched to the unit twice counts twice."""
    return rate(redispatch_rows(scope).aggregate(den=Count("id"), num=Count("id", filter=REDISPATCHED)))


# --------------------------------------------------------------------------- calls


MAX_SELF_SERVICE = dt.timedelta(hours=12)


def _offered(scope: Scope) -> QuerySet[Call]:
    """Calls that reached a queue (asked for a person) in the period. The bound on the start (indexed; a call
    is in self-service minutes, never 12 hours) spares a scan of every call for `enqueued_at` (not indexed)."""
    return Call.objects.filter(
        enqueued_at__gte=scope.start,
        enqueued_at__lt=scope.end,
        started_at__gte=scope.start - MAX_SELF_SERVICE,
        started_at__lt=scope.end,
    )


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
    Measure(
        "response_rate",
        _("响应率"),
        RATE,
        _(
            "回访中市民表示承办单位已与其联系的回访数 ÷ 统计期内记录了联系情况的回访数（市民自行评价未记录，不计）"
        ),
        "cases_callback",
        response_rate,
    ),
    Measure(
        "solution_rate",
        _("解决率"),
        RATE,
        _(
            "回访中市民表示问题已解决的回访数 ÷ 统计期内记录了解决情况的回访数"
            "（部分解决、未解决计入分母；市民自行评价未记录，不计）"
        ),
        "cases_callback",
        solution_rate,
    ),
    Measure(
        "redispatch_rate",
        _("改派率"),
        RATE,
        _(
            "统计期内热线办派给本单位（含下级）主办的派单中，此后经退件改派或直接改派重新派单的派单数 ÷ "
            "这些派单数（按派单时间统计；同一工单两次派给本单位计两次）"
        ),
        "cases_assignment, cases_case",
        redispatch_rate,
    ),
]

# --------------------------------------------------------------------------- live: the state now (boards, home)
# These read the state at `scope.now` (open work, deadlines); only "closed" and "intake today" use the period.


def _open_here(scope: Scope) -> QuerySet[Case]:
    return Case.objects.filter(scope.handled_here(), status__in=OPEN_STATUSES)


def _prefixed(q: Q, prefix: str) -> Q:
    """The same condition on a related case (`case__...`): one definition for cases and assignments. Plain
    lookups only: a condition with a subquery takes the prefix itself (`overdue_q(now, prefix="case__")`)."""
    out = Q()
    out.connector, out.negated = q.connector, q.negated
    for child in q.children:
        if isinstance(child, Q):
            out.children.append(_prefixed(child, prefix))
        else:
            if not isinstance(child, tuple):
                raise TypeError(f"cannot prefix {child!r}: build the condition with its prefix")
            key, value = child
            out.children.append((prefix + key, value))
    return out


def _local_day(now: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    midnight = timezone_midnight(now)
    return midnight, midnight + dt.timedelta(days=1)


def _due_today_q(now: dt.datetime) -> Q:
    return Q(due_at__gte=now, due_at__lt=_local_day(now)[1])


def open_cases(scope: Scope) -> Figure:
    return Figure(value=_open_here(scope).count())


def overdue_cases(scope: Scope) -> Figure:
    return Figure(value=_open_here(scope).filter(overdue_q(scope.now)).count())


def due_today(scope: Scope) -> Figure:
    return Figure(value=_open_here(scope).filter(_due_today_q(scope.now)).count())


def closed_cases(scope: Scope) -> Figure:
    return Figure(
        value=Case.objects.filter(
            scope.handled_here(),
            status=CaseStatus.CLOSED,
            closed_at__gte=scope.start,
            closed_at__lt=scope.end,
        ).count()
    )


def open_by_unit(scope: Scope) -> Figure:
    """Per unit of the scope's subtree: its open cases (given to it, not copied), due later today, overdue now.
    A case given to two units counts once for each; the value is the number of units with open work."""
    rows = (
        Assignment.objects.filter(
            scope.in_units(), status__in=OPEN_ASSIGNMENT_STATUSES, case__status__in=OPEN_STATUSES
        )
        .exclude(role=AssignmentRole.CC)
        .values("unit_id", "unit__name")
        .annotate(
            open=Count("case_id", distinct=True),
            due_today=Count("case_id", distinct=True, filter=_prefixed(_due_today_q(scope.now), "case__")),
            overdue=Count("case_id", distinct=True, filter=overdue_q(scope.now, prefix="case__")),
        )
        .order_by("-overdue", "-open", "unit__name")
    )
    breakdown = [
        {
            "key": r["unit_id"],
            "name": r["unit__name"],
            "n": r["open"],
            "due_today": r["due_today"],
            "overdue": r["overdue"],
        }
        for r in rows
    ]
    return Figure(value=len(breakdown), breakdown=breakdown)


def _running_late(now: dt.datetime) -> Exists:
    return Exists(Clock.objects.filter(assignment_id=OuterRef("pk"), stopped_at__isnull=True, due_at__lt=now))


def assignments_to_sign(scope: Scope) -> Figure:
    return Figure(value=Assignment.objects.filter(scope.in_units(), status=AssignmentStatus.PENDING).count())


def assignments_handling(scope: Scope) -> Figure:
    return Figure(
        value=Assignment.objects.filter(
            scope.in_units(), status__in=[AssignmentStatus.HANDLING, AssignmentStatus.FORWARDED]
        ).count()
    )


def assignments_overdue(scope: Scope) -> Figure:
    """Open assignments with a running deadline (sign-for, reply) already passed."""
    return Figure(
        value=Assignment.objects.filter(scope.in_units(), status__in=OPEN_ASSIGNMENT_STATUSES)
        .filter(_running_late(scope.now))
        .count()
    )


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, dt.timedelta):
        return round(value.total_seconds(), 1)
    return round(float(value) / 1000, 1)  # milliseconds


def average_wait(scope: Scope) -> Figure:
    """Seconds callers waited in a queue before a person answered (connect events of the period), by queue."""
    if scope.unit is not None:
        return NOT_APPLICABLE
    events = QueueLog.objects.filter(event=QueueEvent.CONNECT, at__gte=scope.start, at__lt=scope.end)
    rows = events.values("queue_id").annotate(avg=Avg("wait_ms"), n=Count("id")).order_by("queue_id")
    total = events.aggregate(avg=Avg("wait_ms"), n=Count("id"))
    return Figure(
        value=_seconds(total["avg"]),
        denominator=total["n"],
        breakdown=[{"key": r["queue_id"], "n": r["n"], "seconds": _seconds(r["avg"])} for r in rows],
    )


def average_talk(scope: Scope) -> Figure:
    """Seconds from a person answering to the end of the call, over calls answered and ended in the period,
    by queue."""
    if scope.unit is not None:
        return NOT_APPLICABLE
    talk = ExpressionWrapper(F("ended_at") - F("answered_at"), output_field=DurationField())
    calls = Call.objects.filter(
        answered_at__isnull=False, ended_at__isnull=False, ended_at__gte=scope.start, ended_at__lt=scope.end
    )
    rows = calls.values("queue_id").annotate(avg=Avg(talk), n=Count("id")).order_by("queue_id")
    total = calls.aggregate(avg=Avg(talk), n=Count("id"))
    return Figure(
        value=_seconds(total["avg"]),
        denominator=total["n"],
        breakdown=[{"key": r["queue_id"], "n": r["n"], "seconds": _seconds(r["avg"])} for r in rows],
    )


def intake_by_type(scope: Scope) -> Figure:
    """The intake volume (same cases as `intake_volume`) by request type."""
    return intake_by_type_figure(_intake_by(scope, "case_type_id"))


def intake_by_type_figure(by_id: dict[Any, int]) -> Figure:
    """The intake by type's figure from its counts per type id (also the big screen's one grouped query)."""
    from hotline.common.models import DictItem

    by_id = {k: n for k, n in by_id.items() if n}
    items = {i.pk: i for i in DictItem.objects.filter(pk__in=list(by_id))}
    rows = sorted(
        ((items[pk].code, items[pk].name, n) for pk, n in by_id.items() if pk in items),
        key=lambda r: (-r[2], r[0]),
    )
    breakdown: list[dict[str, Any]] = [{"key": code, "name": name, "n": n} for code, name, n in rows]
    return Figure(value=sum(n for _c, _n, n in rows), breakdown=breakdown)


KEYWORD_SEPARATORS = re.compile(r"[\s,，、;；/|]+")
HOT_TOPICS = 10


def hot_topics(scope: Scope) -> Figure:
    """The keywords given most often to the period's intake (each case counts a keyword once), top ten."""
    counts: collections.Counter[str] = collections.Counter()
    for words in _intake(scope).exclude(keywords="").values_list("keywords", flat=True).iterator():
        counts.update({w for w in KEYWORD_SEPARATORS.split(words) if w})
    breakdown = [{"key": w, "name": w, "n": n} for w, n in counts.most_common(HOT_TOPICS)]
    return Figure(value=len(counts), breakdown=breakdown)


LIVE_MEASURES: list[Measure] = [
    Measure(
        "open_cases", _("在办工单"), COUNT, _("当前未办结的工单数（不含暂存）"), "cases_case", open_cases
    ),
    Measure(
        "overdue_cases",
        _("超期工单"),
        COUNT,
        _("在办工单中曾超期（亮黄牌）或已过办理时限仍在承办单位的工单数"),
        "cases_case",
        overdue_cases,
    ),
    Measure(
        "due_today",
        _("今日到期"),
        COUNT,
        _("在办工单中办理时限在此刻至今日24时之间的工单数"),
        "cases_case",
        due_today,
    ),
    Measure(
        "closed_cases", _("办结工单"), COUNT, _("统计期内办结（归档）的工单数"), "cases_case", closed_cases
    ),
    Measure(
        "open_by_unit",
        _("单位在办"),
        COUNT,
        _("按承办单位（主办、协办，不含抄送）列出在办、今日到期、超期工单数"),
        "cases_assignment, cases_case",
        open_by_unit,
    ),
    Measure(
        "assignments_to_sign",
        _("待签收"),
        COUNT,
        _("状态为待签收的交办数"),
        "cases_assignment",
        assignments_to_sign,
    ),
    Measure(
        "assignments_handling",
        _("办理中"),
        COUNT,
        _("状态为办理中（含转办中）的交办数"),
        "cases_assignment",
        assignments_handling,
    ),
    Measure(
        "assignments_overdue",
        _("已超期交办"),
        COUNT,
        _("未完成的交办中，正在计时的签收或办理时限已过的交办数"),
        "cases_assignment, sla_clock",
        assignments_overdue,
    ),
    Measure(
        "intake_by_type",
        _("受理量（按诉求类型）"),
        COUNT,
        _("统计期内登记的工单数（不含暂存），按诉求类型分列"),
        "cases_case",
        intake_by_type,
    ),
    Measure(
        "hot_topics",
        _("热点诉求"),
        COUNT,
        _("统计期内登记工单的关键词，按出现的工单数排列前十（数值为不同关键词数）"),
        "cases_case",
        hot_topics,
    ),
    Measure(
        "average_wait",
        _("平均排队时长"),
        COUNT,
        _("统计期内人工接通呼叫的排队等待秒数之和 ÷ 人工接通呼叫数"),
        "telephony_queuelog",
        average_wait,
        unit_scoped=False,
    ),
    Measure(
        "average_talk",
        _("平均通话时长"),
        COUNT,
        _("统计期内结束的人工接通呼叫，从人工应答到挂机的秒数之和 ÷ 这些呼叫数"),
        "telephony_call",
        average_talk,
        unit_scoped=False,
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


# the deadline sweep's alerts to a unit (cases/lifecycle.py: SLA_WARNING, SLA_YELLOW, SLA_RED), in this order
SLA_ALERTS = ("sla_warning", "sla_yellow", "sla_red")


def sla_alert_rows(scope: Scope) -> QuerySet[CaseEvent]:
    """The warnings, yellow and red cards the deadline sweep gave the scope's units in the period (the event's
    unit is the unit whose clock ran late)."""
    return CaseEvent.objects.filter(
        scope.in_units("unit"), action__in=SLA_ALERTS, at__gte=scope.start, at__lt=scope.end
    )


def sla_alerts(scope: Scope) -> Figure:
    """KPI-2's "warnings received": the sweep's alerts to the scope's units, broken down by kind."""
    from hotline.cases.lifecycle import Action

    labels = dict(Action.choices)
    got: dict[str, int] = dict(
        sla_alert_rows(scope).values("action").annotate(n=Count("id")).values_list("action", "n")
    )
    breakdown: list[dict[str, Any]] = [
        {"key": k, "name": str(labels.get(k, k)), "n": got.get(k, 0)} for k in SLA_ALERTS
    ]
    return Figure(value=sum(got.get(k, 0) for k in SLA_ALERTS), breakdown=breakdown)


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
        "sla_alerts",
        _("时限预警与黄红牌"),
        COUNT,
        _("统计期内时限巡检对本单位（含下级）发出的预警、黄牌、红牌次数，分项列出（工单流转记录）"),
        "cases_caseevent",
        sla_alerts,
    ),
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

REGISTRY: dict[str, Measure] = {m.key: m for m in MEASURES + LIVE_MEASURES}


def measure(key: str) -> Measure:
    return REGISTRY[key]
