from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    IN_APP = "in_app", _("系统内提醒")
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")


class MessageTemplate(models.Model):
    """Text of a notification, with {placeholders}; edited by admins."""

    code = models.SlugField(_("编码"), max_length=50, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    subject = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("消息模板")
        verbose_name_plural = _("消息模板")

    def __str__(self) -> str:
        return self.name


class OutboxStatus(models.TextChoices):
    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("发送失败")


class Audience(models.Model):
    """A fixed set of users on their channels (with the address each was reached at) that a notice goes to.

    The deadline sweep sends thousands of notices to the same few people (the handlers and leaders of a unit):
    it writes one outbox row per notice and channel naming its audience, not one per recipient. The in-app inbox
    reads those rows by the user's memberships (read state stored only when the user reads: `NoticeRead`); SMS
    and e-mail rows are expanded into one message per member by delivery (`expand_due`). The id is derived from
    the members (`audience_id`), so a sweep finds its audiences without a look-up and two sweeps agree on them;
    rows are never changed or deleted once written.
    """

    id = models.BigIntegerField(primary_key=True)

    class Meta:
        verbose_name = _("消息受众")
        verbose_name_plural = _("消息受众")


class AudienceMember(models.Model):
    audience = models.ForeignKey(Audience, related_name="members", on_delete=models.CASCADE, db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.CASCADE)
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    address = models.CharField(_("地址"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("受众成员")
        verbose_name_plural = _("受众成员")
        constraints = [
            models.UniqueConstraint(fields=["audience", "user", "channel"], name="audience_member_unique")
        ]
        indexes = [models.Index(fields=["user", "channel", "audience"], name="audience_member_user_idx")]


class Outbox(models.Model):
    """One message on one channel, written in the same transaction as its cause: to one recipient (or address),
    or to an audience (one row for all its members on that channel, see `Audience`)."""

    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("接收人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.CASCADE,
        db_index=False,  # outbox_inbox_idx (recipient, channel, read_at) serves it
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    template = models.CharField(_("模板"), max_length=50, blank=True)
    subject = models.CharField(_("标题"), max_length=200, blank=True)
    body = models.TextField(_("正文"))  # what staff may read: secrets (a query password) shown as ******
    # The full text with its secrets, encrypted (common.crypto); read only by delivery, cleared once sent.
    sealed_body = models.TextField(_("加密正文"), blank=True, editable=False)
    link = models.CharField(_("链接"), max_length=200, blank=True)
    status = models.CharField(
        _("状态"), max_length=12, choices=OutboxStatus.choices, default=OutboxStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次发送时间"))
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"))
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("送达时间"), null=True, blank=True)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    external_id = models.CharField(_("网关编号"), max_length=64, blank=True)
    # Extra e-mail headers (Message-ID, In-Reply-To, References of an answer threaded to the citizen's mail).
    headers = models.JSONField(
        _("邮件头"), default=dict, db_default={}, blank=True
    )  # raw SQL inserts (the sweep)
    # A notice to an audience (no recipient). No database constraint: the audience is written in the same
    # transaction or before, and audiences are never deleted (a per-row check cost the sweep's inserts).
    audience = models.ForeignKey(
        Audience,
        verbose_name=_("受众"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,  # outbox_audience_idx
    )
    # One member's message expanded from an audience's SMS / e-mail row by delivery (at most one per member).
    parent = models.ForeignKey(
        "self", verbose_name=_("群发消息"), null=True, blank=True, related_name="+", on_delete=models.CASCADE,
        db_index=False,  # outbox_parent_member_unique
    )  # fmt: skip

    class Meta:
        verbose_name = _("消息发件箱")
        verbose_name_plural = _("消息发件箱")
        indexes = [
            # Only what delivery still has to do: the many sent and in-app rows stay out of it.
            models.Index(
                fields=["status", "next_attempt_at"],
                name="outbox_due_idx",
                condition=models.Q(status__in=["pending", "sending"]),
            ),
            models.Index(
                fields=["recipient", "channel", "read_at"],
                name="outbox_inbox_idx",
                condition=models.Q(recipient__isnull=False),
            ),
            models.Index(
                fields=["audience", "channel", "-created_at"],
                name="outbox_audience_idx",
                condition=models.Q(audience__isnull=False),
            ),
            # Delivery reports find their message by the gateway's id; most rows (in-app, not sent yet) have none.
            models.Index(
                fields=["external_id"], name="outbox_external_id_idx", condition=~models.Q(external_id="")
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "recipient"],
                name="outbox_parent_member_unique",
                condition=models.Q(parent__isnull=False),
            )
        ]

    def __str__(self) -> str:
        return f"{self.channel}→{self.address or self.recipient_id or f'audience {self.audience_id}'}"


class NoticeRead(models.Model):
    """A member of an audience has read that in-app notice (written only when the user reads it)."""

    message = models.ForeignKey(Outbox, related_name="reads", on_delete=models.CASCADE, db_index=False)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, related_name="+", on_delete=models.CASCADE)
    read_at = models.DateTimeField(_("阅读时间"))

    class Meta:
        verbose_name = _("已读记录")
        verbose_name_plural = _("已读记录")
        constraints = [models.UniqueConstraint(fields=["message", "user"], name="notice_read_unique")]


class DeliveryLog(models.Model):
    """Every attempt and every delivery report, for tracing a message that did not arrive."""

    message = models.ForeignKey(Outbox, verbose_name=_("消息"), related_name="log", on_delete=models.CASCADE)
    at = models.DateTimeField(_("时间"))
    event = models.CharField(_("事件"), max_length=32)
    detail = models.TextField(_("详情"), blank=True)

    class Meta:
        verbose_name = _("投递日志")
        verbose_name_plural = _("投递日志")
        ordering = ["at", "id"]
