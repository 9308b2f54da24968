"""Outbound messages: written to the outbox in the caller's transaction, delivered after commit."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Collection, Iterable
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Case as SqlCase
from django.db.models import CharField, F, Q, TextField, Value, When
from django.utils import timezone

from hotline.common import clock, crypto
from hotline.common.db import copy_insert

from .dlr import sign_reference, verify_reference
from .gateways import GatewayError, SmsGateway, configured_gateway
from .models import AudienceMember, Channel, DeliveryLog, MessageTemplate, NoticeRead, Outbox, OutboxStatus

logger = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
STUCK_AFTER = dt.timedelta(minutes=10)


class TemplateMissing(LookupError):
    """No active message template with that code (never created, or switched off by the office)."""


class _Keep(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render(
    code: str,
    context: dict[str, Any],
    *,
    templates: dict[str, MessageTemplate] | None = None,
    read: dict[str, MessageTemplate] | None = None,
) -> tuple[str, str]:
    """Subject and body of a template with {placeholders} filled; unknown placeholders stay visible.
    `templates`: rows already read (by code); `read`: filled with the row read here, for a second rendering."""
    template = templates.get(code) if templates is not None else None
    if template is None:
        template = MessageTemplate.objects.filter(code=code, is_active=True).first()
        if template is not None and read is not None:
            read[code] = template
    if template is None:
        raise TemplateMissing(f"message template {code!r} is missing")
    values = _Keep(context)  # str.format_map: string.Formatter's rules, in C (the sweep renders thousands)
    return template.subject.format_map(values), template.body.format_map(values)


def active_templates() -> dict[str, MessageTemplate]:
    """All active templates, for callers that render many messages at once (the sweep)."""
    return {t.code: t for t in MessageTemplate.objects.filter(is_active=True)}


def quiet_hours() -> tuple[dt.time, dt.time] | None:
    """SMS quiet hours (e.g. 22:00-07:00) from HOTLINE_SMS_QUIET_HOURS; empty disables them."""
    value = os.environ.get("HOTLINE_SMS_QUIET_HOURS", "22:00-07:00").strip()
    if not value:
        return None
    start, end = (dt.time.fromisoformat(part.strip()) for part in value.split("-"))
    return start, end


def sms_send_time(moment: dt.datetime) -> dt.datetime:
    """The first moment at or after `moment` outside the quiet hours."""
    quiet = quiet_hours()
    if quiet is None:
        return moment
    start, end = quiet
    local = timezone.localtime(moment)
    now_t = local.time()
    inside = (start <= now_t or now_t < end) if start > end else (start <= now_t < end)
    if not inside:
        return moment
    wake = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    return wake if wake > local else wake + dt.timedelta(days=1)


def build_messages(
    *,
    users: Iterable[Any],
    template: str,
    context: dict[str, Any],
    channels: Iterable[str],
    link: str = "",
    templates: dict[str, MessageTemplate] | None = None,
) -> list[Outbox]:
    """Unsaved outbox rows, one per user and channel that can reach the user."""
    subject, body = render(template, context, templates=templates)
    now = clock.now()
    rows: list[Outbox] = []
    for user in users:
        for channel in channels:
            address = {"sms": getattr(user, "phone", ""), "email": getattr(user, "email", "")}.get(
                channel, ""
            )
            if channel != Channel.IN_APP and not address:
                continue  # nobody to reach on that channel
            when = sms_send_time(now) if channel == Channel.SMS else now
            rows.append(
                Outbox(
                    channel=channel,
                    recipient=user,
                    address=address,
                    template=template,
                    subject=subject,
                    body=body,
                    link=link,
                    next_attempt_at=when,
                    created_at=now,
                )
            )
    return rows


REDACTED = "******"


def build_address_message(
    *,
    channel: str,
    address: str,
    template: str,
    context: dict[str, Any],
    secrets: Collection[str] = (),
    templates: dict[str, MessageTemplate] | None = None,
) -> Outbox:
    """An unsaved message to someone who is not a user (a citizen's phone or e-mail).

    `secrets` name placeholders (a query password) that only the recipient may read: the stored body shows them
    as ******, the full text is kept encrypted for delivery alone (`delivery_text`). `templates`: active rows
    already at hand (by code), else the template is read."""
    read: dict[str, MessageTemplate] = dict(templates or {})
    subject, body = render(template, context, templates=read, read=read)
    sealed = ""
    if secrets and any(context.get(k) for k in secrets):
        sealed = crypto.encrypt(body)
        _, body = render(
            template, {**context, **{k: REDACTED for k in secrets if context.get(k)}}, templates=read
        )
    now = clock.now()
    when = sms_send_time(now) if channel == Channel.SMS else now
    return Outbox(
        channel=channel,
        address=address,
        template=template,
        subject=subject,
        body=body,
        sealed_body=sealed,
        next_attempt_at=when,
        created_at=now,
    )


def delivery_text(message: Outbox) -> str:
    """The text the recipient gets: the sealed full text when the stored body hides a secret."""
    return crypto.decrypt(message.sealed_body) if message.sealed_body else message.body


def citizen_templates() -> list[MessageTemplate]:
    return list(MessageTemplate.objects.filter(is_active=True, code__startswith="citizen_").order_by("code"))


def queue_messages(rows: list[Outbox], *, fast: bool = False) -> list[Outbox]:
    """Write outbox rows in the caller's transaction; delivery starts right after commit: the SMS and e-mails
    due now are handed to the delivery worker through the push broker (`listen_for_delivery`), and with Celery
    a delivery round is queued. The rows stay the record: whatever the hand-over misses (no worker listening,
    a failed send to retry) the periodic delivery job sends.

    `fast` copies the rows in without returning their ids (for the sweep's thousands of notices).
    """
    if fast:
        copy_insert(Outbox, rows)
        created = rows
    else:
        created = Outbox.objects.bulk_create(rows)
    if created and settings.CELERY_BROKER_URL:
        transaction.on_commit(_kick_delivery)
    now = clock.now()
    due = [
        row.pk
        for row in created
        if row.pk is not None
        and row.audience_id is None
        and row.channel in (Channel.SMS, Channel.EMAIL)
        and row.next_attempt_at <= now
    ]
    if due:
        transaction.on_commit(lambda: _hand_over(due))
    return created


DELIVER_CHANNEL = "notify:deliver"  # push channel: ids of outbox rows just committed, for the delivery worker


def _hand_over(ids: list[int]) -> None:
    from hotline.common import push

    try:
        push.publish(DELIVER_CHANNEL, {"ids": ids})
    except Exception:  # the broker is down: the periodic job delivers them
        logger.warning("outbox hand-over of %d messages failed; left to the delivery job", len(ids))


def deliver_ids(ids: Iterable[int], *, gateway: SmsGateway | None = None) -> int:
    """Send these outbox rows now if they are still pending and due (claimed one by one as `deliver_due`
    does, so a row the job or another worker took is skipped); returns how many were sent or retried."""
    now = clock.now()
    rows = list(
        Outbox.objects.filter(
            pk__in=list(ids), status=OutboxStatus.PENDING, next_attempt_at__lte=now, audience__isnull=True
        ).order_by("id")
    )
    if not rows:
        return 0
    gateway = gateway or configured_gateway()
    sent = 0
    for message in rows:
        if _claim(message):
            _deliver_one(message, gateway)
            sent += 1
    return sent


def listen_for_delivery(stop: Any, *, idle: float = 1.0) -> None:
    """The delivery worker's listener: sends the rows `queue_messages` hands over as soon as their transaction
    has committed, until `stop` (a threading.Event) is set. Ids arriving together are sent in one round."""
    import json

    from hotline.common import push

    messages = push.broker().listen(DELIVER_CHANNEL, timeout=idle)
    try:
        for data in messages:
            if stop.is_set():
                return
            if data is None:
                continue
            ids: list[int] = []
            try:
                ids = [int(pk) for pk in json.loads(data).get("ids", [])]
            except (ValueError, TypeError, AttributeError):
                logger.warning("bad outbox hand-over %r", data[:200])
            if ids:
                deliver_ids(ids)
    finally:
        messages.close()


def notify_users(
    *, users: Iterable[Any], template: str, context: dict[str, Any], channels: Iterable[str], link: str = ""
) -> list[Outbox]:
    """Queue one message per user and channel. Call inside the transaction of the event that causes it."""
    return queue_messages(
        build_messages(users=users, template=template, context=context, channels=channels, link=link)
    )


def _kick_delivery() -> None:
    """With Celery, deliver right after commit instead of waiting for the next scheduled round."""
    from .tasks import deliver_task

    deliver_task.delay()


def _log(message: Outbox, event: str, detail: str = "") -> None:
    DeliveryLog.objects.create(message=message, at=clock.now(), event=event, detail=detail[:2000])


def _backoff(attempts: int) -> dt.timedelta:
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


def _claim(message: Outbox) -> bool:
    """Take a pending message for this worker; another worker that read it too gets nothing."""
    return bool(
        Outbox.objects.filter(pk=message.pk, status=OutboxStatus.PENDING, attempts=message.attempts).update(
            status=OutboxStatus.SENDING, attempts=F("attempts") + 1
        )
    )


def _deliver_one(message: Outbox, gateway: SmsGateway) -> None:
    now = clock.now()
    try:
        if message.channel == Channel.SMS:
            # A unit's message goes out from its extension (service number + digits): the reply comes back to it.
            sender = (
                {"sender": message.headers["sms_from"]} if (message.headers or {}).get("sms_from") else {}
            )
            message.external_id = gateway.send(
                phone=message.address,
                text=delivery_text(message),
                reference=sign_reference(message.pk),
                **sender,
            )
        elif message.channel == Channel.EMAIL:
            EmailMessage(
                message.subject,
                delivery_text(message),
                None,
                [message.address],
                headers=message.headers or None,
            ).send()
    except (GatewayError, OSError) as exc:
        attempts = message.attempts + 1
        failed = attempts >= MAX_ATTEMPTS
        Outbox.objects.filter(pk=message.pk).update(
            status=OutboxStatus.FAILED if failed else OutboxStatus.PENDING,
            next_attempt_at=now + _backoff(attempts),
            last_error=str(exc)[:1000],
        )
        _log(message, "failed" if failed else "retry", str(exc))
        return
    final = OutboxStatus.DELIVERED if message.channel == Channel.IN_APP else OutboxStatus.SENT
    # The delivery report may arrive (another request) before this update: never move a message back from it.
    still_sending = Q(status=OutboxStatus.SENDING)
    Outbox.objects.filter(pk=message.pk).update(
        status=SqlCase(When(still_sending, then=Value(final)), default=F("status"), output_field=CharField()),
        sent_at=now,
        delivered_at=now if final == OutboxStatus.DELIVERED else F("delivered_at"),
        external_id=message.external_id,
        sealed_body="",  # sent: the secret is no longer kept
        last_error=SqlCase(
            When(still_sending, then=Value("")), default=F("last_error"), output_field=TextField()
        ),
    )
    _log(message, "sent", message.external_id)


def expand_due(*, limit: int = 200) -> int:
    """Turn due SMS / e-mail notices to an audience into one message per member on that channel.

    Each notice is claimed (pending → sent) and expanded in one transaction: a crash leaves it pending with no
    member message, a second worker finds it claimed, and the members' messages are unique per notice and
    user — so every member gets exactly one message, delivered (and retried, and reported) like any other.
    Returns how many member messages were written."""
    now = clock.now()
    due = list(
        Outbox.objects.filter(
            audience__isnull=False, status=OutboxStatus.PENDING, next_attempt_at__lte=now
        ).order_by("next_attempt_at", "id")[:limit]
    )
    written = 0
    for notice in due:
        with transaction.atomic():
            claimed = Outbox.objects.filter(pk=notice.pk, status=OutboxStatus.PENDING).update(
                status=OutboxStatus.SENT, sent_at=now
            )
            if not claimed or notice.audience_id is None:
                continue
            members = AudienceMember.objects.filter(audience_id=notice.audience_id, channel=notice.channel)
            rows = [
                Outbox(
                    channel=notice.channel,
                    recipient_id=m.user_id,
                    address=m.address,
                    template=notice.template,
                    subject=notice.subject,
                    body=notice.body,
                    link=notice.link,
                    next_attempt_at=notice.next_attempt_at,
                    created_at=notice.created_at,
                    parent_id=notice.pk,
                )
                for m in members.order_by("user_id")
            ]
            Outbox.objects.bulk_create(rows, ignore_conflicts=True)
            written += len(rows)
    return written


def deliver_due(*, limit: int = 200, gateway: SmsGateway | None = None) -> int:
    """Send what is due (notices to an audience expanded first). Safe to run in several workers at once; a crash
    leaves messages to retry."""
    gateway = gateway or configured_gateway()
    expand_due(limit=limit)
    now = clock.now()
    Outbox.objects.filter(status=OutboxStatus.SENDING, next_attempt_at__lt=now - STUCK_AFTER).update(
        status=OutboxStatus.PENDING
    )
    due = list(
        Outbox.objects.filter(
            status=OutboxStatus.PENDING, next_attempt_at__lte=now, audience__isnull=True
        ).order_by("next_attempt_at", "id")[:limit]
    )
    sent = 0
    for message in due:
        if not _claim(message):
            continue
        _deliver_one(message, gateway)
        sent += 1
    return sent


KANNEL_DLR = {"1": OutboxStatus.DELIVERED, "2": OutboxStatus.FAILED, "16": OutboxStatus.FAILED}


def delivery_report(*, reference: str, status: str, answer: str = "") -> Outbox | None:
    """Kannel's delivery report: 1 delivered, 2 failed, 4 buffered, 8 accepted by the SMSC, 16 rejected."""
    message_id = verify_reference(reference)
    message = Outbox.objects.filter(pk=message_id, channel=Channel.SMS).first() if message_id else None
    if message is None:
        return None
    _log(message, f"dlr-{status}", answer)
    new_status = KANNEL_DLR.get(status)
    if new_status is not None:
        updates: dict[str, Any] = {"status": new_status}
        if new_status == OutboxStatus.DELIVERED:
            updates["delivered_at"] = clock.now()
        else:
            updates["last_error"] = answer[:1000]
        Outbox.objects.filter(pk=message.pk).update(**updates)
    return message


def addressed_to(user: Any) -> Any:
    """In-app notices to `user`: those addressed to the user, and those to an audience the user is in (fan-out
    on read: nothing is written per member when the notice is sent)."""
    audiences = AudienceMember.objects.filter(user=user, channel=Channel.IN_APP).values("audience_id")
    return Outbox.objects.filter(channel=Channel.IN_APP).filter(Q(recipient=user) | Q(audience__in=audiences))


def inbox(*, user: Any, unread_only: bool = True) -> Any:
    qs = addressed_to(user).order_by("-created_at", "-id")
    if unread_only:
        # A notice to the user alone keeps its read time on the row; one to an audience in `NoticeRead`.
        qs = qs.filter(read_at__isnull=True).exclude(reads__user=user)
    return qs


def inbox_link(*, user: Any, pk: int) -> str | None:
    """The link of the user's in-app notice `pk`; None if it is not the user's."""
    found = addressed_to(user).filter(pk=pk).values_list("link", flat=True).first()
    return None if found is None else str(found)


def inbox_mark_read(*, user: Any, ids: Iterable[int]) -> int:
    ids = list(ids)
    now = clock.now()
    marked = Outbox.objects.filter(
        recipient=user, channel=Channel.IN_APP, pk__in=ids, read_at__isnull=True
    ).update(read_at=now)
    shared = list(
        addressed_to(user)
        .filter(pk__in=ids, audience__isnull=False)
        .exclude(reads__user=user)
        .values_list("pk", flat=True)
    )
    NoticeRead.objects.bulk_create(
        [NoticeRead(message_id=pk, user=user, read_at=now) for pk in shared], ignore_conflicts=True
    )
    return marked + len(shared)
