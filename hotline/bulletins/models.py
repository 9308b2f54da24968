"""Internal bulletins: a message from one person to units and people, reviewed first when it goes to many units,
with a read status per recipient."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.common.storage import private_storage


class BulletinKind(models.Model):
    name = models.CharField(_("名称"), max_length=30, unique=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("公告类型")
        verbose_name_plural = _("公告类型")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.name


class BulletinStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PENDING = "pending", _("待审核")
    PUBLISHED = "published", _("已发布")
    REJECTED = "rejected", _("审核退回")


class Bulletin(models.Model):
    kind = models.ForeignKey(BulletinKind, verbose_name=_("类型"), on_delete=models.PROTECT)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"), blank=True)
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发件人"), on_delete=models.PROTECT, related_name="+"
    )
    sender_unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("发件单位"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField(
        _("状态"), max_length=10, choices=BulletinStatus.choices, default=BulletinStatus.DRAFT
    )
    to_units = models.ManyToManyField("orgs.Unit", verbose_name=_("收件单位"), blank=True, related_name="+")
    to_users = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("收件人"), blank=True, related_name="+"
    )
    reply_to = models.ForeignKey(
        "self", verbose_name=_("回复"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    forwarded_from = models.ForeignKey(
        "self", verbose_name=_("转发自"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"))
    sent_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("审核人"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )  # fmt: skip
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_opinion = models.CharField(_("审核意见"), max_length=200, blank=True)
    is_deleted_by_sender = models.BooleanField(_("发件人已删除"), default=False)
    # A public announcement (最新公告 on the citizen portal): always reviewed by someone other than its author,
    # shown from `public_from` (the approval time if empty) until `public_until` (for good if empty).
    is_public = models.BooleanField(_("对公众发布"), default=False)
    public_from = models.DateTimeField(_("公开起始时间"), null=True, blank=True)
    public_until = models.DateTimeField(_("公开截止时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("公告")
        verbose_name_plural = _("公告")
        indexes = [
            models.Index(fields=["sender", "status", "-created_at"], name="bulletin_sender_status"),
            models.Index(
                fields=["-public_from"], name="bulletin_public_idx", condition=models.Q(is_public=True)
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class BulletinRecipient(models.Model):
    bulletin = models.ForeignKey(
        Bulletin, verbose_name=_("公告"), on_delete=models.CASCADE, related_name="recipients"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("收件人"), on_delete=models.CASCADE, related_name="+"
    )
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("单位"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    is_favourite = models.BooleanField(_("收藏"), default=False)
    is_deleted = models.BooleanField(_("已删除"), default=False)

    class Meta:
        verbose_name = _("收件记录")
        verbose_name_plural = _("收件记录")
        constraints = [models.UniqueConstraint(fields=["bulletin", "user"], name="bulletin_recipient_unique")]
        indexes = [models.Index(fields=["user", "is_deleted", "read_at"], name="bulletin_inbox")]


class BulletinAttachment(models.Model):
    bulletin = models.ForeignKey(
        Bulletin, verbose_name=_("公告"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("文件"), upload_to="bulletins/%Y/%m/", storage=private_storage, max_length=300)
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小"), default=0)
    content_type = models.CharField(_("类型"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("公告附件")
        verbose_name_plural = _("公告附件")
