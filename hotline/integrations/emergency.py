"""Emergency linkage (API-4): a case handed to the 110 / 119 / 120 / 122 platform from the case page.

The hand-over is recorded on the case's timeline, pushed to the platform's webhook (the `emergency` event,
signed, retried like every push), acknowledged by the platform through the partner API and followed by its
feedback; the platform then also receives the case's later status changes. The voice side: when the person
handing over is an agent talking (or holding) on a call linked to the case, the same click blind-transfers the
caller to the service's number (110 / 119 / 120 / 122, routed by the trunk) through the call bar's own action. The hand-over figure is the time from the
agent's click to the platform's acknowledgement, against the 10-minute rule."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from hotline.cases import services as case_services
from hotline.cases.lifecycle import Action
from hotline.cases.models import Case
from hotline.common import clock
from hotline.common.audit import audit_record
from hotline.common.errors import NotAllowed, NotFound, ServiceError
from hotline.orgs.models import Role, User

from .models import EmergencyHandover, Partner, Subscription
from .webhooks import case_payload_fields, queue_delivery

HANDOVER_LIMIT = dt.timedelta(minutes=10)
TRANSFER_ROLES = (Role.AGENT, Role.DISPATCHER, Role.MONITOR)


def may_transfer(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.has_role(*TRANSFER_ROLES)


def emergency_partners() -> list[Partner]:
    return list(Partner.objects.filter(kind=Partner.Kind.EMERGENCY, is_active=True).order_by("code"))


def _linked_live_agent(actor: User, case: Case) -> Any:
    """The actor's seat when it is on a call (talking or holding) linked to `case`, else None."""
    from hotline.telephony.models import Agent, CallCase
    from hotline.telephony.states import AgentState

    agent = (
        Agent.objects.filter(user=actor, state__in=(AgentState.TALKING, AgentState.HOLD))
        .exclude(current_call=None)
        .first()
    )
    if agent is None or agent.current_call_id is None:
        return None
    if not CallCase.objects.filter(call_id=agent.current_call_id, case=case).exists():
        return None
    return agent


def _transfer_voice(actor: User, case: Case, number: str) -> str:
    """Blind-transfer the linked call to `number`; returns the number, or "" when there is no such call or the
    call bar refuses (the data hand-over goes ahead either way)."""
    from hotline.telephony import services as tel_services

    agent = _linked_live_agent(actor, case)
    if agent is None:
        return ""
    try:
        tel_services.agent_call_action(
            agent=agent, action="transfer", actor=actor, target_kind="number", target=number
        )
    except ServiceError:
        return ""
    return number


def emergency_transfer(
    *,
    case: Case,
    actor: User,
    service: str,
    partner: Partner,
    note: str = "",
    transfer_call: bool = True,
) -> EmergencyHandover:
    """Hand `case` (already fetched through the actor's scope) to an emergency platform; with `transfer_call`,
    the caller's linked call goes to the service's number too."""
    if not may_transfer(actor):
        raise NotAllowed(_("只有话务员、派单员和班长可以转应急联动"))
    if service not in EmergencyHandover.Service.values:
        raise ServiceError(_("请选择联动类别"), field_errors={"service": [_("请选择联动类别")]})
    if partner.kind != Partner.Kind.EMERGENCY or not partner.is_active:
        raise ServiceError(
            _("请选择已启用的联动平台"), field_errors={"partner": [_("请选择已启用的联动平台")]}
        )
    if EmergencyHandover.objects.filter(
        case=case, partner=partner, status=EmergencyHandover.Status.SENT
    ).exists():
        raise ServiceError(_("已转交该平台，正等待接收"), code="already_sent")
    now = clock.now()
    label = EmergencyHandover.Service(service).label
    with transaction.atomic():
        voice = _transfer_voice(actor, case, service) if transfer_call else ""
        handover = EmergencyHandover.objects.create(
            case=case,
            partner=partner,
            service=service,
            note=note.strip()[:500],
            requested_by=actor,
            requested_at=now,
            voice_number=voice,
        )
        said = _("，通话已转接 %(n)s") % {"n": voice} if voice else ""
        case_services.case_annotate(
            case=case,
            actor=actor,
            action=Action.EMERGENCY_TRANSFER,
            opinion=f"{label}（{partner.name}）{said}" + (f"：{handover.note}" if handover.note else ""),
            data={"handover": handover.pk, "service": service, "partner": partner.code},
        )
        _queue_push(handover)
    return handover


def _queue_push(handover: EmergencyHandover) -> None:
    subscriptions = [  # a partner has a handful: filtered here, the same on SQLite and PostgreSQL
        s
        for s in Subscription.objects.filter(partner=handover.partner, is_active=True)
        if Subscription.Event.EMERGENCY in s.events
    ]
    user = handover.partner.service_user
    payload = {
        "event": Subscription.Event.EMERGENCY.value,
        "handover_id": handover.pk,
        "service": handover.service,
        "note": handover.note,
        "requested_at": handover.requested_at.isoformat(),
        "voice_transferred_to": handover.voice_number or None,  # the caller is on the line to that number
        "case": case_payload_fields(handover.case, user),
    }
    for subscription in subscriptions:
        queue_delivery(
            subscription,
            key=f"emergency-{handover.pk}-{subscription.pk}",
            kind=Subscription.Event.EMERGENCY,
            case_id=handover.case_id,
            payload=payload,
        )


@dataclass(frozen=True)
class Feedback:
    status: str
    external_id: str = ""
    note: str = ""


def emergency_feedback(*, partner: Partner, handover_id: int, feedback: Feedback) -> EmergencyHandover:
    """The platform acknowledges (`acknowledged`) or reports the outcome (`finished`) of a hand-over sent to it."""
    if feedback.status not in (EmergencyHandover.Status.ACKNOWLEDGED, EmergencyHandover.Status.FINISHED):
        raise ServiceError(
            _("status 须是 acknowledged 或 finished"),
            field_errors={"status": [_("status 须是 acknowledged 或 finished")]},
        )
    now = clock.now()
    with transaction.atomic():
        handover = (
            EmergencyHandover.objects.select_for_update()
            .select_related("case")
            .filter(pk=handover_id, partner=partner)
        ).first()
        if handover is None:
            raise NotFound(_("未找到该转交"))
        if handover.status == EmergencyHandover.Status.FINISHED:
            return handover  # a retried report changes nothing
        if handover.acknowledged_at is None:
            handover.acknowledged_at = now
        if feedback.status == EmergencyHandover.Status.FINISHED:
            handover.finished_at = now
        handover.status = feedback.status
        handover.external_id = feedback.external_id.strip()[:64] or handover.external_id
        if feedback.note.strip():
            handover.feedback = (
                handover.feedback + "\n" if handover.feedback else ""
            ) + feedback.note.strip()[:2000]
        handover.save()
        case_services.case_annotate(
            case=handover.case,
            actor=partner.service_user,
            action=Action.EMERGENCY_FEEDBACK,
            opinion=f"{EmergencyHandover.Status(feedback.status).label}"
            + (f"（{handover.external_id}）" if handover.external_id else "")
            + (f"：{feedback.note.strip()[:500]}" if feedback.note.strip() else ""),
            data={"handover": handover.pk, "status": feedback.status},
        )
        audit_record(
            actor=partner.service_user, action="update", obj=handover, summary=f"联动反馈 {feedback.status}"
        )
    return handover


def case_handovers(*, case: Case) -> list[EmergencyHandover]:
    return list(EmergencyHandover.objects.filter(case=case).select_related("partner", "requested_by"))


@dataclass(frozen=True)
class HandoverFigure:
    total: int
    acknowledged: int
    within_limit: int

    @property
    def rate(self) -> float | None:
        return self.within_limit / self.total if self.total else None


def handover_figure(*, partner: Partner | None = None, since: dt.datetime | None = None) -> HandoverFigure:
    """Hand-overs in the period, how many were acknowledged, how many within 10 minutes (an unacknowledged hand-over
    older than 10 minutes counts against the rate; a younger one is left out until it is decided)."""
    now = clock.now()
    rows = EmergencyHandover.objects.all()
    if partner is not None:
        rows = rows.filter(partner=partner)
    if since is not None:
        rows = rows.filter(requested_at__gte=since)
    total = acknowledged = within = 0
    for requested_at, acknowledged_at in rows.values_list("requested_at", "acknowledged_at"):
        if acknowledged_at is None and now - requested_at <= HANDOVER_LIMIT:
            continue
        total += 1
        if acknowledged_at is not None:
            acknowledged += 1
            within += acknowledged_at - requested_at <= HANDOVER_LIMIT
    return HandoverFigure(total=total, acknowledged=acknowledged, within_limit=within)
