"""Pushing queued deliveries to partners: signed POSTs, concurrently, retried with backoff (API-6).

A partner that is down loses nothing: its deliveries wait with growing intervals (30 s doubling to 30 min) and are
given up (dead, listed with a retry button) only when `HOTLINE_PARTNER_DEAD_AFTER_HOURS` (48) have passed. Each
push carries `Idempotency-Key` (the same on every retry) so a partner that received one twice can tell.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import F

from hotline.common import clock

from . import signing
from .models import Delivery, PartnerCall
from .services import partner_secret

BATCH = 500
WORKERS = 16
TIMEOUT_SECONDS = 10
_local = threading.local()


@dataclass(frozen=True)
class Outcome:
    delivery_id: int
    status_code: int | None
    error: str
    millis: int


def _millis() -> int:
    return int(time.monotonic() * 1000)


def dead_after() -> dt.timedelta:
    return dt.timedelta(hours=float(getattr(settings, "HOTLINE_PARTNER_DEAD_AFTER_HOURS", 48)))


def backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 1800))


def deliver_due(*, limit: int = 20_000) -> int:
    """Push what is due, batch by batch, until nothing is due or `limit` were tried; returns how many were sent."""
    sent = tried = 0
    while tried < limit:
        batch = _claim(min(BATCH, limit - tried))
        if not batch:
            break
        tried += len(batch)
        with ThreadPoolExecutor(max_workers=min(WORKERS, len(batch))) as pool:
            outcomes = list(pool.map(_push, batch))
        sent += _settle(batch, outcomes)
    return sent


def _claim(size: int) -> list[Delivery]:
    """Take due deliveries, pushing their next attempt out so an overlapping run does not send them too."""
    now = clock.now()
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(status=Delivery.Status.PENDING, next_attempt_at__lte=now)
            .select_related("subscription__partner")
            .order_by("next_attempt_at", "id")[:size]
        )
        if rows:
            Delivery.objects.filter(pk__in=[row.pk for row in rows]).update(
                next_attempt_at=now + dt.timedelta(seconds=TIMEOUT_SECONDS * 6)
            )
    return rows


def _session() -> requests.Session:
    session = getattr(_local, "session", None)
    if session is None:
        session = _local.session = requests.Session()
    return session


def _push(delivery: Delivery) -> Outcome:
    partner = delivery.subscription.partner
    url = delivery.subscription.url
    body = json.dumps(delivery.payload, ensure_ascii=False, sort_keys=True).encode()
    split = urlsplit(url)
    path = (split.path or "/") + (f"?{split.query}" if split.query else "")
    headers = signing.signed_headers(
        partner=partner.code,
        secret=partner_secret(partner),
        method="POST",
        path=path,
        body=body,
        algorithm=partner.sign_method,
    )
    headers.update({
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": delivery.idempotency_key,
        "X-Hotline-Event": delivery.event,
    })  # fmt: skip
    started = _millis()
    try:
        response = _session().post(
            url, data=body, headers=headers, timeout=TIMEOUT_SECONDS, allow_redirects=False
        )
    except requests.RequestException as exc:
        return Outcome(delivery.pk, None, type(exc).__name__, _millis() - started)
    error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}"
    return Outcome(delivery.pk, response.status_code, error, _millis() - started)


def _settle(batch: list[Delivery], outcomes: list[Outcome]) -> int:
    now = clock.now()
    by_id = {delivery.pk: delivery for delivery in batch}
    sent: list[int] = []
    calls: list[PartnerCall] = []
    with transaction.atomic():
        for outcome in outcomes:
            delivery = by_id[outcome.delivery_id]
            attempts = delivery.attempts + 1
            calls.append(
                PartnerCall(
                    partner=delivery.subscription.partner, direction=PartnerCall.Direction.OUT, method="POST",
                    path=delivery.subscription.url[:255], status_code=outcome.status_code or 0,
                    reason="" if not outcome.error else outcome.error[:32], at=now, duration_ms=outcome.millis,
                )
            )  # fmt: skip
            if not outcome.error:
                sent.append(delivery.pk)
                continue
            gone = now - delivery.created_at >= dead_after()
            Delivery.objects.filter(pk=delivery.pk).update(
                attempts=attempts,
                last_status=outcome.status_code,
                last_error=outcome.error[:255],
                status=Delivery.Status.DEAD if gone else Delivery.Status.PENDING,
                next_attempt_at=now + backoff(attempts),
            )
        if sent:
            Delivery.objects.filter(pk__in=sent).update(
                status=Delivery.Status.SENT, sent_at=now, last_error="", attempts=F("attempts") + 1
            )
        PartnerCall.objects.bulk_create(calls)
    return len(sent)
