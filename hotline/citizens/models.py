from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils.translation import gettext_lazy as _

from hotline.common import crypto
from hotline.common.storage import private_storage


class Gender(models.TextChoices):
    UNKNOWN = "", _("未知")
    MALE = "male", _("男")
    FEMALE = "female", _("女")


class CitizenLevel(models.TextChoices):
    NORMAL = "normal", _("普通")
    VIP = "vip", _("重点")
    SENSITIVE = "sensitive", _("敏感")


class Citizen(models.Model):
    """A citizen profile (CIT-1). `phone` is the main number; every number, the main one included, is also a
    `CitizenPhone` row, which is what screen pop and search look numbers up by."""

    name = models.CharField(_("姓名"), max_length=50, blank=True, db_index=True)
    gender = models.CharField(_("性别"), max_length=8, choices=Gender.choices, blank=True)
    phone = models.CharField(_("电话"), max_length=20, db_index=True, blank=True)
    email = models.EmailField(_("电子邮箱"), blank=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    work_unit = models.CharField(_("工作单位"), max_length=100, blank=True)
    post_code = models.CharField(_("邮编"), max_length=6, blank=True)
    id_card_encrypted = models.TextField(_("身份证号（加密）"), blank=True, editable=False)
    id_card_hash = models.CharField(
        _("身份证号检索值"), max_length=64, blank=True, db_index=True, editable=False
    )
    level = models.CharField(
        _("级别"), max_length=16, choices=CitizenLevel.choices, default=CitizenLevel.NORMAL
    )
    notes = models.TextField(_("备注"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    # db_default so bulk loaders that COPY only the original columns keep working.
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True, db_default=Now())

    class Meta:
        verbose_name = _("市民")
        verbose_name_plural = _("市民")

    def __str__(self) -> str:
        return self.name or self.phone

    @property
    def id_card(self) -> str:
        return crypto.decrypt(self.id_card_encrypted)

    def set_id_card(self, value: str) -> None:
        value = value.strip().upper()
        self.id_card_encrypted = crypto.encrypt(value)
        self.id_card_hash = crypto.lookup_hash(value) if value else ""


class PhoneKind(models.TextChoices):
    MOBILE = "mobile", _("手机")
    HOME = "home", _("住宅电话")
    WORK = "work", _("办公电话")
    OTHER = "other", _("其他")


class CitizenPhone(models.Model):
    """One of a citizen's numbers (normalised: no spaces, no +86). A number may belong to several citizens
    (a family landline); screen pop shows the most recently active one first."""

    citizen = models.ForeignKey(
        Citizen, verbose_name=_("市民"), related_name="phones", on_delete=models.CASCADE
    )
    number = models.CharField(_("号码"), max_length=20)
    kind = models.CharField(_("类型"), max_length=8, choices=PhoneKind.choices, default=PhoneKind.MOBILE)
    is_primary = models.BooleanField(_("主号码"), default=False)

    class Meta:
        verbose_name = _("市民电话")
        verbose_name_plural = _("市民电话")
        ordering = ["-is_primary", "id"]
        indexes = [models.Index(fields=["number"], name="citizenphone_number_idx")]
        constraints = [
            models.UniqueConstraint(fields=["citizen", "number"], name="citizenphone_citizen_number_unique")
        ]

    def __str__(self) -> str:
        return self.number


class RelatedContact(models.Model):
    """CIT-2: people related to a citizen (family member, guardian, agent), 1:N."""

    citizen = models.ForeignKey(
        Citizen, verbose_name=_("市民"), related_name="contacts", on_delete=models.CASCADE
    )
    name = models.CharField(_("姓名"), max_length=50)
    relation = models.CharField(_("关系"), max_length=20, blank=True)
    phone = models.CharField(_("电话"), max_length=20, blank=True, db_index=True)
    address = models.CharField(_("地址"), max_length=200, blank=True)
    notes = models.CharField(_("备注"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("相关联系人")
        verbose_name_plural = _("相关联系人")
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.relation}）" if self.relation else self.name


class BlacklistDirection(models.TextChoices):
    INBOUND = "inbound", _("禁止呼入")
    OUTBOUND = "outbound", _("禁止呼出")
    BOTH = "both", _("双向禁止")


class BlacklistTreatment(models.TextChoices):
    VOICEMAIL = "voicemail", _("转语音留言")
    ANNOUNCEMENT = "announcement", _("播放固定提示音")
    AGENT_GROUP = "agent_group", _("转指定坐席组")


class BlacklistEntry(models.Model):
    """CIT-4. One row per number; `blacklist_lookup` finds it with one query on the unique index."""

    number = models.CharField(_("号码"), max_length=20, unique=True)
    direction = models.CharField(
        _("方向"), max_length=8, choices=BlacklistDirection.choices, default=BlacklistDirection.INBOUND
    )
    reason = models.CharField(_("原因"), max_length=200)
    expires_at = models.DateTimeField(_("到期时间"), null=True, blank=True)
    treatment = models.CharField(
        _("处理方式"), max_length=16, choices=BlacklistTreatment.choices, default=BlacklistTreatment.VOICEMAIL
    )
    treatment_target = models.CharField(
        _("提示音或坐席组"), max_length=64, blank=True, help_text=_("固定提示音的编码，或坐席组编码")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("登记人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    created_at = models.DateTimeField(_("登记时间"))
    updated_at = models.DateTimeField(_("更新时间"))

    class Meta:
        verbose_name = _("黑名单")
        verbose_name_plural = _("黑名单")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.number


class ScreenPopLayout(models.Model):
    """CIT-5: which screen-pop layout the agent desktop shows for callers from an area, chosen by the longest
    matching number prefix (an area code such as 0755, or a mobile segment); the default row has no prefix."""

    prefix = models.CharField(_("号码前缀（区号）"), max_length=8, blank=True, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    layout = models.JSONField(
        _("布局"),
        default=dict,
        blank=True,
        help_text=_('例如 {"sections": ["profile", "blacklist", "open_cases", "history"]}'),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("弹屏布局")
        verbose_name_plural = _("弹屏布局")
        ordering = ["prefix"]

    def __str__(self) -> str:
        return f"{self.prefix or '默认'} · {self.name}"


class ImportKind(models.TextChoices):
    CITIZENS = "citizens", _("市民")
    CONTACTS = "contacts", _("相关联系人")
    BLACKLIST = "blacklist", _("黑名单")


class ImportStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")


class ImportJob(models.Model):
    """One bulk import, run by a background job: its progress, what was saved, and the per-row error report."""

    kind = models.CharField(_("类型"), max_length=16, choices=ImportKind.choices)
    status = models.CharField(
        _("状态"), max_length=8, choices=ImportStatus.choices, default=ImportStatus.DONE
    )
    dry_run = models.BooleanField(_("只校验"), default=False)
    # The uploaded file waits here (private storage, no URL) until the job has read it, then is deleted.
    file = models.FileField(_("文件"), upload_to="imports/%Y/%m/", storage=private_storage, blank=True)
    read_rows = models.PositiveIntegerField(_("已读行数"), default=0)
    expected_rows = models.PositiveIntegerField(_("预计行数"), default=0)
    message = models.CharField(_("说明"), max_length=300, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    file_name = models.CharField(_("文件名"), max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    created_count = models.PositiveIntegerField(_("新增"), default=0)
    updated_count = models.PositiveIntegerField(_("更新"), default=0)
    rejected_count = models.PositiveIntegerField(_("拒绝"), default=0)
    errors = models.JSONField(_("错误报告"), default=list, blank=True)
    created_at = models.DateTimeField(_("导入时间"))
    # The submitter's language: the background job writes its refusals and row errors in it.
    language = models.CharField(_("语言"), max_length=16, blank=True)

    class Meta:
        verbose_name = _("导入记录")
        verbose_name_plural = _("导入记录")
        ordering = ["-created_at", "-id"]
