"""A partner system (a bureau's case system, the superior 12345 platform, the police platform, a civic app) and
the log of every call it made to us or we made to it."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from . import payload, signing


class Partner(models.Model):
    class Kind(models.TextChoices):
        BUREAU = "bureau", _("委办局业务系统")
        SUPERIOR = "superior", _("上级 12345 平台")
        EMERGENCY = "emergency", _("110/119/120/122 联动平台")
        CIVIC_APP = "civic_app", _("公众应用（Open311）")
        OTHER = "other", _("其他")

    class SignMethod(models.TextChoices):
        HMAC_SHA256 = signing.HMAC_SHA256, "HMAC-SHA256"
        HMAC_SM3 = signing.HMAC_SM3, "HMAC-SM3"

    class Encryption(models.TextChoices):
        NONE = payload.NONE, _("不加密（仅签名）")
        AES_256_GCM = payload.AES_256_GCM, "AES-256-GCM"
        SM4_GCM = payload.SM4_GCM, "SM4-GCM"
        SM4_CBC = payload.SM4_CBC, "SM4-CBC"
        DES_CBC = payload.DES_CBC, _("DES-CBC（遗留，不安全）")

    class Scope(models.TextChoices):
        PING = "ping", _("连通测试")
        CASES_RECEIVE = "cases:receive", _("推送诉求")
        CASES_RESULT = "cases:result", _("回复办理结果")
        CASES_READ = "cases:read", _("查询已推送诉求")
        BASE_DATA = "base_data", _("基础数据交换")
        # Citizens are personal data: exchanging them needs this scope besides base_data.
        CITIZENS = "citizens", _("市民档案交换（个人信息）")
        OPEN311 = "open311", _("Open311 提交与查询")
        CALLS_READ = "calls:read", _("调阅通话记录和录音")
        KNOWLEDGE_READ = "knowledge:read", _("检索知识库")

    code = models.SlugField(_("接入代码"), max_length=40, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices, default=Kind.OTHER)
    is_active = models.BooleanField(_("启用"), default=True)
    secret_sealed = models.TextField(_("签名密钥（加密存储）"))
    sign_method = models.CharField(
        _("签名算法"), max_length=16, choices=SignMethod.choices, default=SignMethod.HMAC_SHA256
    )
    encryption = models.CharField(
        _("报文加密"), max_length=16, choices=Encryption.choices, default=Encryption.NONE
    )
    encryption_key_sealed = models.TextField(_("报文密钥（加密存储）"), blank=True)
    allowed_networks = models.TextField(
        _("来源地址白名单"), blank=True, help_text=_("每行一个 IP 或 CIDR；留空不限")
    )
    scopes = models.JSONField(_("授权范围"), default=list)
    rate_per_minute = models.PositiveIntegerField(_("每分钟请求上限"), default=600)
    api_key_prefix = models.CharField(_("接口密钥前缀"), max_length=12, blank=True, db_index=True)
    # sha256 of the whole key; `secret-sha256:` + sha256 of the part after the dot for a key the knowledge base
    # issued before its clients became partners (migration 0005), so those keys keep working.
    api_key_hash = models.CharField(_("接口密钥摘要"), max_length=80, blank=True)
    knowledge_spaces = models.ManyToManyField(
        "knowledge.Space",
        verbose_name=_("可检索的知识空间"),
        blank=True,
        related_name="+",
        help_text=_("授权“检索知识库”时：可检索哪些知识空间"),
    )
    knowledge_public_only = models.BooleanField(_("仅检索公开条目"), default=True)
    unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("对应单位"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("委办局系统代表的单位：它只能收到派给该单位（及下级）的诉求"),
    )
    service_user = models.OneToOneField(
        "orgs.User",
        verbose_name=_("系统账号"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="partner",
        help_text=_("接入系统在平台上的身份：范围、脱敏和时间线都按此账号"),
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("接入系统")
        verbose_name_plural = _("接入系统")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"

    @property
    def is_legacy_cipher(self) -> bool:
        return self.encryption in payload.LEGACY


class PartnerCall(models.Model):
    """One request a partner made to us (in) or we made to it (out), successful or refused (API-5 audit)."""

    class Direction(models.TextChoices):
        IN = "in", _("接入")
        OUT = "out", _("推送")

    partner = models.ForeignKey(
        Partner,
        verbose_name=_("接入系统"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="calls",
    )
    direction = models.CharField(_("方向"), max_length=3, choices=Direction.choices)
    method = models.CharField(_("方法"), max_length=8)
    path = models.CharField(_("路径"), max_length=255)
    status_code = models.PositiveSmallIntegerField(_("状态码"))
    reason = models.CharField(_("拒绝原因"), max_length=32, blank=True)
    client_ip = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), db_index=True)
    duration_ms = models.PositiveIntegerField(_("耗时（毫秒）"), default=0)

    class Meta:
        verbose_name = _("接口调用记录")
        verbose_name_plural = _("接口调用记录")
        indexes = [models.Index(fields=["partner", "-at"], name="integ_call_partner_at")]

    @property
    def ok(self) -> bool:
        return self.status_code < 400


class Subscription(models.Model):
    """A partner's webhook: the case events it wants pushed to its URL (API-6)."""

    class Event(models.TextChoices):
        CREATED = "created", _("新建诉求")
        DISPATCHED = "dispatched", _("派单")
        STATUS_CHANGED = "status_changed", _("状态变化")
        URGED = "urged", _("催办")
        CLOSED = "closed", _("办结")
        EMERGENCY = "emergency", _("应急联动转交")

    partner = models.ForeignKey(
        Partner, verbose_name=_("接入系统"), on_delete=models.CASCADE, related_name="subscriptions"
    )
    url = models.URLField(_("推送地址"), max_length=500)
    events = models.JSONField(_("订阅事件"), default=list)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("事件订阅")
        verbose_name_plural = _("事件订阅")

    def __str__(self) -> str:
        return f"{self.partner.code} → {self.url}"


class Delivery(models.Model):
    """One event pushed to one subscription, retried with backoff until it is accepted or given up (dead)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待推送")
        SENT = "sent", _("已送达")
        DEAD = "dead", _("已放弃")

    subscription = models.ForeignKey(
        Subscription, verbose_name=_("订阅"), on_delete=models.CASCADE, related_name="deliveries"
    )
    idempotency_key = models.CharField(_("幂等键"), max_length=64, unique=True)
    event = models.CharField(_("事件"), max_length=20)
    case_id = models.BigIntegerField(_("工单"), db_index=True)
    payload = models.JSONField(_("内容"))
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(_("尝试次数"), default=0)
    next_attempt_at = models.DateTimeField(_("下次尝试"))
    last_status = models.PositiveSmallIntegerField(_("最近状态码"), null=True, blank=True)
    last_error = models.CharField(_("最近错误"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("创建时间"))
    sent_at = models.DateTimeField(_("送达时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("推送记录")
        verbose_name_plural = _("推送记录")
        indexes = [
            models.Index(
                fields=["next_attempt_at", "id"],
                name="integ_delivery_due",
                condition=models.Q(status="pending"),
            ),
            models.Index(fields=["subscription", "status"], name="integ_delivery_sub_status"),
        ]


class Open311Request(models.Model):
    """A request a civic app posted through Open311: its token and the case it became (API-2)."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("接入系统"), on_delete=models.PROTECT, related_name="+"
    )
    token = models.CharField(_("令牌"), max_length=40, unique=True)
    case_id = models.BigIntegerField(_("工单"), unique=True)
    created_at = models.DateTimeField(_("提交时间"))
    # The case's requested time (`Case.created_at`, which never changes after intake), so a partner's own requests
    # are listed newest first and windowed from this table's index alone, probing only the cases of one page.
    case_created_at = models.DateTimeField(_("工单受理时间"))

    class Meta:
        verbose_name = _("Open311 诉求")
        verbose_name_plural = _("Open311 诉求")
        indexes = [
            models.Index(fields=["partner", "-created_at"], name="integ_o311_partner_created"),
            models.Index(
                fields=["partner", "-case_created_at", "-case_id"], name="integ_o311_partner_case_time"
            ),
        ]


class ExternalCase(models.Model):
    """A case another platform sent us (the superior 12345 platform, the police platform): its number there.

    Receiving the same external case twice finds this row and makes no second case; status reports go back to
    the sender for the cases linked here."""

    partner = models.ForeignKey(
        Partner, verbose_name=_("来源系统"), on_delete=models.PROTECT, related_name="+"
    )
    external_id = models.CharField(_("对方编号"), max_length=64)
    case_id = models.BigIntegerField(_("工单"), unique=True)
    received_at = models.DateTimeField(_("接收时间"))

    class Meta:
        verbose_name = _("外部来件")
        verbose_name_plural = _("外部来件")
        constraints = [
            models.UniqueConstraint(fields=["partner", "external_id"], name="integ_external_case_unique")
        ]


class ApiKeyRequest(models.Model):
    """A civic app's request for an Open311 key (API-2): reviewed by an administrator, collected once.

    The requester gets a claim link whose token only they hold (stored as a digest). On approval the app becomes a
    `civic_app` partner with the open311 scope; its key waits here encrypted until the claim link shows it once,
    then it is wiped."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已批准，待领取")
        CLAIMED = "claimed", _("已领取")
        REJECTED = "rejected", _("未批准")

    app_name = models.CharField(_("应用名称"), max_length=100)
    developer = models.CharField(_("开发者或机构"), max_length=100)
    contact_email = models.EmailField(_("联系邮箱"))
    purpose = models.TextField(_("用途说明"), max_length=1000)
    client_ip = models.GenericIPAddressField(_("申请地址"), null=True, blank=True)
    claim_digest = models.CharField(_("领取令牌摘要"), max_length=64, unique=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.PENDING)
    partner = models.OneToOneField(
        Partner, verbose_name=_("接入系统"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    api_key_sealed = models.TextField(_("待领取密钥（加密存储）"), blank=True)
    decided_by = models.ForeignKey(
        "orgs.User",
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.CharField(_("审核意见"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("申请时间"))

    class Meta:
        verbose_name = _("Open311 密钥申请")
        verbose_name_plural = _("Open311 密钥申请")
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["status", "created_at"], name="apikeyreq_status_idx")]

    def __str__(self) -> str:
        return self.app_name


class EmergencyHandover(models.Model):
    """A case handed to the 110 / 119 / 120 / 122 platform (API-4): pushed through the partner's webhook, the
    platform acknowledges it and reports back; the hand-over time (asked → acknowledged) is measured against the
    10-minute rule."""

    class Service(models.TextChoices):
        POLICE = "110", _("110 公安")
        FIRE = "119", _("119 消防")
        AMBULANCE = "120", _("120 急救")
        TRAFFIC = "122", _("122 交警")

    class Status(models.TextChoices):
        SENT = "sent", _("已转交，待接收")
        ACKNOWLEDGED = "acknowledged", _("联动单位已接收")
        FINISHED = "finished", _("联动单位已处置")

    case = models.ForeignKey("cases.Case", verbose_name=_("工单"), on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey(
        Partner, verbose_name=_("联动平台"), on_delete=models.PROTECT, related_name="handovers"
    )
    service = models.CharField(_("联动类别"), max_length=3, choices=Service.choices)
    note = models.CharField(_("转交说明"), max_length=500, blank=True)
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.SENT)
    requested_by = models.ForeignKey(
        "orgs.User", verbose_name=_("转交人"), null=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("转交时间"))
    acknowledged_at = models.DateTimeField(_("接收时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("处置时间"), null=True, blank=True)
    external_id = models.CharField(_("联动平台编号"), max_length=64, blank=True)
    feedback = models.TextField(_("反馈"), blank=True)
    # The number the caller's call was blind-transferred to with the hand-over ("" when no linked call was on).
    voice_number = models.CharField(_("通话转接号码"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("应急联动转交")
        verbose_name_plural = _("应急联动转交")
        ordering = ["-requested_at"]
        indexes = [models.Index(fields=["partner", "-requested_at"], name="handover_partner_at")]

    def __str__(self) -> str:
        return f"{self.service} {self.case_id}"

    @property
    def handover_seconds(self) -> int | None:
        if self.acknowledged_at is None:
            return None
        return int((self.acknowledged_at - self.requested_at).total_seconds())
