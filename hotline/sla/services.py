"""Deadlines: start, stop and move the clocks of a case. Called by the case services inside their transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from hotline.common import clock as wall_clock
from hotline.common.errors import ServiceError
from hotline.common.fastinsert import fast_insert
from hotline.common.formats import chinese_datetime
from hotline.common.refcache import RefCache

from . import calendar
from .models import UNIT_REPLY_STAGES as UNIT_REPLY_STAGES  # re-exported: cases counts late replies by it
from .models import (
    Alert,
    AlertKind,
    Clock,
    EscalationRule,
    LimitUnit,
    Stage,
    TimeLimit,
    Urge,
)

if TYPE_CHECKING:  # types only: at run time the case services pass their rows in
    from hotline.cases.models import Assignment, Case

# Rules are data edited rarely and read by every transition (see common/refcache.py for freshness).
TIME_LIMITS = RefCache(TimeLimit)
ESCALATION_RULES = RefCache(EscalationRule)


@dataclass(frozen=True)
class Deadline:
    due_at: dt.datetime
    warn_at: dt.datetime | None
    red_at: dt.datetime | None
    remind_at: dt.datetime | None
    max_due_at: dt.datetime | None


def time_limit_for(*, stage: str, case: Case) -> TimeLimit | None:
    """The most specific active rule for this stage: matching type, urgency and citizen level each count."""
    case_type_id = getattr(case, "case_type_id", None)
    urgency_id = getattr(case, "urgency_id", None)
    citizen = getattr(case, "citizen", None)
    level = getattr(citizen, "level", "") if citizen is not None else ""
    candidates = [
        rule
        for rule in TIME_LIMITS.all()
        if rule.stage == stage
        and rule.is_active
        and rule.case_type_id in (None, case_type_id)
        and rule.urgency_id in (None, urgency_id)
        and rule.citizen_level in ("", level)
    ]

    def specificity(rule: TimeLimit) -> tuple[int, int]:
        score = sum(1 for part in (rule.case_type_id, rule.urgency_id, rule.citizen_level) if part)
        return score, -rule.amount  # on a tie the shorter limit wins

    return max(candidates, key=specificity, default=None)


def reply_stage(assignment: Assignment) -> str:
    """The stage of a unit's deadline to report: `forwarded` for a step a unit forwarded down, else `reply`."""
    return Stage.FORWARDED if assignment.parent_id is not None else Stage.REPLY


def forwarded_due(*, case: Case, parent_due: dt.datetime | None, start: dt.datetime) -> dt.datetime | None:
    """The deadline of a step forwarded down (HND-2/3): the `forwarded` rule counted from now, never later
    than the deadline of the unit that forwarded it; without an active rule the lower level inherits it.
    Its clock runs as stage `forwarded`, warned and carded by that stage's own rules."""
    limit = time_limit_for(stage=Stage.FORWARDED, case=case)
    if limit is None:
        return parent_due
    own = add_limit(start, limit.amount, limit.unit)
    return min(own, parent_due) if parent_due is not None else own


def add_limit(start: dt.datetime, amount: int, unit: str) -> dt.datetime:
    cal = calendar.current()
    if unit == LimitUnit.WORKING_DAYS:
        return cal.shift_working_days(start, amount)
    if unit == LimitUnit.WORKING_HOURS:
        return cal.add_working_hours(start, amount)
    return start + dt.timedelta(hours=amount)


def _rules(stage: str) -> dict[str, EscalationRule]:
    return {r.kind: r for r in ESCALATION_RULES.all() if r.stage == stage and r.is_active}


def thresholds(
    *, stage: str, started_at: dt.datetime, due_at: dt.datetime
) -> tuple[dt.datetime | None, dt.datetime | None, dt.datetime | None]:
    """Warning, red-card and reminder times for a deadline, from the escalation rules."""
    cal = calendar.current()
    rules = _rules(stage)
    warn = (
        cal.shift_working_days(due_at, rules[AlertKind.WARNING].offset_days)
        if AlertKind.WARNING in rules
        else None
    )
    red = cal.shift_working_days(due_at, rules[AlertKind.RED].offset_days) if AlertKind.RED in rules else None
    remind = (
        started_at + dt.timedelta(days=rules[AlertKind.REMINDER].offset_days)
        if AlertKind.REMINDER in rules
        else None
    )
    if warn is not None and warn <= started_at:
        warn = None  # too short a limit for a warning before it
    if remind is not None and remind >= due_at:
        remind = None  # the warning comes first anyway
    return warn, red, remind


StepLimit = tuple[
    int, str
]  # (amount, LimitUnit): a flow template step's own limit, replacing the stage's rule


def deadline_for(
    *,
    stage: str,
    case: Case,
    start: dt.datetime,
    override_due: dt.datetime | None = None,
    step_limit: StepLimit | None = None,
) -> Deadline | None:
    """The deadline of a stage started at `start`: an explicit `override_due` first, then the limit of the case's
    flow template step (`step_limit`), then the most specific time-limit rule; None when none applies. Warnings
    and cards follow the stage's escalation rules whichever set the deadline."""
    limit = time_limit_for(stage=stage, case=case)
    if override_due is not None:
        due = override_due
    elif step_limit is not None:
        due = add_limit(start, step_limit[0], step_limit[1])
    elif limit is not None:
        due = add_limit(start, limit.amount, limit.unit)
    else:
        return None
    warn, red, remind = thresholds(stage=stage, started_at=start, due_at=due)
    max_due = calendar.current().shift_working_days(due, limit.max_extension_days) if limit else None
    return Deadline(due_at=due, warn_at=warn, red_at=red, remind_at=remind, max_due_at=max_due)


def next_alert_time(deadline: Deadline | Clock, skip: frozenset[str] = frozenset()) -> dt.datetime | None:
    moments = [
        (AlertKind.REMINDER, deadline.remind_at),
        (AlertKind.WARNING, deadline.warn_at),
        (AlertKind.YELLOW, deadline.due_at),
        (AlertKind.RED, deadline.red_at),
    ]
    return min((moment for kind, moment in moments if moment is not None and kind not in skip), default=None)


def clock_start(
    *,
    case: Case,
    stage: str,
    assignment: Assignment | None = None,
    start: dt.datetime | None = None,
    override_due: dt.datetime | None = None,
    max_due: dt.datetime | None = None,
    step_limit: StepLimit | None = None,
    unit_id: int | None = None,
) -> Clock | None:
    """Start the clock of a stage; None when no time limit applies to it. `max_due` replaces the rule's
    latest extension (a forwarded step may be extended up to the deadline of the unit above, no further);
    `step_limit` is the limit the case's flow template sets for the step it enters (it replaces the rule's).
    The clock's alerts go to the people of its unit — the assignment's, else `unit_id`, else the office."""
    start = start or wall_clock.now()
    deadline = deadline_for(
        stage=stage, case=case, start=start, override_due=override_due, step_limit=step_limit
    )
    if deadline is None:
        return None
    if max_due is not None:
        deadline = replace(deadline, max_due_at=max(max_due, deadline.due_at))
    clock = Clock(
        case=case,
        assignment=assignment,
        unit_id=assignment.unit_id if assignment is not None else unit_id,
        stage=stage,
        started_at=start,
        due_at=deadline.due_at,
        warn_at=deadline.warn_at,
        red_at=deadline.red_at,
        remind_at=deadline.remind_at,
        next_alert_at=next_alert_time(deadline),
        max_due_at=deadline.max_due_at,
    )
    # Clock.objects.create(...), its INSERT compiled once per process (a clock starts on every intake)
    fast_insert(clock)
    return clock


def clock_stop(
    *, case: Case | None = None, assignment: Assignment | None = None, stages: list[str] | None = None
) -> int:
    """Stop running clocks of a case or of one assignment (all stages unless named)."""
    qs = Clock.objects.filter(stopped_at__isnull=True)
    if assignment is not None:
        qs = qs.filter(assignment=assignment)
    elif case is not None:
        qs = qs.filter(case=case)
    else:
        raise ValueError("clock_stop needs a case or an assignment")
    if stages:
        qs = qs.filter(stage__in=stages)
    return qs.update(stopped_at=wall_clock.now(), next_alert_at=None)


def clock_stop_assignments(*, case: Case) -> int:
    """Stop every unit clock of a case (its assignments were cancelled or reassigned)."""
    return Clock.objects.filter(case=case, assignment__isnull=False, stopped_at__isnull=True).update(
        stopped_at=wall_clock.now(), next_alert_at=None
    )


def validate_extension(*, assignment: Assignment, new_due: dt.datetime) -> None:
    """An extension may not end in the past nor beyond the rule's maximum."""
    if new_due <= wall_clock.now():
        raise ServiceError(
            _("延期后的时限不能早于当前时间"),
            field_errors={"requested_due_at": [_("延期后的时限不能早于当前时间")]},
        )
    clock = running(assignment=assignment, stage=reply_stage(assignment))
    if clock is not None and clock.max_due_at is not None and new_due > clock.max_due_at:
        limit = {"limit": chinese_datetime(clock.max_due_at)}
        raise ServiceError(
            _("延期不能超过规定的最长期限（%(limit)s）") % limit,
            field_errors={"requested_due_at": [_("最晚可延至%(limit)s") % limit]},
        )


def running(*, assignment: Assignment, stage: str) -> Clock | None:
    return Clock.objects.filter(assignment=assignment, stage=stage, stopped_at__isnull=True).first()


def clock_extend(*, assignment: Assignment, stage: str, new_due: dt.datetime) -> Clock | None:
    """An approved extension stops the running clock and starts one for the new deadline.

    The old clock keeps the warnings and cards it raised (they stay in the ledger); the new one can warn
    and card again against the new deadline. A reminder already sent is not repeated.
    """
    old = running(assignment=assignment, stage=stage)
    if old is None:
        return None
    now = wall_clock.now()
    old.stopped_at, old.next_alert_at = now, None
    old.save(update_fields=["stopped_at", "next_alert_at"])
    warn, red, remind = thresholds(stage=stage, started_at=old.started_at, due_at=new_due)
    if old.alerts.filter(kind=AlertKind.REMINDER).exists():
        remind = None
    # A forwarded step moved with the unit above may now run up to that unit's new deadline.
    max_due = max(old.max_due_at, new_due) if old.max_due_at is not None else None
    deadline = Deadline(
        due_at=new_due,
        warn_at=warn if warn and warn > now else None,
        red_at=red,
        remind_at=remind,
        max_due_at=max_due,
    )
    return Clock.objects.create(
        case_id=old.case_id,
        assignment_id=old.assignment_id,
        unit_id=old.unit_id,
        stage=stage,
        started_at=old.started_at,
        due_at=new_due,
        warn_at=deadline.warn_at,
        red_at=red,
        remind_at=remind,
        next_alert_at=next_alert_time(deadline),
        max_due_at=max_due,
    )


# --------------------------------------------------------------------------- for the case package
# `cases` reaches sla through this module only: the clock calls above, the stages and alert kinds it names
# (`Stage`, `AlertKind`, imported above), the urge record, and the clock and alert rows its search filters and
# deadline columns read.


def urge_record(*, case: Case, assignment: Assignment, actor: Any, message: str, at: dt.datetime) -> Urge:
    """催办: one row per unit pressed (the case service writes the timeline event in the same transaction)."""
    return Urge.objects.create(case=case, assignment=assignment, actor=actor, message=message, created_at=at)


def clock_rows() -> QuerySet[Clock]:
    """Every clock, unscoped: the case selectors join them to cases already scoped."""
    return Clock.objects.all()


def alert_rows() -> QuerySet[Alert]:
    """Every alert (warning, card, reminder), unscoped: the case selectors join them to cases already scoped."""
    return Alert.objects.all()
