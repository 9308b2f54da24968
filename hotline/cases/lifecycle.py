"""The case lifecycle: which action is allowed from which status, by which role, moving to which status.

This is the single place that says so. Services call `check()` before doing anything; statistics rely
on these statuses, so they are code, not configuration. `target=None` means the action leaves the
case status as it is (unit-level actions on an assignment) or the service picks among `outcomes`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.common.errors import NotAllowed, ServiceError
from hotline.orgs.models import Role, User

from . import flowhooks
from .models import Case
from .models import CaseStatus as S


class Action(models.TextChoices):
    CREATE = "create", _("登记")
    SAVE_DRAFT = "save_draft", _("暂存")
    SUBMIT = "submit", _("提交热线办")
    ARCHIVE = "archive", _("解决归档")
    PROPOSE_NOT_ACCEPTED = "propose_not_accepted", _("申请不予受理")
    CONFIRM_NOT_ACCEPTED = "confirm_not_accepted", _("确认不予受理")
    REJECT_NOT_ACCEPTED = "reject_not_accepted", _("驳回不予受理")
    RETURN_TO_AGENT = "return_to_agent", _("退回坐席")
    CLOSE_DIRECTLY = "close_directly", _("直接办结")
    ASK_LEADER = "ask_leader", _("呈请领导批示")
    LEADER_INSTRUCT = "leader_instruct", _("领导批示")
    DISPATCH = "dispatch", _("派单")
    SIGN_FOR = "sign_for", _("签收")
    RECORD_HANDLING = "record_handling", _("办理记录")
    FORWARD = "forward", _("下派")
    SEND_BACK = "send_back", _("退回上级")
    REPORT = "report", _("办结上报")
    RETURN_TO_OFFICE = "return_to_office", _("退件")
    APPROVE_RETURN = "approve_return", _("同意退件并改派")
    REJECT_RETURN = "reject_return", _("驳回退件")
    REQUEST_EXTENSION = "request_extension", _("申请延期")
    DECIDE_EXTENSION = "decide_extension", _("审核延期")
    GIVE_OPINION = "give_opinion", _("协办反馈意见")
    RETURN_OPINION = "return_opinion", _("协办意见发回重办")
    ADD_ASSISTING = "add_assisting", _("增加协办")
    REVIEW_ACCEPT = "review_accept", _("审核通过")
    REVIEW_REJECT = "review_reject", _("审核退回")
    REASSIGN = "reassign", _("改派")
    CALLBACK = "callback", _("回访")
    SUPERVISION_OPINION = "supervision_opinion", _("特别督办领导意见")
    OFFICE_CLOSE = "office_close", _("热线办办结")
    SET_CLOSE_MARKS = "set_close_marks", _("设置办结标记")
    SET_VIOLATION = "set_violation", _("标记违规")
    RESET_PASSWORD = "reset_password", _("重置查询密码")
    URGE = "urge", _("催办")
    # 并单 (INT-5): the new request is merged into an existing case; the target records it; the office may undo.
    MERGE = "merge", _("并单")
    MERGE_IN = "merge_in", _("并入诉求")
    UNMERGE = "unmerge", _("撤销并单")
    UNMERGE_OUT = "unmerge_out", _("移出并单诉求")
    SMS_CITIZEN = "sms_citizen", _("短信告知来电人")
    # Recorded by other packages on a case without changing its status (`services.case_annotate`).
    EMERGENCY_TRANSFER = "emergency_transfer", _("转应急联动")
    EMERGENCY_FEEDBACK = "emergency_feedback", _("联动单位反馈")
    # What the citizen adds on their own channel (a later SMS, an online chat transcript): kept on the timeline.
    CITIZEN_MESSAGE = "citizen_message", _("市民补充信息")
    # Raised by the deadline sweep, not by people; they appear on the timeline.
    SLA_WARNING = "sla_warning", _("时限预警")
    SLA_YELLOW = "sla_yellow", _("黄牌")
    SLA_RED = "sla_red", _("红牌")
    SLA_REMINDER = "sla_reminder", _("办理提醒")


# Who acts: the office (dispatcher desk), intake agents, the unit holding the assignment, or a leader.
OFFICE = frozenset({Role.DISPATCHER})
INTAKE = frozenset({Role.AGENT, Role.DISPATCHER})
UNIT = frozenset({Role.UNIT_HANDLER, Role.UNIT_LEADER})
CALLBACK_ROLES = frozenset({Role.AGENT, Role.DISPATCHER, Role.MONITOR})
# Who sees hot clusters (groups of similar open requests), on the page and through the API.
CLUSTER_ROLES = frozenset({Role.DISPATCHER, Role.MONITOR, Role.LEADER, Role.AGENT})
SUPERVISORS = frozenset({Role.DISPATCHER, Role.MONITOR})

# Statuses in which units are at work on the case.
IN_UNITS = frozenset({S.DISPATCHED, S.HANDLING, S.REDO})
NEW = ""  # a case that does not exist yet


@dataclass(frozen=True)
class Transition:
    action: str
    sources: frozenset[str]
    roles: frozenset[str]
    target: str | None = None
    outcomes: frozenset[str] = field(default_factory=frozenset)

    def targets(self) -> frozenset[str]:
        return frozenset({self.target}) if self.target else self.outcomes


def _t(
    action: str, sources: Iterable[str], roles: frozenset[str], target: str | None = None, **kw: set[str]
) -> Transition:
    return Transition(action, frozenset(sources), roles, target, frozenset(kw.get("outcomes", set())))


A = Action
TRANSITIONS: dict[str, Transition] = {
    t.action: t
    for t in [
        # Intake (INT-3, INT-4)
        _t(A.SAVE_DRAFT, {NEW, S.DRAFT}, INTAKE, S.DRAFT),
        _t(A.SUBMIT, {NEW, S.DRAFT, S.RETURNED}, INTAKE, S.SUBMITTED),
        _t(A.ARCHIVE, {NEW, S.DRAFT, S.RETURNED}, INTAKE, S.CLOSED),
        _t(A.PROPOSE_NOT_ACCEPTED, {NEW, S.DRAFT, S.RETURNED, S.SUBMITTED}, INTAKE, S.PENDING_NOT_ACCEPTED),
        _t(A.CONFIRM_NOT_ACCEPTED, {S.PENDING_NOT_ACCEPTED}, OFFICE, S.NOT_ACCEPTED),
        _t(A.REJECT_NOT_ACCEPTED, {S.PENDING_NOT_ACCEPTED}, OFFICE, S.SUBMITTED),
        # Office review and dispatch (DSP-1..3)
        _t(A.RETURN_TO_AGENT, {S.SUBMITTED}, OFFICE, S.RETURNED),
        _t(A.CLOSE_DIRECTLY, {S.SUBMITTED}, OFFICE, S.CLOSED),
        _t(A.ASK_LEADER, {S.SUBMITTED}, OFFICE, S.LEADER_REVIEW),
        _t(A.LEADER_INSTRUCT, {S.LEADER_REVIEW}, frozenset({Role.LEADER}), S.SUBMITTED),
        _t(A.DISPATCH, {S.SUBMITTED}, OFFICE, S.DISPATCHED),
        # Units (HND-1..8); sign-for and report move the case only for the top-level main unit.
        _t(A.SIGN_FOR, IN_UNITS, UNIT, outcomes={S.DISPATCHED, S.HANDLING, S.REDO}),
        _t(A.RECORD_HANDLING, IN_UNITS, UNIT),
        _t(A.FORWARD, IN_UNITS, UNIT),
        _t(A.SEND_BACK, IN_UNITS, UNIT),
        _t(A.REPORT, IN_UNITS, UNIT, outcomes={S.HANDLING, S.REDO, S.RESULT_REVIEW}),
        _t(A.RETURN_TO_OFFICE, IN_UNITS, UNIT, S.RETURN_REVIEW),
        _t(A.REQUEST_EXTENSION, IN_UNITS, UNIT),
        _t(A.GIVE_OPINION, IN_UNITS, UNIT),
        _t(A.RETURN_OPINION, IN_UNITS, UNIT),
        _t(A.ADD_ASSISTING, IN_UNITS, UNIT),
        # Office rulings on units' requests
        _t(A.APPROVE_RETURN, {S.RETURN_REVIEW}, OFFICE, S.DISPATCHED),
        _t(A.REJECT_RETURN, {S.RETURN_REVIEW}, OFFICE, outcomes={S.HANDLING, S.REDO}),
        _t(A.DECIDE_EXTENSION, IN_UNITS | {S.RETURN_REVIEW, S.RESULT_REVIEW}, OFFICE),
        # Result review, callback, closing (CLS-1..4)
        _t(A.REVIEW_ACCEPT, {S.RESULT_REVIEW}, OFFICE, S.CALLBACK),
        _t(A.REVIEW_REJECT, {S.RESULT_REVIEW}, OFFICE, outcomes={S.HANDLING, S.REDO}),
        _t(A.REASSIGN, IN_UNITS | {S.RESULT_REVIEW, S.RETURN_REVIEW}, OFFICE, S.DISPATCHED),
        _t(A.CALLBACK, {S.CALLBACK}, CALLBACK_ROLES, outcomes={S.CLOSED, S.REDO, S.SPECIAL_SUPERVISION}),
        _t(A.SUPERVISION_OPINION, {S.SPECIAL_SUPERVISION}, frozenset({Role.UNIT_LEADER}), S.REDO),
        _t(
            A.OFFICE_CLOSE,
            IN_UNITS | {S.RESULT_REVIEW, S.CALLBACK, S.SPECIAL_SUPERVISION, S.RETURN_REVIEW},
            OFFICE,
            S.CLOSED,
        ),
        _t(A.SET_CLOSE_MARKS, {S.CLOSED}, OFFICE),
        _t(A.SET_VIOLATION, set(S.values) - {S.DRAFT}, SUPERVISORS),
        _t(A.RESET_PASSWORD, set(S.values) - {S.DRAFT}, CALLBACK_ROLES),
        _t(A.URGE, IN_UNITS | {S.RETURN_REVIEW}, SUPERVISORS),
        # Merge (并单): the merged request ends as MERGED; the target keeps its status (a closed one stays closed,
        # and only the office may merge into it); the office may undo, putting the request back where it was.
        _t(A.MERGE, {S.DRAFT, S.SUBMITTED, S.RETURNED}, INTAKE, S.MERGED),
        _t(A.MERGE_IN, set(S.values) - {S.DRAFT, S.MERGED, S.NOT_ACCEPTED, S.PENDING_NOT_ACCEPTED}, INTAKE),
        _t(A.UNMERGE, {S.MERGED}, OFFICE, outcomes={S.DRAFT, S.SUBMITTED, S.RETURNED}),
        _t(A.UNMERGE_OUT, set(S.values) - {S.DRAFT}, OFFICE),
    ]
}


def check(
    action: str, *, case: Case | None, user: User, status: str | None = None, target: str | None = None
) -> Transition:
    """Raise unless `user` may take `action` on `case` (None: a case not created yet); return the transition.

    The case itself is passed (not only its status) so that its flow template (`flowhooks`, FLW-1) may narrow
    what the backbone allows and add guards; `status` overrides the status judged (editing a returned case is
    judged as editing a draft); `target` is the status the service is about to move the case to, when known
    (a template's parallel join is judged only when the case leaves its step).
    """
    if status is None:
        status = case.status if case is not None else NEW
    transition = TRANSITIONS[action]
    if not user.has_role(*transition.roles):
        raise NotAllowed(_("您的角色不能执行“%(action)s”操作") % {"action": Action(action).label})
    if status not in transition.sources:
        status_label = S(status).label if status else _("新建")
        raise ServiceError(
            _("工单当前状态为“%(status)s”，不能执行“%(action)s”操作")
            % {"status": status_label, "action": Action(action).label},
            code="bad_status",
        )
    if case is not None and case.pk is not None:
        flowhooks.check(action, case=case, user=user, status=status, transition=transition, target=target)
    return transition


def allowed_actions(*, status: str, user: User, case: Case | None = None) -> list[str]:
    """Actions the lifecycle allows now (narrowed and ordered by `case`'s flow template when given);
    unit-level guards (own assignment) are checked by the services."""
    actions = [t.action for t in TRANSITIONS.values() if status in t.sources and user.has_role(*t.roles)]
    if case is not None and case.pk is not None:
        actions = flowhooks.narrow(case, user, actions)
    return actions


class Processing(models.TextChoices):
    """QRY-3 processing classification."""

    NOT_STARTED = "not_started", _("未办理")
    IN_PROGRESS = "in_progress", _("办理中")
    DONE = "done", _("已办结")


PROCESSING_OF_STATUS: dict[str, str] = {
    S.DRAFT: Processing.NOT_STARTED,
    S.PENDING_NOT_ACCEPTED: Processing.NOT_STARTED,
    S.SUBMITTED: Processing.NOT_STARTED,
    S.RETURNED: Processing.NOT_STARTED,
    S.LEADER_REVIEW: Processing.NOT_STARTED,
    S.DISPATCHED: Processing.NOT_STARTED,
    S.HANDLING: Processing.IN_PROGRESS,
    S.RETURN_REVIEW: Processing.IN_PROGRESS,
    S.RESULT_REVIEW: Processing.IN_PROGRESS,
    S.CALLBACK: Processing.IN_PROGRESS,
    S.REDO: Processing.IN_PROGRESS,
    S.SPECIAL_SUPERVISION: Processing.IN_PROGRESS,
    S.CLOSED: Processing.DONE,
    S.NOT_ACCEPTED: Processing.DONE,
    S.MERGED: Processing.DONE,
}
FINISHED_STATUSES = frozenset(s for s, p in PROCESSING_OF_STATUS.items() if p == Processing.DONE)


def statuses_in(processing: str) -> list[str]:
    return [s for s, p in PROCESSING_OF_STATUS.items() if p == processing]


class Supervision(models.TextChoices):
    """QRY-3 supervision classification: overdue is automatic, perfunctory and wrong are set by people."""

    NORMAL = "normal", _("正常")
    VIOLATION = "violation", _("违规")
    OVERDUE = "overdue", _("超期")
    PERFUNCTORY = "perfunctory", _("敷衍")
    WRONG = "wrong", _("错误")


# The stages a citizen would recognise, for the progress bar on the case page (QRY-4).
STAGES = ["受理登记", "审核派单", "单位签收", "单位办理", "结果审核", "回访评价", "办结"]
STAGE_OF_STATUS: dict[str, int] = {
    S.DRAFT: 0,
    S.RETURNED: 0,
    S.PENDING_NOT_ACCEPTED: 0,
    S.SUBMITTED: 1,
    S.LEADER_REVIEW: 1,
    S.DISPATCHED: 2,
    S.HANDLING: 3,
    S.REDO: 3,
    S.SPECIAL_SUPERVISION: 3,
    S.RETURN_REVIEW: 3,
    S.RESULT_REVIEW: 4,
    S.CALLBACK: 5,
    S.CLOSED: 6,
    S.NOT_ACCEPTED: 6,
    S.MERGED: 6,
}
