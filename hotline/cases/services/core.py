"""The core every case write shares: the version bump, timeline events, transitions, clocks, common checks."""

from __future__ import annotations

import contextlib
import contextvars
import datetime as dt
import secrets
from collections.abc import Iterator
from typing import Any

from django.db import DatabaseError, connection
from django.db.models import F
from django.db.models.signals import post_save
from django.utils.translation import gettext as _

from hotline.common import clock
from hotline.common.audit import audit_row, audit_write
from hotline.common.errors import Conflict, NotAllowed, ServiceError
from hotline.common.fastinsert import fast_insert_many
from hotline.common.models import AuditLog, DictItem, DictKind
from hotline.common.refcache import RefCache
from hotline.orgs.models import User
from hotline.sla import services as sla
from hotline.sla.services import Stage

from .. import flowhooks, lifecycle
from ..events import emit_on_commit, has_queued_receivers
from ..lifecycle import Action
from ..models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Case,
    CaseEvent,
    CaseNumberCounter,
    CaseStatus,
    Channel,
    ExtendedField,
)

MIN_STAFF_CONTENT_LENGTH = 50
EXTENDED_FIELDS = RefCache(ExtendedField)
STAFF_CHANNELS = frozenset({Channel.PHONE, Channel.VOICEMAIL, Channel.POLICE_110, Channel.OTHER_HOTLINE})
INTAKE_ACTIONS = frozenset({Action.SAVE_DRAFT, Action.SUBMIT, Action.ARCHIVE, Action.PROPOSE_NOT_ACCEPTED})


# --------------------------------------------------------------------------- helpers


def _fail(field: str, message: str) -> ServiceError:
    return ServiceError(message, field_errors={field: [message]})


def _bump(case: Case, *, expected_version: int | None, to_status: str | None, **updates: Any) -> None:
    """Conditionally move the case on; refuse if anyone changed it since `expected_version`."""
    expected = case.version if expected_version is None else expected_version
    if expected != case.version:
        raise Conflict(_("工单已被他人更新，请刷新后重试"))
    if to_status:
        updates["status"] = to_status
    changed = Case.objects.filter(pk=case.pk, version=expected, status=case.status).update(
        version=F("version") + 1, **updates
    )
    if changed != 1:
        raise Conflict(_("工单已被他人更新，请刷新后重试"))
    for name, value in updates.items():
        setattr(case, name, value)
    case.version = expected + 1


def _event(
    case: Case,
    *,
    actor: User | None,
    action: str,
    from_status: str,
    assignment: Assignment | None = None,
    opinion: str = "",
    data: dict[str, Any] | None = None,
) -> CaseEvent:
    event = CaseEvent(
        case=case,
        at=clock.now(),
        actor=actor,
        unit_id=actor.unit_id if actor else None,
        assignment=assignment,
        action=action,
        from_status=from_status,
        to_status=case.status,
        opinion=opinion,
        data=data or {},
        queued=has_queued_receivers(),
    )
    audit = audit_row(actor=actor, action="update", obj=case, summary=f"{case.number} {Action(action).label}")
    batch = _event_batch.get()
    if batch is not None:  # written together when the batch ends (`_events_together`)
        batch.append((event, audit))
        return event
    event.save()
    audit.save()
    emit_on_commit(event)
    return event


_event_batch: contextvars.ContextVar[list[tuple[CaseEvent, AuditLog]] | None] = contextvars.ContextVar(
    "case_event_batch", default=None
)


@contextlib.contextmanager
def _events_together() -> Iterator[None]:
    """The timeline events (and their audit rows) `_event` writes inside the block are inserted together at its
    end, two statements in all, in the order they were made; each still gets its `post_save` (as `create()` sends
    it) and its `case_transitioned` after commit. Nothing inside the block may read them back from the database.
    Call inside a transaction."""
    batch: list[tuple[CaseEvent, AuditLog]] = []
    token = _event_batch.set(batch)
    try:
        yield
    finally:
        _event_batch.reset(token)
    if not batch:
        return
    events = [event for event, _audit in batch]
    fast_insert_many(events)  # CaseEvent.objects.bulk_create(events), its SQL compiled once per process
    audit_write([audit for _event, audit in batch])
    for event in events:
        post_save.send(
            sender=CaseEvent,
            instance=event,
            created=True,
            update_fields=None,
            raw=False,
            using=event._state.db,
        )
        emit_on_commit(event)


def _transition(
    case: Case,
    action: str,
    *,
    actor: User,
    expected_version: int | None,
    to_status: str | None = None,
    assignment: Assignment | None = None,
    opinion: str = "",
    data: dict[str, Any] | None = None,
    **updates: Any,
) -> CaseEvent:
    """Check the lifecycle table, move the case, write the timeline event. Call inside a transaction."""
    if expected_version is not None and expected_version != case.version:
        # The user acted on an old view of the case: say so before judging the action against today's state.
        raise Conflict(_("工单已被他人更新，请刷新后重试"))
    transition = lifecycle.check(
        action, case=case, user=actor, target=to_status or lifecycle.TRANSITIONS[action].target
    )
    target = to_status or transition.target
    if target is not None and target not in transition.targets():
        raise AssertionError(f"{action} cannot lead to {target}")  # a programming error, not user input
    from_status = case.status
    _bump(case, expected_version=expected_version, to_status=target, **updates)
    _clocks_on_transition(case, from_status)
    return _event(
        case,
        actor=actor,
        action=action,
        from_status=from_status,
        assignment=assignment,
        opinion=opinion,
        data=data,
    )


@contextlib.contextmanager
def _seen_as(case: Case, before: dict[str, Any]) -> Iterator[None]:
    """Inside the block the in-memory case shows the values of `before` (what it held before its first
    transition, see `_transition_inserted`); at its end it shows its row again."""
    after = {name: getattr(case, name) for name in before}
    for name, value in before.items():
        setattr(case, name, value)
    try:
        yield
    finally:
        for name, value in after.items():
            setattr(case, name, value)


def _transition_inserted(
    case: Case, action: str, *, actor: User, before: dict[str, Any], opinion: str = ""
) -> CaseEvent:
    """`_transition` for a case whose row was inserted already moved by `action` (issue 12: the intake's submit
    is one insert, not a draft insert and an update writing every index of the case table twice).

    `before` holds what the action changed (status, version and the action's fields) as they were before it: the
    lifecycle (and the case's flow template) judge the action on the case seen in that state, exactly as
    `_transition` would have, and the timeline event goes from that status. Call inside the transaction that
    inserted the case, before anything else reads it back."""
    from_status, target = before["status"], case.status
    with _seen_as(case, before):
        transition = lifecycle.check(action, case=case, user=actor, target=target)
    if target not in transition.targets():
        raise AssertionError(f"{action} cannot lead to {target}")  # a programming error, not user input
    _clocks_on_transition(case, from_status)
    return _event(case, actor=actor, action=action, from_status=from_status, opinion=opinion)


# Statuses in which a flow template step's own limit runs as a case-level `step` clock: the case waits for the
# office, a leader or a supervising leader. The units' statuses give their limit to each unit's reply deadline,
# the callback to the callback clock; a draft has no clocks.
STEP_CLOCK_STATUSES = (
    frozenset(CaseStatus.values)
    - lifecycle.FINISHED_STATUSES
    - lifecycle.IN_UNITS
    - {
        CaseStatus.DRAFT,
        CaseStatus.CALLBACK,
    }
)
_SLA_UNIT = {
    flowhooks.LIMIT_WORKDAYS: sla.LimitUnit.WORKING_DAYS,
    flowhooks.LIMIT_HOURS: sla.LimitUnit.WORKING_HOURS,
}


def _step_limit(step: flowhooks.StepInfo | None) -> sla.StepLimit | None:
    """A template step's time limit as the sla clocks take it (working days or working hours), None without."""
    if step is None or not step.limit_amount:
        return None
    return step.limit_amount, _SLA_UNIT.get(step.limit_unit, sla.LimitUnit.WORKING_DAYS)


def _clocks_on_transition(case: Case, from_status: str) -> None:
    """Case-level deadlines follow the status: the total clock runs from submission to the end, the callback
    clock while the case waits for its callback, and — for a case on a flow template — a `step` clock while it
    waits at a step that has its own time limit (from entering the step to leaving it). A template step's limit
    replaces the stage's rule; a case without a template keeps the rules."""
    to_status = case.status
    if to_status == from_status:
        return
    if to_status in lifecycle.FINISHED_STATUSES:
        sla.clock_stop(case=case)
        return
    if from_status == CaseStatus.CALLBACK:
        sla.clock_stop(case=case, stages=[Stage.CALLBACK])
    if to_status == CaseStatus.CALLBACK:
        sla.clock_start(
            case=case, stage=Stage.CALLBACK, step_limit=_step_limit(flowhooks.step(case, CaseStatus.CALLBACK))
        )
    before = flowhooks.step(case, from_status) if from_status in STEP_CLOCK_STATUSES else None
    after = flowhooks.step(case, to_status) if to_status in STEP_CLOCK_STATUSES else None
    if before is None or after is None or before.code != after.code:
        if _step_limit(before) is not None:
            sla.clock_stop(case=case, stages=[Stage.STEP])
        limit = _step_limit(after)
        if limit is not None:
            unit_id = case.main_unit_id if to_status in UNIT_STEP_STATUSES else None  # None: the office's
            sla.clock_start(case=case, stage=Stage.STEP, step_limit=limit, unit_id=unit_id)
    # A draft never had a total clock (it starts at the first submission): no need to look for one.
    if to_status == CaseStatus.SUBMITTED and (
        from_status == CaseStatus.DRAFT or not case.clocks.filter(stage=Stage.TOTAL).exists()
    ):
        sla.clock_start(case=case, stage=Stage.TOTAL, start=case.submitted_at or clock.now())


# Case-level statuses at which the main unit, not the office, must act: a step clock there is the main unit's, and
# the sla rules' roles pick its people — for special supervision its leaders, who must give their opinion before
# the unit redoes the case.
UNIT_STEP_STATUSES = frozenset({CaseStatus.SPECIAL_SUPERVISION})


def _start_unit_clocks(assignment: Assignment, *, due_at: dt.datetime | None = None) -> None:
    """A unit's sign-for and reply deadlines; the reply deadline is mirrored on the assignment for worklists.

    A step forwarded down runs its own stage (`forwarded`): its own limit, never beyond the deadline of the unit
    above (which is also as far as it may be extended), warned and carded by that stage's rules. A unit the
    office sends work to gets the time limit of the case's flow template step (for parallel branches, the branch
    of its unit level) in place of the `reply` rule; a deadline the dispatcher set comes first."""
    case = assignment.case
    if assignment.status == AssignmentStatus.PENDING:
        sla.clock_start(case=case, assignment=assignment, stage=Stage.SIGN_FOR, start=assignment.assigned_at)
    stage, parent_due = sla.reply_stage(assignment), None
    if stage == Stage.FORWARDED:
        parent_due = assignment.parent.due_at if assignment.parent else None
        if due_at is None:
            due_at = sla.forwarded_due(case=case, parent_due=parent_due, start=clock.now())
    limit = None
    if stage == Stage.REPLY and due_at is None and case.status in lifecycle.IN_UNITS:
        limit = _step_limit(flowhooks.step(case, case.status, unit_kind=assignment.unit.kind))
    reply = sla.clock_start(
        case=case,
        assignment=assignment,
        stage=stage,
        override_due=due_at,
        max_due=parent_due,
        step_limit=limit,
    )
    assignment.due_at = reply.due_at if reply else None
    assignment.warn_at = reply.warn_at if reply else None
    assignment.save(update_fields=["due_at", "warn_at"])


def _require_text(field: str, value: str, label: str) -> str:
    """The stripped text, or a refusal naming the field by its (translated) `label`."""
    value = (value or "").strip()
    if not value:
        raise _fail(field, _("请填写%(label)s") % {"label": label})
    return value


def _dict_item(field: str, value: DictItem | None, kind: str, *, required: bool = False) -> DictItem | None:
    if value is None:
        if required:
            raise _fail(field, _("请选择%(kind)s") % {"kind": DictKind(kind).label})
        return None
    if value.kind != kind or not value.is_active:
        raise _fail(field, _("%(kind)s无效") % {"kind": DictKind(kind).label})
    return value


def _reload(assignment: Assignment) -> Assignment:
    return Assignment.objects.select_related("unit", "case").get(pk=assignment.pk)


def _require_own(assignment: Assignment, actor: User) -> None:
    if actor.unit_id != assignment.unit_id:
        raise NotAllowed(_("该工单未交办给您的单位，不能操作"))


def _require_status(assignment: Assignment, *statuses: str, doing: str) -> None:
    """Refuse unless the unit's step is in one of `statuses`; `doing` names the action (translated)."""
    if assignment.status not in statuses:
        status = AssignmentStatus(assignment.status).label
        raise ServiceError(
            _("本单位环节当前为“%(status)s”，不能%(doing)s") % {"status": status, "doing": doing},
            code="bad_status",
        )


def _finish(assignment: Assignment, status: str, **fields: Any) -> None:
    assignment.status = status
    assignment.finished_at = clock.now()
    for name, value in fields.items():
        setattr(assignment, name, value)
    assignment.save(update_fields=["status", "finished_at", *fields])
    sla.clock_stop(assignment=assignment)


def _reopen(assignment: Assignment, *, fresh_deadline: bool = False) -> None:
    """Back to work. The unit keeps its deadline if it is still ahead, else (or on a redo) gets a new one."""
    assignment.status = AssignmentStatus.HANDLING if assignment.signed_at else AssignmentStatus.PENDING
    assignment.finished_at = None
    assignment.save(update_fields=["status", "finished_at"])
    if sla.running(assignment=assignment, stage=sla.reply_stage(assignment)) is None:
        keep = assignment.due_at if assignment.due_at and assignment.due_at > clock.now() else None
        _start_unit_clocks(assignment, due_at=None if fresh_deadline else keep)


def next_case_number(day: dt.date) -> str:
    """YYYYMMDD + 6-digit daily sequence.

    On PostgreSQL one sequence per day (`cases_number_YYYYMMDD`): `nextval` locks nothing until commit, so
    concurrent intakes no longer queue behind one counter row held to the end of each transaction (issue 12).
    A number taken by an intake that then fails is not reused: numbers are unique and increasing, not gap-free.
    On SQLite (one writer at a time anyway) the `CaseNumberCounter` row is upserted in one statement.
    """
    if connection.vendor == "postgresql":
        last = _next_from_sequence(day)
    else:
        table = connection.ops.quote_name(CaseNumberCounter._meta.db_table)
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {table} (day, last) VALUES (%s, 1) "
                f"ON CONFLICT (day) DO UPDATE SET last = {table}.last + 1 RETURNING last",
                [day],
            )
            (last,) = cursor.fetchone()
    return f"{day:%Y%m%d}{last:06d}"


NUMBER_SEQUENCE_PREFIX = "cases_number_"
# Days whose sequence exists (committed): the common case costs one `nextval`.
_number_sequences: set[str] = set()


def _next_from_sequence(day: dt.date) -> int:
    name = f"{NUMBER_SEQUENCE_PREFIX}{day:%Y%m%d}"
    if name not in _number_sequences:
        _ensure_number_sequence(day, name)
        _number_sequences.add(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(%s)", [name])
        (last,) = cursor.fetchone()
    return int(last)


def _ensure_number_sequence(day: dt.date, name: str) -> None:
    """Create the day's sequence if no one has, once per process and day, on a connection of its own in autocommit
    mode: the sequence is committed at once, whatever becomes of the intake's transaction. It starts after the
    day's counter row (numbers given before the switch to sequences) and after any number of that day on a case."""
    from django.db import connections

    own = connections.create_connection(connection.alias)
    try:
        with own.cursor() as cursor:
            cursor.execute("SELECT to_regclass(%s)", [name])
            if cursor.fetchone()[0] is not None:
                return
            prefix = f"{day:%Y%m%d}"
            counter, case = CaseNumberCounter._meta.db_table, Case._meta.db_table
            cursor.execute(f"SELECT last FROM {own.ops.quote_name(counter)} WHERE day = %s", [day])
            row = cursor.fetchone()
            cursor.execute(
                f"SELECT max(number) FROM {own.ops.quote_name(case)} WHERE number LIKE %s AND length(number) = 14",
                [f"{prefix}%"],
            )
            newest = cursor.fetchone()[0]
            start = max(row[0] if row else 0, int(newest[8:]) if newest else 0) + 1
            with contextlib.suppress(DatabaseError):  # created by a concurrent intake in the meantime
                cursor.execute(f"CREATE SEQUENCE {own.ops.quote_name(name)} START WITH {start:d}")
    finally:
        own.close()


def number_sequences_prune(*, keep_days: int = 3) -> int:
    """Drop the daily number sequences of days more than `keep_days` behind (PostgreSQL); returns how many."""
    if connection.vendor != "postgresql":
        return 0
    oldest = clock.now().astimezone(dt.timezone(dt.timedelta(hours=8))).date() - dt.timedelta(days=keep_days)
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname FROM pg_class WHERE relkind = 'S' AND relname LIKE %s AND relname < %s",
            [f"{NUMBER_SEQUENCE_PREFIX}%", f"{NUMBER_SEQUENCE_PREFIX}{oldest:%Y%m%d}"],
        )
        names = [row[0] for row in cursor.fetchall()]
        for name in names:
            cursor.execute(f"DROP SEQUENCE IF EXISTS {connection.ops.quote_name(name)}")
            _number_sequences.discard(name)
    return len(names)


# Eight digits (six before; those codes stay valid). With the per-case lockout (cases/public_lookup.py: 5 wrong
# codes → 30 minutes) a guesser gets 240 tries a day: one year finds a six-digit code with p ≈ 8 %, an eight-digit
# one with p ≈ 0.09 %.
QUERY_CODE_DIGITS = 8


def new_query_password() -> str:
    return f"{secrets.randbelow(10**QUERY_CODE_DIGITS):0{QUERY_CODE_DIGITS}d}"


def _is_top_main(assignment: Assignment) -> bool:
    return assignment.parent_id is None and assignment.role == AssignmentRole.MAIN


__all__ = [
    "EXTENDED_FIELDS",
    "INTAKE_ACTIONS",
    "MIN_STAFF_CONTENT_LENGTH",
    "STAFF_CHANNELS",
    "_bump",
    "_clocks_on_transition",
    "_dict_item",
    "_event",
    "_events_together",
    "_fail",
    "_finish",
    "_is_top_main",
    "_reload",
    "_reopen",
    "_require_own",
    "_require_status",
    "_require_text",
    "_start_unit_clocks",
    "_seen_as",
    "_transition",
    "_transition_inserted",
    "new_query_password",
    "next_case_number",
    "number_sequences_prune",
]
