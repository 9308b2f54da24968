"""Writes of the bulletins package: drafts, sending (with review when it goes to many units), reading, replying,
forwarding, favourites, deleting. Every step is in the audit log (the operation log of BUL-1)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.translation import gettext as _

from hotline.common import clock, filetypes
from hotline.common.audit import audit_record
from hotline.common.errors import NotAllowed, ServiceError
from hotline.orgs.models import Unit, User

from .models import Bulletin, BulletinAttachment, BulletinKind, BulletinRecipient, BulletinStatus
from .permissions import may_review, may_send, review_threshold

MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MAX_RECIPIENT_UNITS = 2000


@dataclass
class BulletinInput:
    kind: BulletinKind | None
    subject: str
    body: str = ""
    units: Sequence[Unit] = ()
    users: Sequence[User] = ()
    attachments: Sequence[UploadedFile] = ()
    reply_to: Bulletin | None = None
    forwarded_from: Bulletin | None = None
    is_public: bool = False
    public_from: dt.datetime | None = None
    public_until: dt.datetime | None = None
    errors: dict[str, list[str]] = field(default_factory=dict)


def bulletin_save_draft(*, actor: User, data: BulletinInput, bulletin: Bulletin | None = None) -> Bulletin:
    if not may_send(actor):
        raise NotAllowed(_("没有所属单位的账号不能发公告"))
    _validate(data, sending=False)
    if bulletin is not None and (bulletin.sender_id != actor.pk or bulletin.status not in EDITABLE):
        raise NotAllowed(_("只能修改自己的草稿或被退回的公告"))
    kinds = _check_attachments(data.attachments)
    assert data.kind is not None  # _validate refused a missing kind
    with transaction.atomic():
        if bulletin is None:
            bulletin = Bulletin.objects.create(
                kind=data.kind, subject=data.subject.strip(), body=data.body.strip(), sender=actor,
                sender_unit=actor.unit, created_at=clock.now(), reply_to=data.reply_to,
                forwarded_from=data.forwarded_from, is_public=data.is_public, public_from=data.public_from,
                public_until=data.public_until,
            )  # fmt: skip
            action = "create"
        else:
            bulletin.kind = data.kind
            bulletin.subject, bulletin.body = data.subject.strip(), data.body.strip()
            bulletin.status = BulletinStatus.DRAFT
            bulletin.is_public, bulletin.public_from = data.is_public, data.public_from
            bulletin.public_until = data.public_until
            bulletin.save(
                update_fields=[
                    "kind",
                    "subject",
                    "body",
                    "status",
                    "is_public",
                    "public_from",
                    "public_until",
                ]
            )
            action = "update"
        bulletin.to_units.set(data.units)
        bulletin.to_users.set(data.users)
        for upload, kind in zip(data.attachments, kinds, strict=True):
            BulletinAttachment.objects.create(
                bulletin=bulletin, file=upload, name=(upload.name or "附件")[:200], size=upload.size or 0,
                content_type=kind.content_type,
            )  # fmt: skip
        if data.forwarded_from is not None and action == "create":
            for original in data.forwarded_from.attachments.all():
                BulletinAttachment.objects.create(
                    bulletin=bulletin, file=original.file.name, name=original.name, size=original.size,
                    content_type=original.content_type,
                )  # fmt: skip
        audit_record(actor=actor, action=action, obj=bulletin, summary=f"公告草稿：{bulletin.subject}"[:255])
    return bulletin


EDITABLE = (BulletinStatus.DRAFT, BulletinStatus.REJECTED)


def bulletin_send(*, actor: User, bulletin: Bulletin) -> Bulletin:
    """Publish, or put before a reviewer when it goes to more units than the threshold — or to the public: a
    public announcement is always reviewed, by someone other than its author."""
    if bulletin.sender_id != actor.pk or bulletin.status not in EDITABLE:
        raise NotAllowed(_("只能发送自己的草稿或被退回的公告"))
    data = BulletinInput(
        kind=bulletin.kind, subject=bulletin.subject, body=bulletin.body,
        units=list(bulletin.to_units.all()), users=list(bulletin.to_users.all()), is_public=bulletin.is_public,
        public_from=bulletin.public_from, public_until=bulletin.public_until,
    )  # fmt: skip
    _validate(data, sending=True)
    with transaction.atomic():
        locked = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        if locked.status not in EDITABLE:
            raise ServiceError(_("公告已发送"), code="conflict")
        if locked.is_public or (len(data.units) > review_threshold() and not may_review(actor)):
            locked.status = BulletinStatus.PENDING
            locked.save(update_fields=["status"])
            audit_record(
                actor=actor, action="submit_review", obj=locked, summary=f"公告送审：{locked.subject}"[:255]
            )
            return locked
        _publish(locked, actor)
    return locked


def bulletin_review(*, actor: User, bulletin: Bulletin, approve: bool, opinion: str = "") -> Bulletin:
    if not may_review(actor):
        raise NotAllowed(_("只有热线办领导或管理员可以审核公告"))
    if not approve and not opinion.strip():
        raise ServiceError(_("退回时请填写审核意见"), field_errors={"opinion": [_("退回时请填写审核意见")]})
    with transaction.atomic():
        locked = Bulletin.objects.select_for_update().get(pk=bulletin.pk)
        if locked.status != BulletinStatus.PENDING:
            raise ServiceError(_("这条公告不在待审核状态"), code="conflict")
        if locked.is_public and locked.sender_id == actor.pk:
            raise NotAllowed(_("对公众发布的公告须由他人审核"))
        locked.reviewer, locked.reviewed_at, locked.review_opinion = actor, clock.now(), opinion.strip()[:200]
        if approve:
            _publish(locked, actor)
            locked.save(update_fields=["reviewer", "reviewed_at", "review_opinion"])
        else:
            locked.status = BulletinStatus.REJECTED
            locked.save(update_fields=["status", "reviewer", "reviewed_at", "review_opinion"])
        audit_record(
            actor=actor, action="approve" if approve else "reject", obj=locked,
            summary=f"公告审核：{locked.subject}"[:255], changes={"opinion": locked.review_opinion},
        )  # fmt: skip
    return locked


def _publish(bulletin: Bulletin, actor: User) -> None:
    units = list(bulletin.to_units.all())
    people = {
        user.pk: user
        for user in User.objects.filter(unit__in=units, is_active=True).exclude(pk=bulletin.sender_id)
    }
    people.update({user.pk: user for user in bulletin.to_users.filter(is_active=True)})
    BulletinRecipient.objects.bulk_create(
        [BulletinRecipient(bulletin=bulletin, user=user, unit_id=user.unit_id) for user in people.values()],
        ignore_conflicts=True,
    )
    bulletin.status, bulletin.sent_at = BulletinStatus.PUBLISHED, clock.now()
    if bulletin.is_public and bulletin.public_from is None:
        bulletin.public_from = bulletin.sent_at
    bulletin.save(update_fields=["status", "sent_at", "public_from"])
    audit_record(
        actor=actor, action="publish", obj=bulletin, summary=f"公告发布：{bulletin.subject}"[:255],
        changes={"recipients": len(people), "units": [u.pk for u in units]},
    )  # fmt: skip


def bulletin_mark_read(*, actor: User, bulletin: Bulletin) -> None:
    BulletinRecipient.objects.filter(bulletin=bulletin, user=actor, read_at__isnull=True).update(
        read_at=clock.now()
    )


def bulletin_set_favourite(*, actor: User, bulletin: Bulletin, favourite: bool) -> None:
    BulletinRecipient.objects.filter(bulletin=bulletin, user=actor).update(is_favourite=favourite)


def bulletin_delete(*, actor: User, bulletin: Bulletin) -> None:
    """A recipient removes it from the inbox; the sender removes a draft, or a sent one from the outbox."""
    with transaction.atomic():
        removed = BulletinRecipient.objects.filter(bulletin=bulletin, user=actor).update(is_deleted=True)
        if bulletin.sender_id == actor.pk:
            Bulletin.objects.filter(pk=bulletin.pk).update(is_deleted_by_sender=True)
            removed += 1
        if not removed:
            raise NotAllowed(_("不能删除这条公告"))
        audit_record(
            actor=actor, action="delete", obj=bulletin, summary=f"删除公告：{bulletin.subject}"[:255]
        )


def reply_input(*, actor: User, original: Bulletin, reply_all: bool) -> BulletinInput:
    """A new draft's fields replying to `original`: to its sender, or to its sender and every unit it went to."""
    units = list(original.to_units.all()) if reply_all else []
    return BulletinInput(
        kind=original.kind, subject=_("回复：%(s)s") % {"s": original.subject}, body="",
        units=[u for u in units if u.pk != actor.unit_id], users=[original.sender], reply_to=original,
    )  # fmt: skip


def forward_input(*, original: Bulletin) -> BulletinInput:
    quoted = "\n".join("> " + line for line in original.body.splitlines())
    return BulletinInput(
        kind=original.kind,
        subject=_("转发：%(s)s") % {"s": original.subject},
        body=quoted,
        forwarded_from=original,
    )


def _validate(data: BulletinInput, *, sending: bool) -> None:
    errors: dict[str, list[str]] = {}
    if data.kind is None or not data.kind.is_active:
        errors["kind"] = [_("请选择公告类型")]
    if not data.subject.strip() or len(data.subject) > 200:
        errors["subject"] = [_("请填写标题（最长 200 个字）")]
    if len(data.body) > 50_000:
        errors["body"] = [_("正文太长（最多 50000 个字）")]
    if sending and not data.units and not data.users and not data.is_public:
        errors["units"] = [_("请选择收件单位或收件人，或对公众发布")]
    if data.public_until is not None:
        if not data.is_public:
            errors["public_until"] = [_("只有对公众发布的公告有公开截止时间")]
        elif data.public_until <= (data.public_from or clock.now()):
            errors["public_until"] = [_("公开截止时间须晚于起始时间和当前时间")]
    if data.public_from is not None and not data.is_public:
        errors["public_from"] = [_("只有对公众发布的公告有公开起始时间")]
    if len(data.units) > MAX_RECIPIENT_UNITS:
        errors["units"] = [_("收件单位太多")]
    if errors:
        raise ServiceError(_("公告信息有误"), field_errors=errors)


def _check_attachments(uploads: Sequence[UploadedFile]) -> list[Any]:
    kinds = []
    for upload in uploads:
        if upload.size is None or upload.size > MAX_ATTACHMENT_BYTES:
            raise ServiceError(
                _("附件太大"), field_errors={"attachments": [_("附件“%(n)s”超过 20 MB") % {"n": upload.name}]}
            )
        kind = filetypes.check(upload, upload.name or "")
        if kind is None:
            raise ServiceError(
                _("附件类型不允许"),
                field_errors={
                    "attachments": [_("附件“%(n)s”的类型不允许（按文件内容检查）") % {"n": upload.name}]
                },
            )
        kinds.append(kind)
    return kinds
