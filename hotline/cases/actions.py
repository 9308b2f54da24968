"""The case and assignment actions a person takes on a case page or through the API, each with its input shape.

One entry per action: its URL slug, its summary, the serializer that validates its input, and a named function
that calls the one service. `api.py` turns each entry into its own API view (so the OpenAPI schema documents
each action with its own body) and `views.py` runs the same entry from the case page's forms; neither imports
the other. The lifecycle rules stay in `lifecycle.py` and the services: an action here only parses and calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext as _
from rest_framework import serializers

from hotline.common.errors import Conflict, ServiceError
from hotline.orgs.models import User

from . import serializers as s
from . import services
from .lifecycle import Action
from .models import Assignment, Case

# What an action's function returns: extra fields for the answer (a new query password), or None.
Extra = dict[str, Any] | None


@dataclass(frozen=True)
class CaseAction:
    """One action on a case (`target` is the Case) or on an assignment (`target` is the Assignment)."""

    slug: str
    summary: str
    input: type[serializers.Serializer]
    run: Callable[..., Extra]

    def perform(self, target: Any, *, actor: User, data: dict[str, Any]) -> Extra:
        """Run the action with validated input (`version` is the optimistic-lock version the user saw)."""
        values = dict(data)
        version = values.pop("version", None)
        try:
            return self.run(target, actor=actor, data=values, version=version)
        except ServiceError as refusal:
            # A loser of a race sees the state the winner left ("already signed for", "no pending return"…);
            # the truth is that it acted on an old version: always 409, whichever check refused first.
            if version is not None and refusal.status_code == 400 and _is_stale(target, version):
                raise Conflict(_("工单已被他人更新，请刷新后重试")) from refusal
            raise


def _is_stale(target: Case | Assignment, version: int) -> bool:
    case_id = target.pk if isinstance(target, Case) else target.case_id
    return not Case.objects.filter(pk=case_id, version=version).exists()


def _targets(data: dict[str, Any]) -> list[services.Target]:
    return [services.Target(t["unit"], t["role"]) for t in data.get("targets", [])]


# --------------------------------------------------------------------------- case actions


def submit(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_take_intake_action(case=case, actor=actor, action=Action.SUBMIT, expected_version=version)
    return None


def archive(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_take_intake_action(
        case=case, actor=actor, action=Action.ARCHIVE, expected_version=version, answer=data["answer"]
    )
    return None


def propose_not_accepted(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_take_intake_action(
        case=case,
        actor=actor,
        action=Action.PROPOSE_NOT_ACCEPTED,
        expected_version=version,
        not_accepted_reason=data["not_accepted_reason"],
        not_accepted_text=data["not_accepted_text"],
    )
    return None


def confirm_not_accepted(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_confirm_not_accepted(
        case=case, actor=actor, expected_version=version, opinion=data["opinion"]
    )
    return None


def reject_not_accepted(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_reject_not_accepted(
        case=case, actor=actor, expected_version=version, opinion=data["opinion"]
    )
    return None


def return_to_agent(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_return_to_agent(case=case, actor=actor, expected_version=version, opinion=data["opinion"])
    return None


def close_directly(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_close_directly(case=case, actor=actor, expected_version=version, reason=data["reason"])
    return None


def ask_leader(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_ask_leader(case=case, actor=actor, expected_version=version, opinion=data["opinion"])
    return None


def leader_instruct(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_leader_instruct(
        case=case, actor=actor, expected_version=version, instruction=data["instruction"]
    )
    return None


def dispatch(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_dispatch(
        case=case,
        actor=actor,
        expected_version=version,
        targets=_targets(data),
        opinion=data["opinion"],
        due_at=data["due_at"],
    )
    return None


def reassign(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_reassign(
        case=case,
        actor=actor,
        expected_version=version,
        targets=_targets(data),
        opinion=data["opinion"],
        due_at=data["due_at"],
    )
    return None


def approve_return(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_approve_return(
        case=case, actor=actor, expected_version=version, targets=_targets(data), opinion=data["opinion"]
    )
    return None


def reject_return(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_reject_return(case=case, actor=actor, expected_version=version, opinion=data["opinion"])
    return None


def review_accept(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_review_accept(case=case, actor=actor, expected_version=version, opinion=data["opinion"])
    return None


def review_reject(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_review_reject(case=case, actor=actor, expected_version=version, opinion=data["opinion"])
    return None


def callback(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_callback(
        case=case,
        actor=actor,
        expected_version=version,
        rating=data["rating"],
        method=data["method"],
        responded=data["responded"],
        solution=data["solution"],
        citizen_words=data["citizen_words"],
    )
    return None


def supervision_opinion(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_supervision_opinion(
        case=case, actor=actor, expected_version=version, opinion=data["opinion"]
    )
    return None


def office_close(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_office_close(case=case, actor=actor, expected_version=version, reason=data["reason"])
    return None


def close_marks(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    _marked, password = services.case_set_close_marks(
        case=case, actor=actor, expected_version=version, **data
    )
    return {"query_password": password}


def violation(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.case_set_violation(case=case, actor=actor, expected_version=version, **data)
    return None


def urge(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    assignment = data["assignment"]
    services.case_urge(
        case=case,
        actor=actor,
        expected_version=version,
        message=data["message"],
        assignment=assignment if assignment and assignment.case_id == case.pk else None,
    )
    return None


def reset_password(case: Case, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    """Staff send the citizen a reset code; the code and the new password never reach staff."""
    sent = services.query_password_code_send(case=case, actor=actor)
    return {"code_sent_to": sent.masked_address}


# --------------------------------------------------------------------------- assignment actions


def sign_for(assignment: Assignment, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.assignment_sign_for(assignment=assignment, actor=actor, expected_version=version)
    return None


def record_handling(
    assignment: Assignment, *, actor: User, data: dict[str, Any], version: int | None
) -> Extra:
    services.assignment_record_handling(assignment=assignment, actor=actor, expected_version=version, **data)
    return None


def forward(assignment: Assignment, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.assignment_forward(
        assignment=assignment,
        actor=actor,
        expected_version=version,
        targets=_targets(data),
        opinion=data["opinion"],
    )
    return None


def send_back(assignment: Assignment, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.assignment_send_back(
        assignment=assignment, actor=actor, expected_version=version, reason=data["reason"]
    )
    return None


def report(assignment: Assignment, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.assignment_report(
        assignment=assignment, actor=actor, expected_version=version, result=data["result"]
    )
    return None


def return_to_office(
    assignment: Assignment, *, actor: User, data: dict[str, Any], version: int | None
) -> Extra:
    services.assignment_return_to_office(assignment=assignment, actor=actor, expected_version=version, **data)
    return None


def request_extension(
    assignment: Assignment, *, actor: User, data: dict[str, Any], version: int | None
) -> Extra:
    services.assignment_request_extension(
        assignment=assignment, actor=actor, expected_version=version, **data
    )
    return None


def give_opinion(assignment: Assignment, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.assignment_give_opinion(
        assignment=assignment, actor=actor, expected_version=version, opinion=data["opinion"]
    )
    return None


def return_opinion(
    assignment: Assignment, *, actor: User, data: dict[str, Any], version: int | None
) -> Extra:
    services.assignment_return_opinion(
        assignment=assignment, actor=actor, expected_version=version, reason=data["reason"]
    )
    return None


def add_assisting(assignment: Assignment, *, actor: User, data: dict[str, Any], version: int | None) -> Extra:
    services.assignment_add_assisting(
        assignment=assignment,
        actor=actor,
        expected_version=version,
        targets=_targets(data),
        opinion=data["opinion"],
    )
    return None


def _index(*entries: CaseAction) -> dict[str, CaseAction]:
    return {entry.slug: entry for entry in entries}


CASE_ACTIONS: dict[str, CaseAction] = _index(
    CaseAction("submit", "提交热线办", s.IntakeActionInput, submit),
    CaseAction("archive", "解决归档", s.IntakeActionInput, archive),
    CaseAction("propose-not-accepted", "申请不予受理", s.IntakeActionInput, propose_not_accepted),
    CaseAction("confirm-not-accepted", "确认不予受理", s.OpinionInput, confirm_not_accepted),
    CaseAction("reject-not-accepted", "驳回不予受理", s.OpinionInput, reject_not_accepted),
    CaseAction("return-to-agent", "退回坐席", s.OpinionInput, return_to_agent),
    CaseAction("close-directly", "直接办结", s.ReasonInput, close_directly),
    CaseAction("ask-leader", "呈请领导批示", s.OpinionInput, ask_leader),
    CaseAction("leader-instruct", "领导批示", s.InstructionInput, leader_instruct),
    CaseAction("dispatch", "派单（一个主办单位，可选协办、抄送）", s.DispatchInput, dispatch),
    CaseAction("reassign", "改派", s.DispatchInput, reassign),
    CaseAction("approve-return", "同意退件并改派", s.ApproveReturnInput, approve_return),
    CaseAction("reject-return", "驳回退件", s.OpinionInput, reject_return),
    CaseAction("review-accept", "结果审核通过", s.OpinionInput, review_accept),
    CaseAction("review-reject", "结果审核退回单位", s.OpinionInput, review_reject),
    CaseAction("callback", "回访评价", s.CallbackInput, callback),
    CaseAction("supervision-opinion", "特别督办：单位领导意见", s.OpinionInput, supervision_opinion),
    CaseAction("office-close", "热线办决定办结", s.ReasonInput, office_close),
    CaseAction("close-marks", "设置公开、热点、典型标记", s.CloseMarksInput, close_marks),
    CaseAction("violation", "标记敷衍、错误办理", s.ViolationInput, violation),
    CaseAction("urge", "催办", s.UrgeInput, urge),
    CaseAction("reset-password", "向来电人发送查询密码重置验证码", s.VersionInput, reset_password),
)

ASSIGNMENT_ACTIONS: dict[str, CaseAction] = _index(
    CaseAction("sign-for", "签收", s.VersionInput, sign_for),
    CaseAction("handling-records", "填写办理记录", s.HandlingInput, record_handling),
    CaseAction("forward", "下派", s.TargetsInput, forward),
    CaseAction("send-back", "退回上级", s.ReasonInput, send_back),
    CaseAction("report", "办结上报", s.ResultInput, report),
    CaseAction("return", "退件（退回热线办）", s.ReturnInput, return_to_office),
    CaseAction("extension", "申请延期", s.ExtensionInput, request_extension),
    CaseAction("opinion", "协办单位反馈意见", s.OpinionInput, give_opinion),
    CaseAction("return-opinion", "主办单位发回协办意见", s.ReasonInput, return_opinion),
    CaseAction("add-assisting", "协办单位增加协办、抄送单位", s.TargetsInput, add_assisting),
)
