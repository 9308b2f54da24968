"""Case events to partner webhooks (API-6): after commit, each subscription that may see the case gets one
delivery row; `delivery.py` pushes them. A partner sees a case only through its service account's scope, and
the caller masked as that account would see it on the screen."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.db import IntegrityError, transaction

from hotline.cases import masking
from hotline.cases.lifecycle import Action
from hotline.cases.models import Case, CaseEvent, CaseStatus
from hotline.cases.selectors import case_visible
from hotline.common import clock

from .models import Delivery, EmergencyHandover, ExternalCase, Subscription

logger = logging.getLogger(__name__)

DISPATCHING = {Action.DISPATCH, Action.REASSIGN, Action.APPROVE_RETURN}


def event_types(*, action: str, from_status: str, to_status: str) -> set[str]:
    kinds: set[str] = set()
    if from_status in ("", CaseStatus.DRAFT) and to_status not in ("", CaseStatus.DRAFT):
        kinds.add(Subscription.Event.CREATED)
    if action in DISPATCHING:
        kinds.add(Subscription.Event.DISPATCHED)
    if action == Action.URGE:
        kinds.add(Subscription.Event.URGED)
    if to_status == CaseStatus.CLOSED and from_status != CaseStatus.CLOSED:
        kinds.add(Subscription.Event.CLOSED)
    if from_status != to_status and to_status != CaseStatus.DRAFT:
        kinds.add(Subscription.Event.STATUS_CHANGED)
    return kinds


def on_case_transitioned(
    sender: Any, *, case: Case, action: str, from_status: str, to_status: str, event: CaseEvent, **kwargs: Any
) -> None:
    kinds = event_types(action=action, from_status=from_status or "", to_status=to_status or "")
    if not kinds:
        return
    for subscription in active_subscriptions():
        wanted = kinds.intersection(subscription.events)
        if not wanted:
            continue
        user = subscription.partner.service_user
        assert user is not None
        if not partner_sees(subscription.partner, user, case):
            continue
        for kind in sorted(wanted):
            _queue(subscription, kind, case, event, user)


def partner_sees(partner: Any, user: Any, case: Case) -> bool:
    """A unit's system sees what its unit sees; a platform that sends us cases sees the cases it sent, and an
    emergency platform the cases handed to it."""
    if partner.unit_id is not None:
        return case_visible(user=user).filter(pk=case.pk).exists()
    return (
        ExternalCase.objects.filter(partner=partner, case_id=case.pk).exists()
        or EmergencyHandover.objects.filter(partner=partner, case_id=case.pk).exists()
    )


# Every case transition asks for the subscriptions: this process keeps them for a few seconds (a change made here is
# seen at once, see `forget_subscriptions`), so a platform without partners pays no query per transition.
SUBSCRIPTION_CACHE_SECONDS = 10.0
_cached: tuple[float, list[Subscription]] | None = None


def active_subscriptions() -> list[Subscription]:
    global _cached
    now = time.monotonic()
    if _cached is None or now - _cached[0] > SUBSCRIPTION_CACHE_SECONDS:
        rows = Subscription.objects.filter(
            is_active=True, partner__is_active=True, partner__service_user__isnull=False
        ).select_related("partner__service_user")
        _cached = (now, list(rows))
    return _cached[1]


def forget_subscriptions() -> None:
    global _cached
    _cached = None


def _queue(subscription: Subscription, kind: str, case: Case, event: CaseEvent, user: Any) -> None:
    queue_delivery(
        subscription,
        key=f"{event.pk}-{subscription.pk}-{kind}",
        kind=kind,
        case_id=case.pk,
        payload=case_payload(case=case, event=event, kind=kind, user=user),
    )


def queue_delivery(
    subscription: Subscription, *, key: str, kind: str, case_id: int, payload: dict[str, Any]
) -> None:
    """One push to one subscription, once per idempotency key (a resent signal or a retried action queues nothing)."""
    now = clock.now()
    try:
        with transaction.atomic():
            Delivery.objects.create(
                subscription=subscription,
                idempotency_key=key,
                event=kind,
                case_id=case_id,
                payload=payload,
                next_attempt_at=now,
                created_at=now,
            )
    except IntegrityError:
        logger.info("delivery %s to subscription %s already queued", key, subscription.pk)


def case_payload(*, case: Case, event: CaseEvent, kind: str, user: Any) -> dict[str, Any]:
    return {
        "event": kind,
        "event_id": event.pk,
        "occurred_at": event.at.isoformat(),
        "action": event.action,
        "from_status": event.from_status,
        "to_status": event.to_status,
        "opinion": event.opinion,
        "case": case_payload_fields(case, user),
    }


def case_payload_fields(case: Case, user: Any) -> dict[str, Any]:
    """A case as a partner's service account may see it (the caller masked as on its screen)."""
    caller = masking.caller(case, user)
    return {
        "number": case.number,
        "status": case.status,
        "title": case.title,
        "content": case.content,
        "case_type": case.case_type.name if case.case_type else "",
        "urgency": case.urgency.name if case.urgency else "",
        "location": case.location,
        "caller": {"name": caller.name, "phone": caller.phone, "address": caller.address},
        "created_at": case.created_at.isoformat(),
    }
