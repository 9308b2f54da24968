"""Reads of the integrations package (only system administrators see partners)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Max, Min, Q, QuerySet

from hotline.common import clock

from .models import Delivery, Partner, PartnerCall, Subscription
from .permissions import may_manage_partners


def partner_list(*, user: Any, since: dt.datetime | None = None) -> QuerySet[Partner]:
    if not may_manage_partners(user):
        return Partner.objects.none()
    since = since or clock.now() - dt.timedelta(hours=24)
    recent = Q(calls__at__gte=since)
    return Partner.objects.annotate(
        calls_ok=Count("calls", filter=recent & Q(calls__status_code__lt=400)),
        calls_failed=Count("calls", filter=recent & Q(calls__status_code__gte=400)),
        last_call_at=Max("calls__at"),
    ).order_by("code")


def partner_get(*, user: Any, pk: int) -> Partner | None:
    if not may_manage_partners(user):
        return None
    return Partner.objects.filter(pk=pk).first()


def partner_failures(*, partner: Partner, since: dt.datetime | None = None) -> list[dict[str, Any]]:
    since = since or clock.now() - dt.timedelta(hours=24)
    rows = (
        PartnerCall.objects.filter(partner=partner, at__gte=since, status_code__gte=400)
        .values("reason", "status_code")
        .annotate(count=Count("id"))
        .order_by("-count")
    )
    return [dict(row) for row in rows]


def partner_calls(*, partner: Partner, limit: int = 100) -> QuerySet[PartnerCall]:
    return PartnerCall.objects.filter(partner=partner).order_by("-at", "-id")[:limit]


def unknown_caller_failures(*, user: Any, since: dt.datetime | None = None) -> int:
    """Refused calls that named no registered partner: a probe or a misconfigured client."""
    if not may_manage_partners(user):
        return 0
    since = since or clock.now() - dt.timedelta(hours=24)
    return PartnerCall.objects.filter(partner__isnull=True, at__gte=since).count()


def partner_backlog(*, partner: Partner) -> dict[str, Any]:
    """What waits to be pushed to the partner, what was given up, and since when the oldest has waited."""
    rows = Delivery.objects.filter(subscription__partner=partner)
    figures = rows.aggregate(
        pending=Count("id", filter=Q(status=Delivery.Status.PENDING)),
        dead=Count("id", filter=Q(status=Delivery.Status.DEAD)),
        oldest_pending=Min("created_at", filter=Q(status=Delivery.Status.PENDING)),
    )
    return dict(figures)


def partner_subscriptions(*, partner: Partner) -> QuerySet[Subscription]:
    return Subscription.objects.filter(partner=partner).order_by("id")


def partner_dead_deliveries(*, partner: Partner, limit: int = 50) -> QuerySet[Delivery]:
    return Delivery.objects.filter(subscription__partner=partner, status=Delivery.Status.DEAD).order_by(
        "-id"
    )[:limit]
