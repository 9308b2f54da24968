"""SMS contact groups (通讯组, SMS-1 "sending to … a contact group with delivery reports").

A group belongs to a unit: its staff (and the leaders of the units above, the office for all) see and use it, any
other user gets "not found". Numbers are shown masked; a user whose role may see citizens' full numbers can
reveal a group's list, and that view is audited. Sending to a group queues one SMS per member through the outbox
(from the sender's unit extension, like any staff SMS) and keeps the send (SmsGroupSend) so its per-recipient
delivery report — each outbox row's status with Kannel's report — can be read back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.utils.translation import gettext as _

from hotline.common import clock, crypto
from hotline.common.audit import audit_access, audit_record
from hotline.common.errors import NotAllowed, NotFound, ServiceError
from hotline.common.validators import MOBILE_RE, normalize_phone
from hotline.notify.models import Outbox, OutboxStatus
from hotline.orgs.models import User
from hotline.orgs.selectors import sees_everything, visible_unit_filter

from ..models import SmsGroup, SmsGroupMember, SmsGroupSend, SmsSent
from . import outbound

MAX_MEMBERS = 1000
MAX_NAME = 60
MEMBER_RE = re.compile(r"^(?P<label>.*?)[\s:：]*(?P<phone>\+?[\d][\d\s-]{6,})$")


def may_use(user: Any) -> bool:
    return outbound.may_send(user)


def may_reveal(user: Any) -> bool:
    return outbound.may_reveal(user)


def _require(user: User) -> None:
    if not may_use(user):
        raise NotAllowed(_("您无权使用短信平台的此项功能"))


# --------------------------------------------------------------------------- reads (scoped)


def groups_visible(*, user: User) -> QuerySet[SmsGroup]:
    qs = SmsGroup.objects.select_related("unit").annotate(size=Count("members"))
    return qs if sees_everything(user) else qs.filter(visible_unit_filter(user))


def group_get(*, user: User, pk: int) -> SmsGroup:
    group = groups_visible(user=user).filter(pk=pk).first() if may_use(user) else None
    if group is None:
        raise NotFound(_("通讯组不存在"))
    return group


def group_members(*, group: SmsGroup, masked: bool = True) -> list[dict[str, Any]]:
    return [
        {"id": m.pk, "phone": crypto.mask_phone(m.phone) if masked else m.phone, "label": m.label}
        for m in group.members.order_by("id")
    ]


def group_reveal(*, user: User, group: SmsGroup) -> list[dict[str, Any]]:
    """The group's full numbers, for a role that may see them; the view is audited (ORG-4)."""
    if not may_reveal(user):
        raise NotAllowed(_("您的角色不能查看市民的完整号码"))
    members = group_members(group=group, masked=False)
    audit_access(
        actor=user,
        object_type="intake.smsgroup",
        object_id=str(group.pk),
        summary=_("查看通讯组完整号码：%(name)s") % {"name": group.name},
        rows=len(members),
    )
    return members


def sends_visible(*, user: User) -> QuerySet[SmsGroupSend]:
    qs = SmsGroupSend.objects.select_related("group", "unit", "author")
    if not may_use(user):
        return qs.none()
    return qs if sees_everything(user) else qs.filter(visible_unit_filter(user, "group__unit"))


STATUS_BUCKET: dict[str, str] = {
    OutboxStatus.DELIVERED: "delivered",
    OutboxStatus.FAILED: "failed",
}


def sends_with_counts(*, user: User, group: SmsGroup, limit: int = 20) -> list[dict[str, Any]]:
    """The group's latest sends with their delivery totals (delivered, failed, still on the way)."""
    sends = list(sends_visible(user=user).filter(group=group)[:limit])
    status = Subquery(Outbox.objects.filter(pk=OuterRef("outbox_id")).values("status")[:1])
    counts: dict[int, dict[str, int]] = {s.pk: {"delivered": 0, "failed": 0, "pending": 0} for s in sends}
    rows = (
        SmsSent.objects.filter(group_send__in=sends)
        .annotate(status=status)
        .values("group_send_id", "status")
        .annotate(n=Count("id"))
    )
    for row in rows:
        counts[row["group_send_id"]][STATUS_BUCKET.get(row["status"], "pending")] += row["n"]
    return [{"send": s, **counts[s.pk]} for s in sends]


@dataclass
class SendReport:
    send: SmsGroupSend
    rows: list[dict[str, Any]]
    counts: dict[str, int]


def send_report(*, user: User, pk: int) -> SendReport:
    """Per recipient of a group send: the masked number, the member's label, the delivery status with its times
    and the gateway's error; plus the totals (delivered, failed, still on the way)."""
    send = sends_visible(user=user).filter(pk=pk).first()
    if send is None:
        raise NotFound(_("发送记录不存在"))
    outbox = Outbox.objects.filter(pk=OuterRef("outbox_id"))
    rows = (
        SmsSent.objects.filter(group_send=send)
        .annotate(
            status=Subquery(outbox.values("status")[:1]),
            sent_at=Subquery(outbox.values("sent_at")[:1]),
            delivered_at=Subquery(outbox.values("delivered_at")[:1]),
            last_error=Subquery(outbox.values("last_error")[:1]),
        )
        .order_by("id")
    )
    labels = dict(send.group.members.values_list("phone", "label"))
    names = dict(OutboxStatus.choices)
    counts = {"delivered": 0, "failed": 0, "pending": 0}
    result = []
    for r in rows:
        status = getattr(r, "status", "") or ""
        bucket = STATUS_BUCKET.get(status, "pending")
        counts[bucket] += 1
        result.append(
            {
                "phone": crypto.mask_phone(r.phone),
                "label": labels.get(r.phone, ""),
                "status": status,
                "status_label": names.get(status, ""),
                "bucket": bucket,
                "sent_at": getattr(r, "sent_at", None),
                "delivered_at": getattr(r, "delivered_at", None),
                "error": (getattr(r, "last_error", "") or "")[:200] if bucket == "failed" else "",
            }
        )
    return SendReport(send=send, rows=result, counts=counts)


# --------------------------------------------------------------------------- writes


def parse_members(value: str) -> list[tuple[str, str]]:
    """Lines (or comma-separated parts) of "number" or "label number" / "label:number": (phone, label) pairs in
    order, once each; refused with the bad parts named."""
    found: dict[str, str] = {}
    bad: list[str] = []
    for part in outbound.SPLIT_RE.split(value or ""):
        part = part.strip()
        if not part:
            continue
        match = MEMBER_RE.match(part)
        label, phone = (match["label"].strip()[:40], match["phone"]) if match else ("", part)
        phone = normalize_phone(phone)
        if not MOBILE_RE.match(phone):
            bad.append(part[:20])
        elif phone not in found:
            found[phone] = label
    if bad:
        message = _("以下号码不是有效的手机号码：%(numbers)s") % {"numbers": "、".join(bad[:10])}
        raise ServiceError(message, field_errors={"phones": [message]})
    return list(found.items())


def _clean_name(name: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > MAX_NAME:
        message = _("组名不能为空，最多%(n)s字") % {"n": MAX_NAME}
        raise ServiceError(message, field_errors={"name": [message]})
    return name


def _add(group: SmsGroup, members: list[tuple[str, str]]) -> int:
    existing = set(group.members.values_list("phone", flat=True))
    new = [SmsGroupMember(group=group, phone=p, label=label) for p, label in members if p not in existing]
    if len(existing) + len(new) > MAX_MEMBERS:
        message = _("一个通讯组最多%(n)s个号码") % {"n": MAX_MEMBERS}
        raise ServiceError(message, field_errors={"phones": [message]})
    SmsGroupMember.objects.bulk_create(new)
    return len(new)


def sms_group_create(*, actor: User, name: str, note: str = "", phones: str = "") -> SmsGroup:
    """A group of the actor's unit, with its first members (optional)."""
    _require(actor)
    if actor.unit is None:
        raise ServiceError(_("您没有所属单位，无法建立通讯组"), code="no_unit")
    name = _clean_name(name)
    members = parse_members(phones)
    try:
        with transaction.atomic():
            group = SmsGroup.objects.create(
                unit=actor.unit,
                name=name,
                note=(note or "").strip()[:200],
                created_by=actor,
                created_at=clock.now(),
            )
            added = _add(group, members)
            audit_record(
                actor=actor,
                action="sms_group_add",
                obj=group,
                summary=name,
                changes={"members": added},
            )
    except IntegrityError:
        message = _("本单位已有同名通讯组")
        raise ServiceError(message, field_errors={"name": [message]}) from None
    return group


def sms_group_members_add(*, actor: User, pk: int, phones: str) -> int:
    with transaction.atomic():
        group = _locked(actor, pk)
        members = parse_members(phones)
        if not members:
            message = _("请填写要加入的手机号码")
            raise ServiceError(message, field_errors={"phones": [message]})
        added = _add(group, members)
        audit_record(
            actor=actor, action="sms_group_edit", obj=group, summary=group.name, changes={"added": added}
        )
    return added


def sms_group_member_remove(*, actor: User, pk: int, member: int) -> None:
    with transaction.atomic():
        group = _locked(actor, pk)
        row = group.members.filter(pk=member).first()
        if row is None:
            raise NotFound(_("该号码不在通讯组中"))
        audit_record(
            actor=actor,
            action="sms_group_edit",
            obj=group,
            summary=group.name,
            changes={"removed": crypto.mask_phone(row.phone)},
        )
        row.delete()


def sms_group_delete(*, actor: User, pk: int) -> None:
    """A group nobody sent to yet can go; one with sends stays (its delivery reports name it)."""
    with transaction.atomic():
        group = _locked(actor, pk)
        if group.sends.exists():
            raise ServiceError(_("已有发送记录的通讯组不能删除"), code="has_sends")
        audit_record(actor=actor, action="sms_group_del", obj=group, summary=group.name)
        group.delete()


def _locked(actor: User, pk: int) -> SmsGroup:
    group_get(user=actor, pk=pk)  # scoped: another unit's group is not found
    return SmsGroup.objects.select_for_update().get(pk=pk)


def sms_group_send(*, actor: User, pk: int, text: str, case_number: str = "") -> SmsGroupSend:
    """One SMS to every member of a group the actor sees, from the actor's unit (and its extension)."""
    _require(actor)
    group = group_get(user=actor, pk=pk)
    text = outbound.clean_text(text)
    case = outbound.case_for_sms(actor=actor, case_number=case_number)
    unit = actor.unit
    if unit is None:
        raise ServiceError(_("您没有所属单位，无法发送短信"), code="no_unit")
    numbers = list(group.members.order_by("id").values_list("phone", flat=True))
    if not numbers:
        raise ServiceError(_("通讯组中还没有号码"), field_errors={"group": [_("通讯组中还没有号码")]})
    with transaction.atomic():
        send = SmsGroupSend.objects.create(
            group=group, unit=unit, text=text, recipients=len(numbers), author=actor, at=clock.now()
        )
        result = outbound.queue_sms(
            actor=actor, unit=unit, numbers=numbers, text=text, case=case, group_send=send
        )
        audit_record(
            actor=actor,
            action="sms_group_send",
            obj=send,
            summary=_("向通讯组%(name)s发送短信%(n)s条（%(sender)s）")
            % {"name": group.name, "n": len(result.sent), "sender": result.from_number},
            changes={"count": len(result.sent), "from": result.from_number, "group": group.pk},
        )
    return send
