"""Many rendered messages, each to an audience (a list of users on their channels), written in one go.

The deadline sweep sends thousands of notices per batch, each to the same few audiences (the handlers and
leaders of a unit). Building one `Outbox` object per user and channel in Python dominated a large sweep; here
the caller renders each message once and names its audience, and PostgreSQL joins the two (one
`INSERT … SELECT` over unnested arrays). Elsewhere the rows are built and bulk-inserted.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, transaction

from hotline.common.pgarrays import TEXT_ARRAY, int_array, json_array

from .models import Channel, Outbox, OutboxStatus
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


def queue_fanout_from(
    *, messages: str, params: Sequence[Any], audiences: dict[int, list[Reach]], now: dt.datetime
) -> int:
    """PostgreSQL: `queue_fanout` for the messages a SELECT yields — (audience, template, subject, body, link),
    `audience` an integer key of `audiences` — rendered by the caller in SQL: the rows never travel through
    Python. Call inside a transaction."""
    members = [(key, r) for key, rows in audiences.items() for r in rows]
    if not members:
        return 0
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO notify_outbox (channel, recipient_id, address, template, subject, body, sealed_body, link,
                                       status, attempts, next_attempt_at, last_error, created_at, external_id)
            SELECT a.channel, a.user_id, a.address, m.template, m.subject, m.body, '', m.link,
                   %s, 0, a.send_at, '', %s, ''
            FROM ({messages}) AS m(audience, template, subject, body, link)
            JOIN unnest(%s::int[], %s::bigint[], {TEXT_ARRAY}, {TEXT_ARRAY}, {TEXT_ARRAY}::timestamptz[])
                 AS a(audience, user_id, channel, address, send_at) USING (audience)
            """,
            [
                OutboxStatus.PENDING,
                now,
                *params,
                int_array(k for k, _ in members),
                int_array(r.user_id for _, r in members),
                json_array(r.channel for _, r in members),
                json_array(r.address for _, r in members),
                json_array(r.send_at for _, r in members),
            ],
        )
        written = int(cursor.rowcount)
    if written and settings.CELERY_BROKER_URL:
        from .services import _kick_delivery

        transaction.on_commit(_kick_delivery)
    return written


def queue_fanout(
    *, messages: Sequence[Rendered], audiences: dict[Hashable, list[Reach]], now: dt.datetime
) -> int:
    """Write one outbox row per message and member of its audience, in the caller's transaction."""
    keys = {key: n for n, key in enumerate(audiences)}
    messages = [m for m in messages if audiences.get(m.audience)]
    if not messages:
        return 0
    if connection.vendor == "postgresql":
        members = [(keys[key], r) for key, rows in audiences.items() for r in rows]
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO notify_outbox (channel, recipient_id, address, template, subject, body, sealed_body, link,
                                           status, attempts, next_attempt_at, last_error, created_at, external_id)
                SELECT a.channel, a.user_id, a.address, m.template, m.subject, m.body, '', m.link,
                       %s, 0, a.send_at, '', %s, ''
                FROM unnest(%s::int[], {TEXT_ARRAY}, {TEXT_ARRAY}, {TEXT_ARRAY}, {TEXT_ARRAY})
                     AS m(audience, template, subject, body, link)
                JOIN unnest(%s::int[], %s::bigint[], {TEXT_ARRAY}, {TEXT_ARRAY}, {TEXT_ARRAY}::timestamptz[])
                     AS a(audience, user_id, channel, address, send_at) USING (audience)
                """,
                [
                    OutboxStatus.PENDING,
                    now,
                    int_array(keys[m.audience] for m in messages),
                    json_array(m.template for m in messages),
                    json_array(m.subject for m in messages),
                    json_array(m.body for m in messages),
                    json_array(m.link for m in messages),
                    int_array(k for k, _ in members),
                    int_array(r.user_id for _, r in members),
                    json_array(r.channel for _, r in members),
                    json_array(r.address for _, r in members),
                    json_array(r.send_at for _, r in members),
                ],
            )
            written = int(cursor.rowcount)
    else:
        rows = [
            Outbox(
                channel=r.channel,
                recipient_id=r.user_id,
                address=r.address,
                template=m.template,
                subject=m.subject,
                body=m.body,
                link=m.link,
                next_attempt_at=r.send_at,
                created_at=now,
            )
            for m in messages
            for r in audiences[m.audience]
        ]
        Outbox.objects.bulk_create(rows, batch_size=1000)
        written = len(rows)
    if written and settings.CELERY_BROKER_URL:
        from .services import _kick_delivery

        transaction.on_commit(_kick_delivery)
    return written
