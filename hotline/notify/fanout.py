"""Many rendered messages, each to an audience (a list of users on their channels), written in one go.

Notices go to the same few audiences again and again (the handlers and leaders of a unit). Each notice is
written once per channel, naming its audience (`models.Audience`, whose id is derived from its members, written
in the same transaction if new): the in-app inbox reads it by membership, delivery expands an SMS or e-mail
notice into one message per member (`services.expand_due`). The rows are built and bulk-inserted
(`queue_fanout`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import transaction

from .models import Audience, AudienceMember, Channel, Outbox, OutboxStatus
from .services import sms_send_time


@dataclass(frozen=True)
class Reach:
    """One user on one channel, with the address and the moment to send."""

    user_id: int
    channel: str
    address: str
    send_at: dt.datetime


@dataclass(frozen=True)
class Rendered:
    audience: Hashable
    template: str
    subject: str
    body: str
    link: str = ""


def reach(*, users: Iterable[Any], channels: Iterable[str], now: dt.datetime) -> list[Reach]:
    """Who of `users` can be reached on which of `channels` (SMS and e-mail need an address)."""
    sms_at = sms_send_time(now)
    rows: list[Reach] = []
    channels = list(channels)
    for user in users:
        for channel in channels:
            address = {"sms": getattr(user, "phone", ""), "email": getattr(user, "email", "")}.get(
                channel, ""
            )
            if channel != Channel.IN_APP and not address:
                continue
            rows.append(Reach(user.pk, channel, address, sms_at if channel == Channel.SMS else now))
    return rows


def audience_id(members: Sequence[Reach]) -> int:
    """The id of the audience of exactly these members (user, channel, address): 63 bits of their SHA-256, so
    every sweep computes the same id without a look-up (a collision among a city's few thousand audiences has a
    probability of about 1e-12)."""
    key = sorted({(r.user_id, r.channel, r.address) for r in members})
    digest = hashlib.sha256(json.dumps(key, ensure_ascii=False).encode()).digest()
    return int.from_bytes(digest[:8], "big") & ((1 << 63) - 1)


def ensure_audiences(audiences: dict[Hashable, list[Reach]]) -> dict[Hashable, int]:
    """The audience id of each non-empty audience, writing those not stored yet, in the caller's transaction.

    Written in id order, so two sweeps writing the same new audiences wait for each other instead of
    deadlocking; existing ones are left as they are (ON CONFLICT DO NOTHING). An audience's id is its members'
    digest, so a committed one never changes."""
    ids = {key: audience_id(rows) for key, rows in audiences.items() if rows}
    members: dict[int, set[tuple[int, str, str]]] = {}
    for key, rows in audiences.items():
        if key in ids:
            members.setdefault(ids[key], set()).update((r.user_id, r.channel, r.address) for r in rows)
    if not members:
        return ids
    Audience.objects.bulk_create([Audience(id=pk) for pk in sorted(members)], ignore_conflicts=True)
    AudienceMember.objects.bulk_create(
        [
            AudienceMember(audience_id=pk, user_id=user, channel=channel, address=address)
            for pk in sorted(members)
            for user, channel, address in sorted(members[pk])
        ],
        ignore_conflicts=True,
    )
    return ids


@dataclass(frozen=True)
class _Lane:
    """One audience on one channel: a notice to the audience is one outbox row per lane."""

    audience_id: int
    channel: str
    send_at: dt.datetime
    status: str
    sent_at: dt.datetime | None


def _lanes(members: Sequence[Reach], audience: int, now: dt.datetime) -> list[_Lane]:
    """In-app notices are delivered when written (the inbox reads them); SMS and e-mail wait for delivery."""
    send_at: dict[str, dt.datetime] = {}
    for r in members:
        send_at.setdefault(r.channel, r.send_at)
    return [
        _Lane(audience, channel, at, OutboxStatus.DELIVERED, now)
        if channel == Channel.IN_APP
        else _Lane(audience, channel, at, OutboxStatus.PENDING, None)
        for channel, at in sorted(send_at.items())
    ]


def queue_fanout(
    *, messages: Sequence[Rendered], audiences: dict[Hashable, list[Reach]], now: dt.datetime
) -> int:
    """Write one outbox row per message and channel of its audience, in the caller's transaction."""
    messages = [m for m in messages if audiences.get(m.audience)]
    if not messages:
        return 0
    used = {m.audience for m in messages}
    ids = ensure_audiences({key: rows for key, rows in audiences.items() if key in used})
    lanes = {key: _lanes(audiences[key], pk, now) for key, pk in ids.items()}
    rows = [
        Outbox(
            channel=lane.channel,
            audience_id=lane.audience_id,
            template=m.template,
            subject=m.subject,
            body=m.body,
            link=m.link,
            status=lane.status,
            next_attempt_at=lane.send_at,
            created_at=now,
            sent_at=lane.sent_at,
            delivered_at=lane.sent_at,
        )
        for m in messages
        for lane in lanes[m.audience]
    ]
    Outbox.objects.bulk_create(rows, batch_size=1000)
    if rows and settings.CELERY_BROKER_URL:
        from .services import _kick_delivery

        transaction.on_commit(_kick_delivery)
    return len(rows)
