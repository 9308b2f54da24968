"""Reads of the bulletins package, each limited to what the user sent, received or must review."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from hotline.common import clock
from hotline.common.errors import NotFound
from hotline.orgs.models import User

from .models import Bulletin, BulletinAttachment, BulletinRecipient, BulletinStatus
from .permissions import may_review


def inbox(
    *, user: User, q: str = "", unread: bool = False, favourites: bool = False
) -> QuerySet[BulletinRecipient]:
    rows = BulletinRecipient.objects.filter(
        user=user, is_deleted=False, bulletin__status=BulletinStatus.PUBLISHED
    )
    if unread:
        rows = rows.filter(read_at__isnull=True)
    if favourites:
        rows = rows.filter(is_favourite=True)
    if q:
        rows = rows.filter(Q(bulletin__subject__icontains=q[:50]) | Q(bulletin__body__icontains=q[:50]))
    return rows.select_related("bulletin__kind", "bulletin__sender", "bulletin__sender_unit").order_by(
        "-bulletin__sent_at", "-id"
    )


def unread_count(*, user: User) -> int:
    return BulletinRecipient.objects.filter(
        user=user, is_deleted=False, read_at__isnull=True, bulletin__status=BulletinStatus.PUBLISHED
    ).count()


def outbox(*, user: User, q: str = "") -> QuerySet[Bulletin]:
    rows = Bulletin.objects.filter(sender=user, is_deleted_by_sender=False).exclude(
        status=BulletinStatus.DRAFT
    )
    if q:
        rows = rows.filter(Q(subject__icontains=q[:50]) | Q(body__icontains=q[:50]))
    return rows.select_related("kind").order_by("-created_at", "-id")


def drafts(*, user: User) -> QuerySet[Bulletin]:
    return Bulletin.objects.filter(
        sender=user, status=BulletinStatus.DRAFT, is_deleted_by_sender=False
    ).order_by("-created_at")


def review_queue(*, user: User) -> QuerySet[Bulletin]:
    if not may_review(user):
        return Bulletin.objects.none()
    return (
        Bulletin.objects.filter(status=BulletinStatus.PENDING)
        .select_related("sender", "kind")
        .order_by("created_at")
    )


def bulletin_get(*, user: User, pk: int) -> Bulletin:
    """The bulletin when `user` sent it, received it (and has not deleted it) or must review it; else 404."""
    bulletin = Bulletin.objects.select_related("kind", "sender", "sender_unit").filter(pk=pk).first()
    if bulletin is None or not _may_see(user, bulletin):
        raise NotFound("公告不存在或无权查看")
    return bulletin


def _may_see(user: User, bulletin: Bulletin) -> bool:
    if bulletin.sender_id == user.pk or bulletin.reviewer_id == user.pk:
        return True
    if bulletin.status == BulletinStatus.PENDING and may_review(user):
        return True
    return (
        bulletin.status == BulletinStatus.PUBLISHED
        and BulletinRecipient.objects.filter(bulletin=bulletin, user=user, is_deleted=False).exists()
    )


def recipient_row(*, user: User, bulletin: Bulletin) -> BulletinRecipient | None:
    return BulletinRecipient.objects.filter(bulletin=bulletin, user=user).first()


def read_status(*, user: User, bulletin: Bulletin) -> dict[str, Any] | None:
    """Who has read it and who has not yet — for its sender only."""
    if bulletin.sender_id != user.pk:
        return None
    rows = list(
        BulletinRecipient.objects.filter(bulletin=bulletin)
        .select_related("user", "unit")
        .order_by("unit__path", "user__username")
    )
    return {
        "read": [r for r in rows if r.read_at],
        "unread": [r for r in rows if not r.read_at],
    }


def attachment_get(*, user: User, pk: int) -> BulletinAttachment:
    attachment = BulletinAttachment.objects.select_related("bulletin").filter(pk=pk).first()
    if attachment is None or not _may_see(user, attachment.bulletin):
        raise NotFound("附件不存在或无权查看")
    return attachment


def public_announcements() -> QuerySet[Bulletin]:
    """Announcements published to the public and valid now (the citizen portal's 最新公告), newest first."""
    now = clock.now()
    return (
        Bulletin.objects.filter(is_public=True, status=BulletinStatus.PUBLISHED, public_from__lte=now)
        .filter(Q(public_until__isnull=True) | Q(public_until__gt=now))
        .select_related("kind")
        .order_by("-public_from", "-id")
    )


def public_announcement_get(*, pk: int) -> Bulletin:
    bulletin = public_announcements().filter(pk=pk).first()
    if bulletin is None:
        raise NotFound("公告不存在或已过期")
    return bulletin
