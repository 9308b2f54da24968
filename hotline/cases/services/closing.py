"""Closing: callback, special supervision, office close, closing marks, violations, views, urging."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.urls import reverse
from django.utils.translation import gettext as _

from hotline.common import clock, crypto
from hotline.common.audit import audit_record
from hotline.common.errors import NotAllowed, ServiceError
from hotline.orgs.models import User
from hotline.sla import services as sla

from ..lifecycle import Action
from ..models import (
    OPEN_ASSIGNMENT_STATUSES,
    SATISFIED_RATINGS,
    Assignment,
    AssignmentRole,
    Callback,
    Case,
    CaseStatus,
    CloseKind,
)
from .core import _fail, _require_text, _transition, new_query_password
from .office import _cancel_open_assignments, _reopen_main_for_redo, _top_main


def _callback_outcome(
    case: Case, *, rating: str, method: str, now: Any
) -> tuple[str, Assignment | None, dict[str, Any]]:
    """CLS-3: what a rating does: satisfied closes; the first dissatisfaction is redone; the second goes to
    special supervision. Returns the target status, the reopened main assignment and the case updates."""
    from ..models import CallbackMethod, Rating

    if rating not in Rating.values:
        raise _fail("rating", _("满意度评价无效"))
    if method not in CallbackMethod.values:
        raise _fail("method", _("回访方式无效"))
    updates: dict[str, Any] = {"last_rating": rating}
    main: Assignment | None = None
    if rating in SATISFIED_RATINGS:
        to_status = CaseStatus.CLOSED
        updates.update(closed_at=now, close_kind=CloseKind.SATISFIED)
    else:
        updates["dissatisfied_count"] = case.dissatisfied_count + 1
        if updates["dissatisfied_count"] == 1:
            to_status = CaseStatus.REDO
            main = _reopen_main_for_redo(case)
            updates["due_at"] = main.due_at
        else:
            to_status = CaseStatus.SPECIAL_SUPERVISION
    return to_status, main, updates


def callback_answers(*, responded: str, solution: str) -> dict[str, str]:
    """The callback's two questions beside the rating (the "three rates"): did the unit contact the citizen, was
    the problem solved. A staff callback must record both (a citizen's own rating is not asked them: it leaves
    the fields ""). Missing or bad values → field errors."""
    from ..models import CallbackResponse, CallbackSolution

    errors: dict[str, list[str]] = {}
    if responded not in CallbackResponse.values:
        errors["responded"] = [_("请选择承办单位是否联系市民") if responded == "" else _("联系情况无效")]
    if solution not in CallbackSolution.values:
        errors["solution"] = [_("请选择问题是否解决") if solution == "" else _("解决情况无效")]
    if errors:
        raise ServiceError(_("回访内容不完整"), field_errors=errors)
    return {"responded": responded, "solution": solution}


def case_callback(
    *,
    case: Case,
    actor: User,
    expected_version: int | None,
    rating: str,
    method: str,
    responded: str,
    solution: str,
    citizen_words: str = "",
) -> Callback:
    """CLS-2/3: satisfied closes; the first dissatisfaction is redone; the second goes to special supervision.
    The callback also records whether the unit contacted the citizen and whether the problem was solved."""
    now = clock.now()
    answers = callback_answers(responded=responded, solution=solution)
    with transaction.atomic():
        to_status, main, updates = _callback_outcome(case, rating=rating, method=method, now=now)
        _transition(
            case,
            Action.CALLBACK,
            actor=actor,
            expected_version=expected_version,
            to_status=to_status,
            assignment=main,
            opinion=citizen_words,
            data={"rating": rating, "method": method, **answers},
            **updates,
        )
        return Callback.objects.create(
            case=case,
            actor=actor,
            method=method,
            rating=rating,
            citizen_words=citizen_words.strip(),
            created_at=now,
            **answers,
        )


def case_supervision_opinion(*, case: Case, actor: User, expected_version: int | None, opinion: str) -> Case:
    """Special supervision: the main unit's leader must give an opinion before the unit redoes the case."""
    main = _top_main(case)
    if actor.unit_id != main.unit_id:
        raise NotAllowed(_("只有主办单位领导可以填写特别督办意见"))
    opinion = _require_text("opinion", opinion, _("领导意见"))
    with transaction.atomic():
        main = _reopen_main_for_redo(case)
        _transition(
            case,
            Action.SUPERVISION_OPINION,
            actor=actor,
            expected_version=expected_version,
            assignment=main,
            opinion=opinion,
            due_at=main.due_at,
        )
    return case


def case_office_close(*, case: Case, actor: User, expected_version: int | None, reason: str) -> Case:
    reason = _require_text("reason", reason, _("办结理由"))
    with transaction.atomic():
        _transition(
            case,
            Action.OFFICE_CLOSE,
            actor=actor,
            expected_version=expected_version,
            opinion=reason,
            closed_at=clock.now(),
            close_kind=CloseKind.OFFICE,
            close_reason=reason,
        )
        _cancel_open_assignments(case)
    return case


def case_set_close_marks(
    *,
    case: Case,
    actor: User,
    expected_version: int | None,
    is_public: bool,
    push_hot: bool,
    is_typical: bool,
) -> tuple[Case, str | None]:
    """CLS-4. A case made non-public gets a query password if it has none (returned once)."""
    password = None
    updates: dict[str, Any] = {"is_public": is_public, "push_hot": push_hot, "is_typical": is_typical}
    if not is_public and not case.query_password:
        password = new_query_password()
        updates["query_password"] = crypto.hash_code(password)
    with transaction.atomic():
        _transition(
            case,
            Action.SET_CLOSE_MARKS,
            actor=actor,
            expected_version=expected_version,
            data={"is_public": is_public, "push_hot": push_hot, "is_typical": is_typical},
            **updates,
        )
    return case, password


def case_set_violation(
    *, case: Case, actor: User, expected_version: int | None, is_perfunctory: bool, is_wrong: bool, note: str
) -> Case:
    """QRY-3: perfunctory and wrong handling are judged by people, with a reason."""
    if (is_perfunctory or is_wrong) and not note.strip():
        raise _fail("note", _("请填写违规说明"))
    with transaction.atomic():
        _transition(
            case,
            Action.SET_VIOLATION,
            actor=actor,
            expected_version=expected_version,
            opinion=note,
            data={"is_perfunctory": is_perfunctory, "is_wrong": is_wrong},
            is_perfunctory=is_perfunctory,
            is_wrong=is_wrong,
            violation_note=note.strip()[:200],
        )
    return case


def case_record_view(*, case: Case, actor: User) -> None:
    """ORG-3: opening a case shows the citizen's personal data, so the view is audited."""
    audit_record(actor=actor, action="view", obj=case, summary=f"查看工单 {case.number}")


def case_urge(
    *,
    case: Case,
    actor: User,
    expected_version: int | None,
    message: str,
    assignment: Assignment | None = None,
) -> Case:
    """催办: the office presses the unit(s) at work on the case; recorded on the timeline and notified."""
    from hotline.notify.services import notify_users
    from hotline.orgs.models import Role

    message = _require_text("message", message, _("催办内容"))
    targets = (
        [assignment]
        if assignment is not None
        else list(
            Assignment.objects.filter(case=case, status__in=OPEN_ASSIGNMENT_STATUSES).exclude(
                role=AssignmentRole.CC
            )
        )
    )
    if not targets:
        raise ServiceError(_("没有正在办理的单位可以催办"), code="nothing_to_urge")
    with transaction.atomic():
        _transition(
            case,
            Action.URGE,
            actor=actor,
            expected_version=expected_version,
            opinion=message,
            assignment=targets[0],
            data={"units": [a.unit.name for a in targets]},
        )
        for target in targets:
            sla.urge_record(case=case, assignment=target, actor=actor, message=message, at=clock.now())
            users = User.objects.filter(
                unit_id=target.unit_id, is_active=True, roles__role__in=[Role.UNIT_HANDLER, Role.UNIT_LEADER]
            ).distinct()
            notify_users(
                users=users,
                template="case_urged",
                channels=["in_app", "sms"],
                link=reverse("case-detail", args=[case.pk]),
                context={"number": case.number, "title": case.title, "message": message},
            )
    return case


__all__ = [
    "case_callback",
    "case_office_close",
    "case_record_view",
    "case_set_close_marks",
    "case_set_violation",
    "case_supervision_opinion",
    "case_urge",
]
