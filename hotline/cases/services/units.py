"""Units: sign for, handling records, forward and send back, report, returns, extensions, assisting opinions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from hotline.common import clock
from hotline.common.errors import ServiceError
from hotline.common.models import DictItem, DictKind
from hotline.orgs.models import Unit, UnitKind, User
from hotline.sla import services as sla
from hotline.sla.services import Stage

from .. import flowhooks
from ..lifecycle import Action
from ..models import (
    OPEN_ASSIGNMENT_STATUSES,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    CaseEvent,
    CaseStatus,
    ExtensionRequest,
    HandlingRecord,
    RequestStatus,
    ReturnRequest,
)
from .core import (
    _dict_item,
    _fail,
    _finish,
    _is_top_main,
    _reload,
    _reopen,
    _require_own,
    _require_status,
    _require_text,
    _transition,
)
from .office import (
    Target,
    _create_assignments,
    _describe,
    _validate_extra_targets,
    _validate_targets,
    serial_next,
)

# --------------------------------------------------------------------------- units (HND)


def _unit_action(
    assignment: Assignment,
    action: str,
    *,
    actor: User,
    expected_version: int | None,
    to_status: str | None = None,
    opinion: str = "",
    data: dict[str, Any] | None = None,
    **updates: Any,
) -> CaseEvent:
    _require_own(assignment, actor)
    return _transition(
        assignment.case,
        action,
        actor=actor,
        expected_version=expected_version,
        to_status=to_status,
        assignment=assignment,
        opinion=opinion,
        data=data,
        **updates,
    )


def assignment_sign_for(*, assignment: Assignment, actor: User, expected_version: int | None) -> Assignment:
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    _require_status(assignment, AssignmentStatus.PENDING, doing=_("签收"))
    case = assignment.case
    to_status = (
        CaseStatus.HANDLING if _is_top_main(assignment) and case.status == CaseStatus.DISPATCHED else None
    )
    with transaction.atomic():
        _unit_action(
            assignment, Action.SIGN_FOR, actor=actor, expected_version=expected_version, to_status=to_status
        )
        assignment.status = AssignmentStatus.HANDLING
        assignment.signed_at = clock.now()
        assignment.signed_by = actor
        assignment.save(update_fields=["status", "signed_at", "signed_by"])
        sla.clock_stop(assignment=assignment, stages=[Stage.SIGN_FOR])
        sla.clock_start(case=assignment.case, assignment=assignment, stage=Stage.HANDLING)
    return assignment


def assignment_record_handling(
    *,
    assignment: Assignment,
    actor: User,
    expected_version: int | None,
    result: str,
    cause: str = "",
    solution: str = "",
    promised_at: dt.datetime | None = None,
) -> HandlingRecord:
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    _require_status(assignment, AssignmentStatus.HANDLING, doing=_("填写办理记录（请先签收）"))
    result = _require_text("result", result, _("办理情况"))
    if promised_at is not None and promised_at <= clock.now():
        raise _fail("promised_at", _("承诺办结时间应晚于当前时间"))
    with transaction.atomic():
        _unit_action(
            assignment,
            Action.RECORD_HANDLING,
            actor=actor,
            expected_version=expected_version,
            opinion=result,
            data={"cause": cause, "solution": solution},
        )
        record = HandlingRecord.objects.create(
            assignment=assignment,
            actor=actor,
            cause=cause.strip(),
            solution=solution.strip(),
            result=result,
            promised_at=promised_at,
            created_at=clock.now(),
        )
        if promised_at is not None:
            assignment.promised_at = promised_at
            assignment.save(update_fields=["promised_at"])
    return record


FORWARDING_KINDS = {
    UnitKind.DISTRICT: {UnitKind.STREET, UnitKind.BUREAU},
    UnitKind.STREET: {UnitKind.COMMUNITY},
}


def assignment_forward(
    *,
    assignment: Assignment,
    actor: User,
    expected_version: int | None,
    targets: Sequence[Target],
    opinion: str = "",
) -> list[Assignment]:
    """HND-2/3: a district forwards to its streets or district bureaus, a street to its communities."""
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    unit = assignment.unit
    child_kinds = FORWARDING_KINDS.get(unit.kind)  # type: ignore[call-overload]
    if not child_kinds:
        raise ServiceError(
            _("%(kind)s不能向下派单") % {"kind": unit.get_kind_display()}, code="cannot_forward"
        )
    if assignment.role == AssignmentRole.CC:
        raise ServiceError(_("抄送单位不能下派"), code="cannot_forward")
    _require_status(assignment, AssignmentStatus.HANDLING, doing=_("下派（请先签收）"))
    _validate_targets(targets, allowed=lambda u: u.parent_id == unit.pk and u.kind in child_kinds)
    with transaction.atomic():
        _unit_action(
            assignment,
            Action.FORWARD,
            actor=actor,
            expected_version=expected_version,
            opinion=opinion,
            data=_describe(targets),
        )
        children = _create_assignments(
            assignment.case,
            targets,
            actor=actor,
            opinion=opinion,
            parent=assignment,
            round_no=assignment.round,
            due_at=sla.forwarded_due(case=assignment.case, parent_due=assignment.due_at, start=clock.now()),
        )
        assignment.status = AssignmentStatus.FORWARDED
        assignment.save(update_fields=["status"])
    return children


def _back_to_parent(assignment: Assignment) -> None:
    parent = assignment.parent
    if (
        parent is not None
        and assignment.role == AssignmentRole.MAIN
        and parent.status == AssignmentStatus.FORWARDED
    ):
        parent.status = AssignmentStatus.HANDLING
        parent.save(update_fields=["status"])
        # Any sub-units the parent also sent (assisting under the same forward) stop with their main.
        Assignment.objects.filter(parent=parent, status__in=OPEN_ASSIGNMENT_STATUSES).exclude(
            pk=assignment.pk
        ).update(status=AssignmentStatus.CANCELLED, finished_at=clock.now())


def assignment_send_back(
    *, assignment: Assignment, actor: User, expected_version: int | None, reason: str
) -> Assignment:
    """HND-3/4: a street or community sends work back up to the unit that forwarded it."""
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    if assignment.parent_id is None:
        raise ServiceError(_("直接由热线办交办的工单请使用“退件”"), code="use_return")
    _require_status(assignment, AssignmentStatus.PENDING, AssignmentStatus.HANDLING, doing=_("退回上级"))
    reason = _require_text("reason", reason, _("退回理由"))
    with transaction.atomic():
        _unit_action(
            assignment, Action.SEND_BACK, actor=actor, expected_version=expected_version, opinion=reason
        )
        _finish(assignment, AssignmentStatus.SENT_BACK, result=reason)
        _back_to_parent(assignment)
    return assignment


def _open_assisting_siblings(assignment: Assignment) -> bool:
    return Assignment.objects.filter(
        case_id=assignment.case_id,
        round=assignment.round,
        parent_id=assignment.parent_id,
        role=AssignmentRole.ASSISTING,
        status__in=[AssignmentStatus.PENDING, AssignmentStatus.HANDLING, AssignmentStatus.FORWARDED],
    ).exists()


def assignment_report(
    *, assignment: Assignment, actor: User, expected_version: int | None, result: str
) -> Assignment:
    """The main unit reports once for all: to the office (top level) or to the unit that forwarded it."""
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    if assignment.role != AssignmentRole.MAIN:
        raise ServiceError(_("只有主办单位可以办结上报，协办单位请反馈意见"), code="not_main")
    _require_status(assignment, AssignmentStatus.HANDLING, doing=_("办结上报"))
    result = _require_text("result", result, _("办理结果"))
    if _open_assisting_siblings(assignment):
        raise ServiceError(_("协办单位尚未全部反馈意见，暂不能上报"), code="assisting_open")
    to_status = CaseStatus.RESULT_REVIEW if assignment.parent_id is None else None
    with transaction.atomic():
        _unit_action(
            assignment,
            Action.REPORT,
            actor=actor,
            expected_version=expected_version,
            to_status=to_status,
            opinion=result,
        )
        _finish(assignment, AssignmentStatus.REPORTED, result=result)
        _back_to_parent(assignment)
    return assignment


def assignment_return_to_office(
    *,
    assignment: Assignment,
    actor: User,
    expected_version: int | None,
    reason: DictItem | None,
    text: str,
    suggested_unit: Unit | None,
) -> ReturnRequest:
    """HND-5: the top-level main unit returns the case with a reason and a suggested unit."""
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    if not _is_top_main(assignment):
        raise ServiceError(
            _("只有热线办直接交办的主办单位可以退件，下级单位请退回上级"), code="use_send_back"
        )
    _require_status(assignment, AssignmentStatus.PENDING, AssignmentStatus.HANDLING, doing=_("退件"))
    _dict_item("reason", reason, DictKind.RETURN_REASON, required=True)
    text = _require_text("text", text, _("退件说明"))
    if suggested_unit is None:
        raise _fail("suggested_unit", _("请填写建议承办单位"))
    if not suggested_unit.is_active or suggested_unit.pk == assignment.unit_id:
        raise _fail("suggested_unit", _("建议承办单位无效"))
    assert reason is not None
    with transaction.atomic():
        _unit_action(
            assignment,
            Action.RETURN_TO_OFFICE,
            actor=actor,
            expected_version=expected_version,
            opinion=text,
            data={"reason": reason.name, "suggested_unit": suggested_unit.name},
        )
        assignment.status = AssignmentStatus.RETURN_PENDING
        assignment.save(update_fields=["status"])
        return ReturnRequest.objects.create(
            assignment=assignment,
            reason=reason,
            text=text,
            suggested_unit=suggested_unit,
            requested_by=actor,
            requested_at=clock.now(),
        )


def assignment_request_extension(
    *,
    assignment: Assignment,
    actor: User,
    expected_version: int | None,
    requested_due_at: dt.datetime,
    reason: str,
) -> ExtensionRequest:
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    _require_status(
        assignment,
        AssignmentStatus.PENDING,
        AssignmentStatus.HANDLING,
        AssignmentStatus.FORWARDED,
        doing=_("申请延期"),
    )
    reason = _require_text("reason", reason, _("延期理由"))
    sla.validate_extension(assignment=assignment, new_due=requested_due_at)
    if assignment.due_at and requested_due_at <= assignment.due_at:
        raise _fail("requested_due_at", _("延期后的时限应晚于现有时限"))
    if assignment.extension_requests.filter(status=RequestStatus.PENDING).exists():
        raise ServiceError(_("已有待审核的延期申请"), code="extension_pending")
    with transaction.atomic():
        _unit_action(
            assignment,
            Action.REQUEST_EXTENSION,
            actor=actor,
            expected_version=expected_version,
            opinion=reason,
            data={"requested_due_at": requested_due_at.isoformat()},
        )
        return ExtensionRequest.objects.create(
            assignment=assignment,
            requested_due_at=requested_due_at,
            previous_due_at=assignment.due_at,
            reason=reason,
            requested_by=actor,
            requested_at=clock.now(),
        )


def assignment_give_opinion(
    *, assignment: Assignment, actor: User, expected_version: int | None, opinion: str
) -> Assignment:
    """HND-6: an assisting unit gives its opinion to the main unit."""
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    if assignment.role != AssignmentRole.ASSISTING:
        raise ServiceError(_("只有协办单位需要反馈意见"), code="not_assisting")
    _require_status(assignment, AssignmentStatus.HANDLING, doing=_("反馈意见（请先签收）"))
    opinion = _require_text("opinion", opinion, _("协办意见"))
    with transaction.atomic():
        _unit_action(
            assignment, Action.GIVE_OPINION, actor=actor, expected_version=expected_version, opinion=opinion
        )
        _finish(assignment, AssignmentStatus.OPINION_GIVEN, result=opinion)
        if assignment.parent_id is None:
            serial_next(assignment.case, assignment.round, actor=actor)  # a serial step's next unit
    return assignment


def _main_sibling(assignment: Assignment) -> Assignment | None:
    return Assignment.objects.filter(
        case_id=assignment.case_id,
        round=assignment.round,
        parent_id=assignment.parent_id,
        role=AssignmentRole.MAIN,
    ).first()


def assignment_return_opinion(
    *, assignment: Assignment, actor: User, expected_version: int | None, reason: str
) -> Assignment:
    """HND-6: the main unit sends an assisting unit's opinion back to be redone."""
    assignment = _reload(assignment)
    main = _main_sibling(assignment)
    if assignment.role != AssignmentRole.ASSISTING or main is None:
        raise ServiceError(_("只能发回协办单位的意见"), code="not_assisting")
    _require_own(main, actor)
    _require_status(main, AssignmentStatus.HANDLING, doing=_("发回协办意见"))
    _require_status(assignment, AssignmentStatus.OPINION_GIVEN, doing=_("发回（尚未反馈意见）"))
    reason = _require_text("reason", reason, _("发回理由"))
    with transaction.atomic():
        _transition(
            main.case,
            Action.RETURN_OPINION,
            actor=actor,
            expected_version=expected_version,
            assignment=assignment,
            opinion=reason,
        )
        _reopen(assignment)
    return assignment


def assignment_add_assisting(
    *,
    assignment: Assignment,
    actor: User,
    expected_version: int | None,
    targets: Sequence[Target],
    opinion: str = "",
) -> list[Assignment]:
    """HND-6: an assisting unit brings in further assisting or cc units; the main unit collects them too."""
    assignment = _reload(assignment)
    _require_own(assignment, actor)
    if assignment.role != AssignmentRole.ASSISTING:
        raise ServiceError(_("只有协办单位可以增加协办单位"), code="not_assisting")
    _require_status(assignment, AssignmentStatus.HANDLING, doing=_("增加协办单位（请先签收）"))
    if not targets or any(t.role == AssignmentRole.MAIN for t in targets):
        raise _fail("targets", _("只能增加协办或抄送单位"))
    taken = set(
        Assignment.objects.filter(
            case_id=assignment.case_id, round=assignment.round, parent_id=assignment.parent_id
        ).values_list("unit_id", flat=True)
    )
    _validate_extra_targets(targets, allowed=lambda u: u.pk not in taken)
    if assignment.parent_id is None:
        # the case's template judges the step's units with the new ones: one at a single step, and at a serial
        # step the order was fixed at dispatch
        acting = list(
            Assignment.objects.filter(case_id=assignment.case_id, round=assignment.round, parent__isnull=True)
            .exclude(status__in=[AssignmentStatus.CANCELLED, AssignmentStatus.RETURNED])
            .values_list("unit__kind", "role")
        )
        added = [(t.unit.kind, t.role) for t in targets]
        if flowhooks.units(assignment.case, assignment.case.status, [*acting, *added]) is not None:
            raise ServiceError(
                _("串行环节的办理单位及其顺序在派单时确定，不能增加协办单位"), code="flow_serial"
            )
    with transaction.atomic():
        _unit_action(
            assignment,
            Action.ADD_ASSISTING,
            actor=actor,
            expected_version=expected_version,
            opinion=opinion,
            data=_describe(targets),
        )
        return _create_assignments(
            assignment.case,
            targets,
            actor=actor,
            opinion=opinion,
            parent=assignment.parent,
            round_no=assignment.round,
            due_at=assignment.due_at,
        )


__all__ = [
    "FORWARDING_KINDS",
    "_back_to_parent",
    "_main_sibling",
    "_open_assisting_siblings",
    "_unit_action",
    "assignment_add_assisting",
    "assignment_forward",
    "assignment_give_opinion",
    "assignment_record_handling",
    "assignment_report",
    "assignment_request_extension",
    "assignment_return_opinion",
    "assignment_return_to_office",
    "assignment_send_back",
    "assignment_sign_for",
]
