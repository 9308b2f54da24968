"""Citizen channels: every message a channel delivers, kept once (idempotent), and per-channel accounts."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.common import crypto


class ChannelKind(models.TextChoices):
    WECHAT = "wechat", _("微信公众号")
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")
    WEB = "web", _("网站")
    APP = "app", _("APP")
    CHAT = "chat", _("在线客服")


class WeChatAccount(models.Model):
    """An official account's server settings; the AES key and app secret are encrypted at rest."""

    name = models.CharField(_("名称"), max_length=100)
    app_id = models.CharField(_("AppID"), max_length=32, unique=True)
    token = models.CharField(_("令牌(Token)"), max_length=64)
    encoding_aes_key_encrypted = models.TextField(_("消息加解密密钥（加密保存）"), blank=True)
    api_base_url = models.URLField(_("接口地址"), default="https://api.weixin.qq.com")
    app_secret_encrypted = models.TextField(_("AppSecret（加密保存）"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("微信公众号")
        verbose_name_plural = _("微信公众号")

    def __str__(self) -> str:
        return self.name

    @property
    def encoding_aes_key(self) -> str:
        return crypto.decrypt(self.encoding_aes_key_encrypted)

    def set_encoding_aes_key(self, value: str) -> None:
        self.encoding_aes_key_encrypted = crypto.encrypt(value)

    @property
    def app_secret(self) -> str:
        return crypto.decrypt(self.app_secret_encrypted) if self.app_secret_encrypted else ""

    def set_app_secret(self, value: str) -> None:
        self.app_secret_encrypted = crypto.encrypt(value)


class ChannelMessage(models.Model):
    """One message received on a channel. Unique per channel, account and external id: a retried delivery finds
    the row it made the first time (and its reply) instead of making a second request."""

    channel = models.CharField(_("渠道"), max_length=16, choices=ChannelKind.choices)
    account = models.CharField(_("渠道账号"), max_length=64)
    external_id = models.CharField(_("外部消息编号"), max_length=128)
    sender = models.CharField(_("发送方"), max_length=128, db_index=True)
    kind = models.CharField(_("消息类型"), max_length=32)
    text = models.TextField(_("内容"), blank=True)
    raw = models.TextField(_("原始报文"), blank=True)
    received_at = models.DateTimeField(_("接收时间"))
    acknowledged_at = models.DateTimeField(_("回执时间"), null=True, blank=True)
    # The response clock of the channel (3 minutes online and by SMS, 24 hours by e-mail) and when an agent
    # first acted on the request (accepted it or proposed not to): kept for the reports.
    reply_due_at = models.DateTimeField(_("回复时限"), null=True, blank=True)
    first_reply_at = models.DateTimeField(_("首次人工回复时间"), null=True, blank=True)
    reply = models.TextField(_("自动回复"), blank=True)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("渠道消息")
        verbose_name_plural = _("渠道消息")
        constraints = [
            models.UniqueConstraint(fields=["channel", "account", "external_id"], name="channel_message_once")
        ]
        indexes = [
            models.Index(fields=["channel", "sender", "received_at"], name="channel_message_sender_idx")
        ]


class WeChatFollower(models.Model):
    """A follower's conversation with the account: the request type chosen from the menu and a bound phone."""

    account = models.ForeignKey(WeChatAccount, verbose_name=_("公众号"), on_delete=models.CASCADE)
    open_id = models.CharField(_("OpenID"), max_length=64)
    phone = models.CharField(_("绑定手机号"), max_length=20, blank=True)
    pending_type = models.CharField(_("待提交诉求类型"), max_length=32, blank=True)
    # Photos (WeChat MediaIds) sent while composing a request: attached to the case its text makes.
    pending_media = models.JSONField(_("待提交照片"), default=list, db_default=[], blank=True)
    bind_code_hash = models.CharField(_("绑定验证码"), max_length=128, blank=True)
    bind_phone = models.CharField(_("待绑定手机号"), max_length=20, blank=True)
    bind_code_expires_at = models.DateTimeField(_("验证码有效期"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("微信用户")
        verbose_name_plural = _("微信用户")
        constraints = [models.UniqueConstraint(fields=["account", "open_id"], name="wechat_follower_once")]


class ChannelRejection(models.Model):
    """A refused delivery (bad signature, stale timestamp, malformed XML…): counted for abuse reports."""

    channel = models.CharField(_("渠道"), max_length=16, choices=ChannelKind.choices)
    account = models.CharField(_("渠道账号"), max_length=64)
    code = models.CharField(_("原因代码"), max_length=32)
    address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("渠道拒收记录")
        verbose_name_plural = _("渠道拒收记录")
        indexes = [models.Index(fields=["channel", "at"], name="channel_rejection_at_idx")]


class CitizenAccount(models.Model):
    """A citizen known by a phone number they proved with an SMS code (portal "my requests", the app)."""

    phone = models.CharField(_("手机号码"), max_length=20, unique=True)
    created_at = models.DateTimeField(_("注册时间"))
    last_login_at = models.DateTimeField(_("最近登录"), null=True, blank=True)

    class Meta:
        verbose_name = _("市民账号")
        verbose_name_plural = _("市民账号")

    def __str__(self) -> str:
        return crypto.mask_phone(self.phone)


class CitizenToken(models.Model):
    """An app/H5 token of a citizen account: only its SHA-256 is stored; distinct from staff API tokens."""

    account = models.ForeignKey(CitizenAccount, verbose_name=_("市民账号"), on_delete=models.CASCADE)
    key_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True)
    created_at = models.DateTimeField(_("创建时间"))
    expires_at = models.DateTimeField(_("到期时间"))

    class Meta:
        verbose_name = _("市民令牌")
        verbose_name_plural = _("市民令牌")


class PhoneCode(models.Model):
    """A one-time SMS code proving a phone number (portal and app login, portal submission)."""

    phone = models.CharField(_("手机号码"), max_length=20)
    code_hash = models.CharField(_("验证码"), max_length=128)
    created_at = models.DateTimeField(_("发送时间"))
    expires_at = models.DateTimeField(_("有效期"))
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("短信验证码")
        verbose_name_plural = _("短信验证码")
        indexes = [models.Index(fields=["phone", "created_at"], name="phone_code_phone_idx")]


class CallbackInvite(models.Model):
    """A callback SMS asking the citizen to rate a case by replying 1–5 (CLS-2 by SMS)."""

    case = models.ForeignKey("cases.Case", verbose_name=_("工单"), on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(_("手机号码"), max_length=20)
    sent_at = models.DateTimeField(_("发送时间"))
    answered_at = models.DateTimeField(_("评价时间"), null=True, blank=True)
    rating = models.CharField(_("评价"), max_length=24, blank=True)

    class Meta:
        verbose_name = _("短信回访")
        verbose_name_plural = _("短信回访")
        indexes = [models.Index(fields=["phone", "sent_at"], name="callback_invite_phone_idx")]


class ChatStatus(models.TextChoices):
    WAITING = "waiting", _("排队中")
    ACTIVE = "active", _("服务中")
    CLOSED = "closed", _("已结束")


class ChatSession(models.Model):
    """An online chat (在线客服) between a citizen and an agent. The citizen holds an unguessable token (only its
    SHA-256 is stored); the reply clock is the session's ChannelMessage (channel "chat")."""

    token_hash = models.CharField(_("令牌摘要"), max_length=64, unique=True)
    channel = models.CharField(_("来源渠道"), max_length=16, choices=ChannelKind.choices)
    sender = models.CharField(_("市民标识"), max_length=128, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=ChatStatus.choices, default=ChatStatus.WAITING
    )
    created_at = models.DateTimeField(_("发起时间"))
    accepted_at = models.DateTimeField(_("接入时间"), null=True, blank=True)
    agent = models.ForeignKey(
        "orgs.User", verbose_name=_("客服"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    message = models.OneToOneField(
        ChannelMessage, verbose_name=_("渠道消息"), on_delete=models.PROTECT, related_name="chat_session"
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    transcript_saved_at = models.DateTimeField(_("记录存入工单时间"), null=True, blank=True)
    # The skill group whose agents are offered the session (keyword routing); empty: every chat agent.
    queue = models.ForeignKey(
        "telephony.Queue", verbose_name=_("技能组"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )  # fmt: skip

    class Meta:
        verbose_name = _("在线客服会话")
        verbose_name_plural = _("在线客服会话")
        indexes = [models.Index(fields=["status", "created_at"], name="chat_session_queue_idx")]


class ChatAuthor(models.TextChoices):
    CITIZEN = "citizen", _("市民")
    AGENT = "agent", _("客服")
    SYSTEM = "system", _("系统")


class ChatLine(models.Model):
    session = models.ForeignKey(
        ChatSession, verbose_name=_("会话"), on_delete=models.CASCADE, related_name="lines"
    )
    author = models.CharField(_("发言方"), max_length=16, choices=ChatAuthor.choices)
    agent = models.ForeignKey(
        "orgs.User", verbose_name=_("客服"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("内容"))
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("会话消息")
        verbose_name_plural = _("会话消息")
        ordering = ["id"]


class KeywordRoute(models.Model):
    """Keyword routing of free text as data: a message starting with (or, if `anywhere`, containing) the keyword
    gets that case type (SMS, e-mail) and/or goes to that agents' skill group (an online chat from the portal, the
    app or WeChat). The office edits the list in the admin; lower `order` is tried first."""

    keyword = models.CharField(_("关键词"), max_length=20)
    case_type = models.ForeignKey(
        "common.DictItem",
        verbose_name=_("诉求类型"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        limit_choices_to={"kind": "case_type"},
        related_name="+",
    )
    queue = models.ForeignKey(
        "telephony.Queue",
        verbose_name=_("转入技能组（在线客服）"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    anywhere = models.BooleanField(_("内容中任意位置匹配"), default=False, help_text=_("否：只匹配开头"))
    order = models.PositiveSmallIntegerField(_("顺序"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("关键词分类规则")
        verbose_name_plural = _("关键词分类规则")
        ordering = ["order", "id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(case_type__isnull=False) | models.Q(queue__isnull=False),
                name="keyword_route_has_target",
            )
        ]

    def __str__(self) -> str:
        return self.keyword


class MailAnswer(models.Model):
    """An answer e-mailed to the citizen of a mailbox request, threaded to their mail: its own Message-ID lets the
    citizen's reply (In-Reply-To / References) find the case again."""

    case = models.ForeignKey("cases.Case", verbose_name=_("工单"), on_delete=models.CASCADE, related_name="+")
    message_id = models.CharField(_("邮件编号(Message-ID)"), max_length=255, unique=True)
    in_reply_to = models.CharField(_("回复的邮件"), max_length=255, blank=True)
    address = models.EmailField(_("收件地址"))
    text = models.TextField(_("答复内容"))
    author = models.ForeignKey(
        "orgs.User",
        verbose_name=_("答复人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    outbox_id = models.PositiveBigIntegerField(_("发件箱编号"))
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("邮件答复")
        verbose_name_plural = _("邮件答复")
        indexes = [models.Index(fields=["case", "at"], name="mail_answer_case_idx")]


class SmsPhrase(models.Model):
    """A common phrase (常用短语) staff pick when composing an SMS; the office keeps the list."""

    text = models.CharField(_("短语"), max_length=300)
    order = models.PositiveSmallIntegerField(_("顺序"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("短信常用短语")
        verbose_name_plural = _("短信常用短语")
        ordering = ["order", "id"]

    def __str__(self) -> str:
        return self.text


class SmsExtension(models.Model):
    """A unit's extension number (扩展号): its messages go out from the service number followed by these digits
    (e.g. 12345 + 07 → 1234507), so a citizen's reply arrives addressed to it and is routed back to that unit."""

    unit = models.OneToOneField(
        "orgs.Unit", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="sms_extension"
    )
    code = models.CharField(_("扩展号"), max_length=6, unique=True)

    class Meta:
        verbose_name = _("短信扩展号")
        verbose_name_plural = _("短信扩展号")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class SmsSent(models.Model):
    """An SMS staff sent from the SMS screen: which unit (and extension) sent it to which phone, about which case.
    The per-day / per-unit summaries count these with their outbox status; a reply to the extension finds the
    case again through it."""

    outbox_id = models.PositiveBigIntegerField(_("发件箱编号"), unique=True)
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("发送单位"), on_delete=models.PROTECT, related_name="+"
    )
    extension = models.CharField(_("扩展号"), max_length=6, blank=True)
    phone = models.CharField(_("手机号码"), max_length=20)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author = models.ForeignKey(
        "orgs.User", verbose_name=_("发送人"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("发送时间"))
    group_send = models.ForeignKey(
        "SmsGroupSend",
        verbose_name=_("通讯组群发"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="recipient_rows",
    )

    class Meta:
        verbose_name = _("短信发送记录")
        verbose_name_plural = _("短信发送记录")
        indexes = [
            models.Index(fields=["unit", "at"], name="sms_sent_unit_idx"),
            models.Index(fields=["extension", "phone", "at"], name="sms_sent_reply_idx"),
        ]


class SmsGroup(models.Model):
    """A unit's contact group (通讯组): numbers staff send one SMS to at once. Seen and used by the unit (and the
    units above it for their leaders, the office for all); the numbers are shown masked."""

    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("组名"), max_length=60)
    note = models.CharField(_("说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        "orgs.User", verbose_name=_("创建人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("创建时间"))

    class Meta:
        verbose_name = _("短信通讯组")
        verbose_name_plural = _("短信通讯组")
        ordering = ["name", "id"]
        constraints = [models.UniqueConstraint(fields=["unit", "name"], name="sms_group_name_once")]

    def __str__(self) -> str:
        return self.name


class SmsGroupMember(models.Model):
    group = models.ForeignKey(
        SmsGroup, verbose_name=_("通讯组"), on_delete=models.CASCADE, related_name="members"
    )
    phone = models.CharField(_("手机号码"), max_length=20)
    label = models.CharField(_("备注名"), max_length=40, blank=True)

    class Meta:
        verbose_name = _("通讯组成员")
        verbose_name_plural = _("通讯组成员")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["group", "phone"], name="sms_group_member_once")]


class SmsGroupSend(models.Model):
    """One SMS sent to a whole group: its recipients are the SmsSent rows pointing here, each with its own
    delivery report (the outbox row's status, sent and delivered times)."""

    group = models.ForeignKey(
        SmsGroup, verbose_name=_("通讯组"), on_delete=models.PROTECT, related_name="sends"
    )
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("发送单位"), on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField(_("短信内容"))
    recipients = models.PositiveIntegerField(_("接收人数"))
    author = models.ForeignKey(
        "orgs.User", verbose_name=_("发送人"), on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(_("发送时间"))

    class Meta:
        verbose_name = _("通讯组群发")
        verbose_name_plural = _("通讯组群发")
        ordering = ["-at", "-id"]


class WeChatNoticeTemplate(models.Model):
    """A notice sent as a WeChat template message (模板消息) instead of a customer-service text: the template id
    the office chose in the account's back office and which text goes into each of its fields ({placeholders} of
    the notice, e.g. keyword1 = {number}). Edited on the citizen texts screen beside the notice's text."""

    code = models.SlugField(_("通知编码"), max_length=50, unique=True)
    template_id = models.CharField(_("模板ID"), max_length=64)
    fields = models.JSONField(_("字段对应"), default=list, blank=True)  # [[key, text with placeholders], …]
    url = models.CharField(_("跳转链接"), max_length=300, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("微信模板消息")
        verbose_name_plural = _("微信模板消息")

    def __str__(self) -> str:
        return self.code


class WeChatTemplateSendStatus(models.TextChoices):
    SENT = "sent", _("已发送")
    UNSUBSCRIBED = "unsubscribed", _("用户未关注")
    FAILED = "failed", _("发送失败")


class WeChatTemplateDelivery(models.TextChoices):
    """What WeChat's TEMPLATESENDJOBFINISH push said of a sent template message."""

    DELIVERED = "delivered", _("已送达")
    BLOCKED = "blocked", _("用户拒收")
    FAILED = "failed", _("发送失败")


class WeChatTemplateSend(models.Model):
    """One template message to a follower, as WeChat answered it (msgid, or the errcode: 43004 the follower has
    unsubscribed, recorded and not retried)."""

    account = models.ForeignKey(WeChatAccount, verbose_name=_("公众号"), on_delete=models.CASCADE)
    code = models.CharField(_("通知编码"), max_length=50)
    template_id = models.CharField(_("模板ID"), max_length=64)
    open_id = models.CharField(_("OpenID"), max_length=64)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("工单"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    data = models.JSONField(_("模板数据"), default=dict)
    status = models.CharField(_("状态"), max_length=16, choices=WeChatTemplateSendStatus.choices)
    msg_id = models.CharField(_("消息编号(msgid)"), max_length=32, blank=True)
    errcode = models.IntegerField(_("错误码"), default=0)
    errmsg = models.CharField(_("错误信息"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("调用次数"), default=1)
    at = models.DateTimeField(_("时间"))
    # WeChat's TEMPLATESENDJOBFINISH event for this msgid: Status as sent ("success", "failed:user block",
    # "failed: system failed") and when it arrived (the first report counts; a retried push changes nothing).
    delivery = models.CharField(
        _("送达结果"),
        max_length=16,
        choices=WeChatTemplateDelivery.choices,
        blank=True,
        default="",
        db_default="",
    )
    delivery_status = models.CharField(
        _("微信推送状态"), max_length=64, blank=True, default="", db_default=""
    )
    delivery_reported_at = models.DateTimeField(_("送达结果时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("微信模板消息记录")
        verbose_name_plural = _("微信模板消息记录")
        indexes = [
            models.Index(fields=["code", "at"], name="wechat_template_send_idx"),
            models.Index(fields=["account", "msg_id"], name="wechat_template_msgid_idx"),
        ]
