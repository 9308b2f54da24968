"""Staff sending SMS (SMS-1, sending side): to one or many phones, with the office's common phrases, from the
sending unit's extension number; citizens' replies to an extension routed back to that unit's case; per-day and
per-unit summaries.

Messages go through the notify outbox (delivery, retries, Kannel delivery reports) like every other SMS. A unit
with an extension (SmsExtension) sends from the service number followed by it (HOTLINE_SMS_SENDER, default
12345, + 07 → 1234507: Kannel's `from`); a reply reaches smsbox addressed to that number (`%P`, our `to`) and
`extension_reply` finds the unit's last message to that phone (30 days) and adds the reply to its case. A message
to the extension from a phone the unit never wrote to is a new request advised to that unit (`extension_advice`,
registered with cases.advice), acknowledged from the extension number.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.cases.models import Case
from hotline.cases.selectors import case_visible
from hotline.citizens.selectors import sees_personal_data
from hotline.common import clock, crypto
from hotline.common.audit import audit_access, audit_record
from hotline.common.errors import NotAllowed, ServiceError
from hotline.common.validators import MOBILE_RE, normalize_phone
from hotline.notify.models import Channel as NotifyChannel
from hotline.notify.models import Outbox, OutboxStatus
from hotline.notify.services import queue_messages, sms_send_time
from hotline.orgs.models import Role, Unit, User
from hotline.orgs.selectors import sees_everything, visible_unit_filter

from .. import services
from ..models import ChannelKind, ChannelMessage, SmsExtension, SmsPhrase, SmsSent

MAX_RECIPIENTS = 200
MAX_TEXT = 500
REPLY_DAYS = 30
SEND_ROLES = (Role.AGENT, Role.DISPATCHER, Role.MONITOR, Role.UNIT_HANDLER, Role.UNIT_LEADER, Role.ADMIN)
MANAGE_ROLES = (Role.ADMIN, Role.MONITOR)
EXTENSION_RE = re.compile(r"^\d{1,6}$")
SPLIT_RE = re.compile(r"[\r\n,，;；、]+")
MAX_SUMMARY_DAYS = 366


def service_number() -> str:
    return os.environ.get("HOTLINE_SMS_SENDER", "12345")


def may_send(user: Any) -> bool:
    return bool(
        getattr(user, "is_authenticated", False)
        and user.has_role(*SEND_ROLES)
        and (user.unit_id is not None or user.is_superuser)
    )


def may_manage(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_role(*MANAGE_ROLES))


def _require(allowed: bool) -> None:
    if not allowed:
        raise NotAllowed(_("您无权使用短信平台的此项功能"))


# --------------------------------------------------------------------------- common phrases and extensions


def phrases() -> QuerySet[SmsPhrase]:
    return SmsPhrase.objects.filter(is_active=True).order_by("order", "id")


def sms_phrase_add(*, actor: User, text: str, order: int = 100) -> SmsPhrase:
    _require(may_manage(actor))
    text = (text or "").strip()
    if not text or len(text) > 300:
        raise ServiceError(
            _("短语不能为空，最多300字"), field_errors={"text": [_("短语不能为空，最多300字")]}
        )
    with transaction.atomic():
        phrase = SmsPhrase.objects.create(text=text, order=max(0, min(int(order), 32767)))
        audit_record(actor=actor, action="sms_phrase_add", obj=phrase, summary=text[:100])
    return phrase


def sms_phrase_remove(*, actor: User, pk: int) -> None:
    _require(may_manage(actor))
    with transaction.atomic():
        phrase = SmsPhrase.objects.filter(pk=pk).first()
        if phrase is None:
            raise ServiceError(_("短语不存在"), code="not_found")
        audit_record(actor=actor, action="sms_phrase_del", obj=phrase, summary=phrase.text[:100])
        phrase.delete()


def sms_extension_set(*, actor: User, unit: Unit, code: str) -> SmsExtension | None:
    """Give `unit` the extension `code` (digits, 1–6); an empty code takes it away. No extension may be the start
    of another (a reply to 12345 07 must not be read as 12345 0 + 7)."""
    _require(may_manage(actor))
    code = (code or "").strip()
    with transaction.atomic():
        current = SmsExtension.objects.select_for_update().filter(unit=unit).first()
        if not code:
            if current is not None:
                audit_record(actor=actor, action="sms_ext_remove", obj=current, summary=unit.name)
                current.delete()
            return None
        if not EXTENSION_RE.match(code):
            raise ServiceError(_("扩展号为1至6位数字"), field_errors={"code": [_("扩展号为1至6位数字")]})
        others = SmsExtension.objects.exclude(unit=unit).values_list("code", "unit__name")
        for other, name in others:
            if other.startswith(code) or code.startswith(other):
                message = _("扩展号与%(unit)s的扩展号%(code)s冲突") % {"unit": name, "code": other}
                raise ServiceError(message, field_errors={"code": [message]})
        before = current.code if current else ""
        extension = current or SmsExtension(unit=unit)
        extension.code = code
        extension.save()
        audit_record(
            actor=actor,
            action="sms_ext_set",
            obj=extension,
            summary=unit.name,
            changes={"code": [before, code]},
        )
    return extension


def extensions() -> QuerySet[SmsExtension]:
    return SmsExtension.objects.select_related("unit").order_by("code")


def from_number(extension: SmsExtension | None) -> str:
    return service_number() + (extension.code if extension else "")


# --------------------------------------------------------------------------- sending


def parse_phones(value: str) -> list[str]:
    """The mobile numbers in free text (one per line, or separated by commas), in order, once each;
    refused with the bad ones named."""
    numbers: list[str] = []
    bad: list[str] = []
    for part in SPLIT_RE.split(value or ""):
        if not part:
            continue
        phone = normalize_phone(part)
        if not MOBILE_RE.match(phone):
            bad.append(part[:20])
        elif phone not in numbers:
            numbers.append(phone)
    if bad:
        message = _("以下号码不是有效的手机号码：%(numbers)s") % {"numbers": "、".join(bad[:10])}
        raise ServiceError(message, field_errors={"phones": [message]})
    if not numbers:
        raise ServiceError(
            _("请填写接收短信的手机号码"), field_errors={"phones": [_("请填写接收短信的手机号码")]}
        )
    if len(numbers) > MAX_RECIPIENTS:
        message = _("一次最多发送给%(n)s个号码") % {"n": MAX_RECIPIENTS}
        raise ServiceError(message, field_errors={"phones": [message]})
    return numbers


@dataclass
class SendResult:
    sent: list[SmsSent] = field(default_factory=list)
    from_number: str = ""


def clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text or len(text) > MAX_TEXT:
        message = _("短信内容不能为空，最多%(n)s字") % {"n": MAX_TEXT}
        raise ServiceError(message, field_errors={"text": [message]})
    return text


def case_for_sms(*, actor: User, case_number: str) -> Case | None:
    """The case an SMS is about: one the actor may see (another unit's number is refused as unknown)."""
    if case_number := (case_number or "").strip()[:32]:
        case = case_visible(user=actor).filter(number=case_number).first()
        if case is None:
            raise ServiceError(_("未找到该工单"), field_errors={"case_number": [_("未找到该工单")]})
        return case
    return None


def queue_sms(
    *, actor: User, unit: Unit, numbers: list[str], text: str, case: Case | None, group_send: Any = None
) -> SendResult:
    """One outbox SMS per number from `unit` (and its extension) with its SmsSent row; the caller holds the
    transaction and writes the audit row."""
    extension = SmsExtension.objects.filter(unit=unit).first()
    sender = from_number(extension)
    now = clock.now()
    when = sms_send_time(now)
    rows = [
        Outbox(
            channel=NotifyChannel.SMS,
            address=phone,
            template="",
            subject="",
            body=text,
            next_attempt_at=when,
            created_at=now,
            headers={"sms_from": sender} if extension else {},
        )
        for phone in numbers
    ]
    created = queue_messages(rows)
    sent = SmsSent.objects.bulk_create(
        [
            SmsSent(
                outbox_id=row.pk,
                unit=unit,
                extension=extension.code if extension else "",
                phone=row.address,
                case=case,
                author=actor,
                at=now,
                group_send=group_send,
            )
            for row in created
        ]
    )
    return SendResult(sent=sent, from_number=sender)


def sms_send(*, actor: User, phones: str, text: str, case_number: str = "") -> SendResult:
    """One SMS per phone from the actor's unit (and its extension), through the outbox; a case named must be one
    the actor may see (another unit's number is refused as unknown)."""
    _require(may_send(actor))
    numbers = parse_phones(phones)
    text = clean_text(text)
    case = case_for_sms(actor=actor, case_number=case_number)
    unit = actor.unit
    if unit is None:
        raise ServiceError(_("您没有所属单位，无法发送短信"), code="no_unit")
    with transaction.atomic():
        result = queue_sms(actor=actor, unit=unit, numbers=numbers, text=text, case=case)
        audit_record(
            actor=actor,
            action="sms_send",
            obj=case if case is not None else result.sent[0],
            summary=_("发送短信%(n)s条（%(sender)s）")
            % {"n": len(result.sent), "sender": result.from_number},
            changes={"count": len(result.sent), "from": result.from_number},
        )
    return result


# --------------------------------------------------------------------------- replies to an extension


def extension_of_account(account: str) -> SmsExtension | None:
    """The extension a received SMS was addressed to (`to` = service number + extension)."""
    base = service_number()
    if not account.startswith(base) or len(account) == len(base):
        return None
    return SmsExtension.objects.select_related("unit").filter(code=account[len(base) :]).first()


def last_sent(*, extension: SmsExtension, phone: str) -> SmsSent | None:
    since = clock.now() - dt.timedelta(days=REPLY_DAYS)
    return (
        SmsSent.objects.select_related("case")
        .filter(extension=extension.code, unit=extension.unit, phone=phone, at__gte=since)
        .order_by("-at", "-id")
        .first()
    )


def extension_reply(*, delivery: services.Delivery, extension: SmsExtension) -> ChannelMessage | None:
    """A citizen's reply to a unit's extension the unit wrote to in the last REPLY_DAYS days: added to the case
    the unit wrote about (timeline 市民补充信息, receipt from the extension naming it) when that case is open; else
    kept as the unit's reply (shown on its SMS screen). None when the unit never wrote to this phone: the message
    is then a request of its own, routed to the unit (`extension_origin`)."""
    sent = last_sent(extension=extension, phone=delivery.sender)
    if sent is None:
        return None
    if sent.case is not None and sent.case.status not in services.FINISHED:
        return services.channel_message_append(
            delivery=delivery, case=sent.case, ack_sms=delivery.sender, ack_from=from_number(extension)
        )
    with transaction.atomic():
        record, created = services._record(delivery, clock.now())
        if created:
            record.kind = "unit_reply"
            record.save(update_fields=["kind"])
    return record


def extension_origin(extension: SmsExtension) -> dict[str, Any]:
    """What a request sent to a unit's extension keeps in its origin: the dispatcher is advised that unit."""
    return {"sms_extension": extension.code, "sms_unit": extension.unit_id}


def extension_advice(case: Case) -> tuple[Unit, str] | None:
    """Dispatch advice (cases.advice): a request the citizen sent to a unit's extension number goes to that unit."""
    unit_id = (case.origin or {}).get("sms_unit")
    if not unit_id or case.channel != ChannelKind.SMS:
        return None
    unit = Unit.objects.filter(pk=unit_id, is_active=True).first()
    if unit is None:
        return None
    code = (case.origin or {}).get("sms_extension", "")
    reason = _("市民发送至%(unit)s的短信扩展号%(number)s") % {
        "unit": unit.name,
        "number": service_number() + code,
    }
    return unit, reason


# --------------------------------------------------------------------------- screens' reads (scoped)


def _sent_scope(user: User) -> QuerySet[SmsSent]:
    qs = SmsSent.objects.all()
    return qs if sees_everything(user) else qs.filter(visible_unit_filter(user))


def _visible_extensions(user: User) -> dict[str, SmsExtension]:
    qs = extensions()
    if not sees_everything(user):
        qs = qs.filter(visible_unit_filter(user))
    base = service_number()
    return {base + e.code: e for e in qs}


def may_reveal(user: Any) -> bool:
    """May see citizens' full numbers on the SMS screens (the roles that see personal data; the view audited)."""
    return bool(may_send(user) and sees_personal_data(user))


def _shown(phone: str, masked: bool) -> str:
    return crypto.mask_phone(phone) if masked else phone


def recent_reveal(*, user: User) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The 短信发送 screen's lists (recent sends, replies received) with full numbers, for a role that may see
    them; the view is audited (ORG-4) with the number of rows shown."""
    if not may_reveal(user):
        raise NotAllowed(_("您的角色不能查看市民的完整号码"))
    sent, replies = recent_sent(user=user, masked=False), recent_replies(user=user, masked=False)
    audit_access(
        actor=user,
        object_type="intake.smssent",
        summary=_("查看短信发送与回复的完整号码"),
        rows=len(sent) + len(replies),
    )
    return sent, replies


def recent_sent(*, user: User, limit: int = 50, masked: bool = True) -> list[dict[str, Any]]:
    status = Subquery(Outbox.objects.filter(pk=OuterRef("outbox_id")).values("status")[:1])
    rows = (
        _sent_scope(user)
        .select_related("unit", "case", "author")
        .annotate(status=status)
        .order_by("-at", "-id")[:limit]
    )
    labels = dict(OutboxStatus.choices)
    return [
        {
            "at": r.at,
            "unit": r.unit.name,
            "extension": r.extension,
            "phone": _shown(r.phone, masked),
            "case": r.case.number if r.case else "",
            "author": str(r.author),
            "status": labels.get(getattr(r, "status", ""), ""),
        }
        for r in rows
    ]


def recent_replies(*, user: User, limit: int = 50, masked: bool = True) -> list[dict[str, Any]]:
    accounts = _visible_extensions(user)
    rows = (
        ChannelMessage.objects.filter(channel=ChannelKind.SMS, account__in=list(accounts))
        .select_related("case")
        .order_by("-received_at", "-id")[:limit]
    )
    return [
        {
            "at": m.received_at,
            "unit": accounts[m.account].unit.name,
            "phone": _shown(m.sender, masked),
            "text": m.text,
            "case": m.case.number if m.case else "",
        }
        for m in rows
    ]


DELIVERED = {OutboxStatus.DELIVERED}
FAILED = {OutboxStatus.FAILED}


def summary(*, user: User, start: dt.date, end: dt.date) -> list[dict[str, Any]]:
    """Per day and sending unit: messages sent, delivered (report received), failed, still on their way, and
    the replies that came back to the unit's extension — for the units the user may see."""
    if end < start or (end - start).days > MAX_SUMMARY_DAYS:
        message = _("统计区间无效（最长一年）")
        raise ServiceError(message, field_errors={"end": [message]})
    tz = timezone.get_current_timezone()
    lower = timezone.make_aware(dt.datetime.combine(start, dt.time.min), tz)
    upper = timezone.make_aware(dt.datetime.combine(end + dt.timedelta(days=1), dt.time.min), tz)
    status = Subquery(Outbox.objects.filter(pk=OuterRef("outbox_id")).values("status")[:1])
    counts = (
        _sent_scope(user)
        .filter(at__gte=lower, at__lt=upper)
        .annotate(day=TruncDate("at", tzinfo=tz), status=status)
        .values("day", "unit_id", "unit__name", "status")
        .annotate(n=Count("id"))
    )
    table: dict[tuple[dt.date, int], dict[str, Any]] = defaultdict(dict)
    names: dict[int, str] = {}
    for row in counts:
        key = (row["day"], row["unit_id"])
        names[row["unit_id"]] = row["unit__name"]
        entry = table[key]
        entry["sent"] = entry.get("sent", 0) + row["n"]
        bucket = (
            "delivered" if row["status"] in DELIVERED else "failed" if row["status"] in FAILED else "pending"
        )
        entry[bucket] = entry.get(bucket, 0) + row["n"]
    accounts = _visible_extensions(user)
    received = (
        ChannelMessage.objects.filter(
            channel=ChannelKind.SMS, account__in=list(accounts), received_at__gte=lower, received_at__lt=upper
        )
        .annotate(day=TruncDate("received_at", tzinfo=tz))
        .values("day", "account")
        .annotate(n=Count("id"))
    )
    for got in received:
        extension = accounts[got["account"]]
        names[extension.unit_id] = extension.unit.name
        entry = table[(got["day"], extension.unit_id)]
        entry["received"] = entry.get("received", 0) + got["n"]
    codes = {e.unit_id: e.code for e in accounts.values()}
    rows = [
        {
            "day": day,
            "unit": names[unit_id],
            "extension": codes.get(unit_id, ""),
            "sent": entry.get("sent", 0),
            "delivered": entry.get("delivered", 0),
            "failed": entry.get("failed", 0),
            "pending": entry.get("pending", 0),
            "received": entry.get("received", 0),
        }
        for (day, unit_id), entry in table.items()
    ]
    rows.sort(key=lambda r: (r["day"], r["unit"]), reverse=False)
    return rows


def summary_totals(rows: list[dict[str, Any]]) -> dict[str, int]:
    return {k: sum(r[k] for r in rows) for k in ("sent", "delivered", "failed", "pending", "received")}
