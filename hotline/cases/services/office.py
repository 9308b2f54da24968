"""The office: review and dispatch, leaders' instructions, rulings on returns and extensions, result review."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from hotline.common import clock
from hotline.common.errors import ServiceError
from hotline.orgs.models import Unit, UnitKind, User
from hotline.sla import services as sla

from .. import flowhooks, lifecycle
from ..lifecycle import Action
from ..models import (
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Case,
    CaseEvent,
    CaseStatus,
    CloseKind,
    ExtensionRequest,
    OfficeRuling,
    RequestStatus,
    ReturnRequest,
)
from .core import _fail, _finish, _is_top_main, _reopen, _require_text, _start_unit_clocks, _transition


def case_return_to_agent(*, case: Case, actor: User, expected_version: int | None, opinion: str) -> Case:
    opinion = _require_text("opinion", opinion, _("退回理由"))
    with transaction.atomic():
        _transition(
            case, Action.RETURN_TO_AGENT, actor=actor, expected_version=expected_version, opinion=opinion
        )
    return case


def case_close_directly(*, case: Case, actor: User, expected_version: int | None, reason: str) -> Case:
    reason = _require_text("reason", reason, _("办结说明"))
    with transaction.atomic():
        _transition(
            case,
            Action.CLOSE_DIRECTLY,
            actor=actor,
            expected_version=expected_version,
            opinion=reason,
            closed_at=clock.now(),
            close_kind=CloseKind.DIRECT,
            close_reason=reason,
        )
    return case


def case_ask_leader(*, case: Case, actor: User, expected_version: int | None, opinion: str) -> Case:
    opinion = _require_text("opinion", opinion, _("呈批意见"))
    with transaction.atomic():
        _transition(case, Action.ASK_LEADER, actor=actor, expected_version=expected_version, opinion=opinion)
    return case


def case_leader_instruct(*, case: Case, actor: User, expected_version: int | None, instruction: str) -> Case:
    instruction = _require_text("instruction", instruction, _("批示内容"))
    with transaction.atomic():
        _transition(
            case,
            Action.LEADER_INSTRUCT,
            actor=actor,
            expected_version=expected_version,
            opinion=instruction,
            leader_instruction=instruction,
        )
    return case


@dataclass(frozen=True)
class Target:
    unit: Unit
    role: str


def default_main_unit(case: Case) -> tuple[Unit | None, str]:
    """DSP-4/5 first (the registered advisors: dispatch catalogue, learned model); then DSP-3: vertically managed
    bureau → that bureau; otherwise the district of the incident location."""
    from ..advice import advise

    advised = advise(case)
    if advised is not None:
        return advised
    return default_main_unit_by_location(case)


def default_main_unit_by_location(case: Case) -> tuple[Unit | None, str]:
    """DSP-3 alone: vertically managed bureau → that bureau; otherwise the district of the incident location."""
    if case.bureau_id and case.bureau and case.bureau.is_vertical and case.bureau.is_active:
        return case.bureau, f"{case.bureau.name}为垂直管理部门，由其承办"
    if case.district_id and case.district and case.district.is_active:
        return case.district, f"事发地属{case.district.name}，由属地承办"
    if case.bureau_id and case.bureau and case.bureau.is_active:
        return case.bureau, f"未确定事发区县，由职能局{case.bureau.name}承办"
    return None, "未能确定默认承办单位，请手工选择"


def _validate_targets(targets: Sequence[Target], *, allowed: Any = None, field: str = "targets") -> None:
    """Exactly one main unit, active units, no unit twice; `allowed(unit)` restricts where work may go."""
    mains = [t for t in targets if t.role == AssignmentRole.MAIN]
    if len(mains) != 1:
        raise _fail(field, _("必须且只能指定一个主办单位") if mains else _("请指定主办单位"))
    _validate_extra_targets(targets, allowed=allowed, field=field)


def _validate_extra_targets(
    targets: Sequence[Target], *, allowed: Any = None, field: str = "targets"
) -> None:
    seen: set[int] = set()
    for target in targets:
        if target.role not in AssignmentRole.values:
            raise _fail(field, _("单位角色无效"))
        if not target.unit.is_active:
            raise _fail(field, _("%(unit)s已撤销，不能交办") % {"unit": target.unit.name})
        if target.unit.kind == UnitKind.OFFICE:
            raise _fail(field, _("不能交办给热线办"))
        if target.unit.pk in seen:
            raise _fail(field, _("%(unit)s重复选择") % {"unit": target.unit.name})
        if allowed is not None and not allowed(target.unit):
            raise _fail(field, _("不能交办给%(unit)s") % {"unit": target.unit.name})
        seen.add(target.unit.pk)


def _create_assignments(
    case: Case,
    targets: Iterable[Target],
    *,
    actor: User,
    opinion: str,
    parent: Assignment | None,
    round_no: int,
    due_at: dt.datetime | None,
) -> list[Assignment]:
    now = clock.now()
    level = parent.level + 1 if parent else 1
    rows = [
        Assignment(
            case=case,
            unit=t.unit,
            parent=parent,
            role=t.role,
            round=round_no,
            level=level,
            opinion=opinion,
            assigned_by=actor,
            assigned_at=now,
            status=AssignmentStatus.INFORMED if t.role == AssignmentRole.CC else AssignmentStatus.PENDING,
        )
        for t in targets
    ]
    for row in rows:
        row.save()
        if row.role != AssignmentRole.CC:
            _start_unit_clocks(row, due_at=due_at)
    return rows


def serial_next(case: Case, round_no: int, *, actor: User) -> Assignment | None:
    """At a serial step, the next unit's assignment once every acting unit before it has finished (the order is
    on the round's dispatch event); None when no unit is waiting or one is still at work. Call inside the
    transaction of the action that finished the unit before."""
    event = (
        CaseEvent.objects.filter(case_id=case.pk, action__in=[Action.DISPATCH, Action.REASSIGN])
        .order_by("-id")
        .only("data", "opinion")
        .first()
    )
    plan = (event.data or {}).get("serial") if event is not None else None
    if not plan:
        return None
    rows = Assignment.objects.filter(case_id=case.pk, round=round_no, parent__isnull=True).exclude(
        role=AssignmentRole.CC
    )
    if rows.filter(status__in=OPEN_ASSIGNMENT_STATUSES).exists():
        return None
    taken = set(rows.values_list("unit_id", flat=True))
    waiting = next((p for p in plan if p["unit"] not in taken), None)
    if waiting is None:
        return None
    unit = Unit.objects.get(pk=waiting["unit"])
    (row,) = _create_assignments(
        case,
        [Target(unit, waiting["role"])],
        actor=actor,
        opinion=event.opinion if event is not None else "",
        parent=None,
        round_no=round_no,
        due_at=None,
    )
    if row.role == AssignmentRole.MAIN:
        case.due_at = row.due_at  # the main unit's reply deadline is the case's
        Case.objects.filter(pk=case.pk).update(due_at=case.due_at)
    return row


def _with_superior_cc(targets: Sequence[Target]) -> list[Target]:
    """DSP-2: the main unit's superior is copied automatically."""
    main = next(t for t in targets if t.role == AssignmentRole.MAIN)
    result = list(targets)
    superior = main.unit.parent
    if superior is not None and superior.is_active and all(t.unit.pk != superior.pk for t in targets):
        result.append(Target(superior, AssignmentRole.CC))
    return result


def _describe(targets: Sequence[Target]) -> dict[str, Any]:
    return {"units": [{"unit": t.unit.pk, "name": t.unit.name, "role": t.role} for t in targets]}


def _cancel_open_assignments(case: Case) -> None:
    Assignment.objects.filter(
        case=case, status__in=[*OPEN_ASSIGNMENT_STATUSES, AssignmentStatus.INFORMED]
    ).update(status=AssignmentStatus.CANCELLED, finished_at=clock.now())
    sla.clock_stop_assignments(case=case)


def _dispatch(
    case: Case,
    action: str,
    *,
    actor: User,
    expected_version: int | None,
    targets: Sequence[Target],
    opinion: str,
    due_at: dt.datetime | None,
) -> Case:
    _validate_targets(targets)
    targets = _with_superior_cc(targets)
    now = clock.now()
    if due_at is not None and due_at <= now:
        raise _fail("due_at", _("办理时限不能早于当前时间"))
    main = next(t for t in targets if t.role == AssignmentRole.MAIN)
    # The case's template judges the units: one at a single step; at a serial step they act one after another
    # (only the first gets its assignment now, copies at once; the order is kept on the dispatch's event).
    order = flowhooks.units(
        case, lifecycle.TRANSITIONS[action].target or "", [(t.unit.kind, t.role) for t in targets]
    )
    data = _describe(targets)
    if order is not None:
        data["serial"] = [{"unit": targets[i].unit.pk, "role": targets[i].role} for i in order]
        targets = [targets[order[0]], *(t for t in targets if t.role == AssignmentRole.CC)]
    with transaction.atomic():
        _cancel_open_assignments(case)
        round_no = case.dispatch_round + 1
        event = _transition(
            case,
            action,
            actor=actor,
            expected_version=expected_version,
            opinion=opinion,
            data=data,
            main_unit=main.unit,
            dispatch_round=round_no,
            dispatched_at=now,
        )
        rows = _create_assignments(
            case, targets, actor=actor, opinion=opinion, parent=None, round_no=round_no, due_at=due_at
        )
        case.due_at = rows[0].due_at  # the main unit's reply deadline is the case's
        Case.objects.filter(pk=case.pk).update(due_at=case.due_at)
        event.assignment = rows[0]
        event.save(update_fields=["assignment"])
    return case


def case_dispatch(
    *,
    case: Case,
    actor: User,
    expected_version: int | None,
    targets: Sequence[Target],
    opinion: str = "",
    due_at: dt.datetime | None = None,
) -> Case:
    return _dispatch(
        case,
        Action.DISPATCH,
        actor=actor,
        expected_version=expected_version,
        targets=targets,
        opinion=opinion,
        due_at=due_at,
    )


def case_reassign(
    *,
    case: Case,
    actor: User,
    expected_version: int | None,
    targets: Sequence[Target],
    opinion: str,
    due_at: dt.datetime | None = None,
) -> Case:
    opinion = _require_text("opinion", opinion, _("改派理由"))
    return _dispatch(
        case,
        Action.REASSIGN,
        actor=actor,
        expected_version=expected_version,
        targets=targets,
        opinion=opinion,
        due_at=due_at,
    )


def _pending_return(case: Case) -> ReturnRequest:
    request = (
        ReturnRequest.objects.select_related("assignment", "suggested_unit")
        .filter(assignment__case=case, status=RequestStatus.PENDING)
        .order_by("-requested_at")
        .first()
    )
    if request is None:
        raise ServiceError(_("没有待审核的退件申请"), code="no_return")
    return request


def case_approve_return(
    *,
    case: Case,
    actor: User,
    expected_version: int | None,
    targets: Sequence[Target] = (),
    opinion: str = "",
) -> Case:
    """The office agrees with a return and reassigns (by default to the unit the returner suggested)."""
    request = _pending_return(case)
    targets = list(targets) or [Target(request.suggested_unit, AssignmentRole.MAIN)]
    with transaction.atomic():
        _decide(request, RequestStatus.APPROVED, actor, opinion)
        _finish(request.assignment, AssignmentStatus.RETURNED)
        _dispatch(
            case,
            Action.APPROVE_RETURN,
            actor=actor,
            expected_version=expected_version,
            targets=targets,
            opinion=opinion,
            due_at=None,
        )
    return case


def case_reject_return(*, case: Case, actor: User, expected_version: int | None, opinion: str) -> Case:
    """The office rules the return unfounded: the same unit keeps the case."""
    opinion = _require_text("opinion", opinion, _("驳回理由"))
    request = _pending_return(case)
    back_to = CaseStatus.REDO if case.dissatisfied_count else CaseStatus.HANDLING
    with transaction.atomic():
        _transition(
            case,
            Action.REJECT_RETURN,
            actor=actor,
            expected_version=expected_version,
            to_status=back_to,
            assignment=request.assignment,
            opinion=opinion,
        )
        _decide(request, RequestStatus.REJECTED, actor, opinion)
        _reopen(request.assignment)
    return case


def _decide(request: OfficeRuling, status: str, actor: User, note: str) -> None:
    request.status = status
    request.decided_by = actor
    request.decided_at = clock.now()
    request.decision_note = note
    request.save(update_fields=["status", "decided_by", "decided_at", "decision_note"])


def extension_decide(
    *, request: ExtensionRequest, actor: User, expected_version: int | None, approve: bool, note: str = ""
) -> ExtensionRequest:
    request = ExtensionRequest.objects.select_related("assignment__case").get(pk=request.pk)
    if not request.is_pending:
        raise ServiceError(_("该延期申请已审核"), code="already_decided")
    if not approve:
        note = _require_text("note", note, _("驳回理由"))
    elif request.requested_due_at <= clock.now():
        raise ServiceError(_("申请的时限已过，不能同意，请驳回后由单位重新申请"), code="expired")
    else:
        sla.validate_extension(assignment=request.assignment, new_due=request.requested_due_at)
    assignment = request.assignment
    case = assignment.case
    with transaction.atomic():
        updates: dict[str, Any] = {}
        if approve and _is_top_main(assignment):
            updates["due_at"] = request.requested_due_at
        _transition(
            case,
            Action.DECIDE_EXTENSION,
            actor=actor,
            expected_version=expected_version,
            assignment=assignment,
            opinion=note,
            data={"approved": approve},
            **updates,
        )
        _decide(request, RequestStatus.APPROVED if approve else RequestStatus.REJECTED, actor, note)
        if approve:
            # The unit's own deadline and those of the sub-units working for it move together.
            moved = [
                assignment,
                *Assignment.objects.filter(
                    parent=assignment,
                    status__in=OPEN_ASSIGNMENT_STATUSES,
                    due_at__lt=request.requested_due_at,
                ),
            ]
            for row in moved:
                new_clock = sla.clock_extend(
                    assignment=row, stage=sla.reply_stage(row), new_due=request.requested_due_at
                )
                Assignment.objects.filter(pk=row.pk).update(
                    due_at=request.requested_due_at, warn_at=new_clock.warn_at if new_clock else None
                )
    return request


# --------------------------------------------------------------------------- result review, callback (CLS)


def _top_main(case: Case) -> Assignment:
    assignment = (
        Assignment.objects.filter(
            case=case, round=case.dispatch_round, parent__isnull=True, role=AssignmentRole.MAIN
        )
        .select_related("unit")
        .first()
    )
    if assignment is None:
        raise ServiceError(_("该工单没有主办单位"), code="no_main")
    return assignment


def _reopen_main_for_redo(case: Case) -> Assignment:
    """The main unit works on the case again, with a fresh deadline from now."""
    main = _top_main(case)
    sla.clock_stop(assignment=main)
    _reopen(main, fresh_deadline=True)
    return main


def case_review_accept(*, case: Case, actor: User, expected_version: int | None, opinion: str = "") -> Case:
    with transaction.atomic():
        _transition(
            case, Action.REVIEW_ACCEPT, actor=actor, expected_version=expected_version, opinion=opinion
        )
    return case


def case_review_reject(*, case: Case, actor: User, expected_version: int | None, opinion: str) -> Case:
    """The office finds the result insufficient: the main unit handles it again."""
    opinion = _require_text("opinion", opinion, _("退回理由"))
    back_to = CaseStatus.REDO if case.dissatisfied_count else CaseStatus.HANDLING
    with transaction.atomic():
        main = _reopen_main_for_redo(case)
        _transition(
            case,
            Action.REVIEW_REJECT,
            actor=actor,
            expected_version=expected_version,
            to_status=back_to,
            assignment=main,
            opinion=opinion,
            due_at=main.due_at,
        )
    return case


__all__ = [
    "Target",
    "_cancel_open_assignments",
    "_create_assignments",
    "_decide",
    "_describe",
    "_dispatch",
    "_pending_return",
    "_reopen_main_for_redo",
    "_top_main",
    "_validate_extra_targets",
    "_validate_targets",
    "_with_superior_cc",
    "case_approve_return",
    "case_ask_leader",
    "case_close_directly",
    "case_dispatch",
    "case_leader_instruct",
    "case_reassign",
    "case_reject_return",
    "case_return_to_agent",
    "case_review_accept",
    "case_review_reject",
    "default_main_unit",
    "default_main_unit_by_location",
    "extension_decide",
    "serial_next",
]
