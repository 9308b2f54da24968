from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.common.models import DictItem, DictKind
from hotline.common.storage import private_storage
from hotline.orgs.models import Unit


class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    VOICEMAIL = "voicemail", _("语音留言")
    WEB = "web", _("网站")
    WECHAT = "wechat", _("微信")
    APP = "app", _("APP")
    SMS = "sms", _("短信")
    EMAIL = "email", _("电子邮件")
    MAYOR_MAILBOX = "mayor_mailbox", _("市长信箱")
    POLICE_110 = "police_110", _("110转办")
    OTHER_HOTLINE = "other_hotline", _("其他热线")


class CaseStatus(models.TextChoices):
    DRAFT = "draft", _("暂存")
    PENDING_NOT_ACCEPTED = "pending_not_accepted", _("不予受理待确认")
    NOT_ACCEPTED = "not_accepted", _("不予受理")
    SUBMITTED = "submitted", _("待派单")
    RETURNED = "returned", _("退回坐席")
    LEADER_REVIEW = "leader_review", _("待领导批示")
    DISPATCHED = "dispatched", _("待签收")
    HANDLING = "handling", _("办理中")
    RETURN_REVIEW = "return_review", _("退件待审核")
    RESULT_REVIEW = "result_review", _("结果待审核")
    CALLBACK = "callback", _("待回访")
    REDO = "redo", _("重办")
    SPECIAL_SUPERVISION = "special_supervision", _("特别督办")
    CLOSED = "closed", _("已办结")
    MERGED = "merged", _("已并单")


class CloseKind(models.TextChoices):
    ANSWERED = "answered", _("解决归档")
    DIRECT = "direct", _("直接办结")
    SATISFIED = "satisfied", _("回访满意办结")
    OFFICE = "office", _("热线办决定办结")


class Rating(models.TextChoices):
    VERY_SATISFIED = "very_satisfied", _("非常满意")
    SATISFIED = "satisfied", _("满意")
    BASICALLY_SATISFIED = "basically_satisfied", _("基本满意")
    DISSATISFIED = "dissatisfied", _("不满意")
    VERY_DISSATISFIED = "very_dissatisfied", _("非常不满意")


SATISFIED_RATINGS = frozenset({Rating.VERY_SATISFIED, Rating.SATISFIED, Rating.BASICALLY_SATISFIED})


def _dict_choice(kind: str) -> dict[str, str]:
    return {"kind": kind}


class Case(models.Model):
    number = models.CharField(_("工单编号"), max_length=20, unique=True)
    channel = models.CharField(_("来源渠道"), max_length=16, choices=Channel.choices, default=Channel.PHONE)
    origin = models.JSONField(_("渠道来源信息"), default=dict, blank=True)
    status = models.CharField(_("状态"), max_length=24, choices=CaseStatus.choices, default=CaseStatus.DRAFT)
    version = models.PositiveIntegerField(_("版本"), default=1)

    citizen = models.ForeignKey(
        "citizens.Citizen",
        verbose_name=_("市民"),
        null=True,
        blank=True,
        related_name="cases",
        on_delete=models.PROTECT,
    )
    citizen_name = models.CharField(_("来电人姓名"), max_length=50, blank=True)
    citizen_gender = models.CharField(_("性别"), max_length=8, blank=True)
    # searched through case_phone_created_idx (phone, created_at)
    citizen_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    citizen_email = models.EmailField(_("电子邮箱"), blank=True)
    citizen_address = models.CharField(_("联系地址"), max_length=200, blank=True)
    citizen_work_unit = models.CharField(_("工作单位"), max_length=100, blank=True)
    citizen_post_code = models.CharField(_("邮编"), max_length=6, blank=True)
    citizen_notes = models.CharField(_("来电人备注"), max_length=200, blank=True)

    case_type = models.ForeignKey(
        DictItem,
        verbose_name=_("诉求类型"),
        related_name="+",
        on_delete=models.PROTECT,
        limit_choices_to=_dict_choice(DictKind.CASE_TYPE),
    )
    nature = models.ForeignKey(
        DictItem,
        verbose_name=_("性质分类"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
        limit_choices_to=_dict_choice(DictKind.NATURE),
    )
    urgency = models.ForeignKey(
        DictItem,
        verbose_name=_("紧急程度"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
        limit_choices_to=_dict_choice(DictKind.URGENCY),
    )
    secrecy = models.ForeignKey(
        DictItem,
        verbose_name=_("保密等级"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
        limit_choices_to=_dict_choice(DictKind.SECRECY),
    )
    bureau = models.ForeignKey(
        Unit, verbose_name=_("职能局"), null=True, blank=True, related_name="+", on_delete=models.PROTECT
    )
    location = models.CharField(_("事发地点"), max_length=200, blank=True)
    location_unit = models.ForeignKey(
        Unit,
        verbose_name=_("事发地所属单位"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    # No index of its own: case_district_created_idx (district, created_at) serves every look-up by district.
    district = models.ForeignKey(
        Unit,
        verbose_name=_("所属区县"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
        db_index=False,
    )
    title = models.CharField(_("标题"), max_length=100, blank=True)
    content = models.TextField(_("诉求内容"))
    keywords = models.CharField(_("关键词"), max_length=200, blank=True)
    is_typical_recording = models.BooleanField(_("典型录音"), default=False)
    extra = models.JSONField(_("扩展字段"), default=dict, blank=True)
    answer = models.TextField(_("坐席答复"), blank=True)

    intake_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("受理人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    # No index of its own: case_mainunit_created_idx (main_unit, created_at) serves every look-up by main unit.
    main_unit = models.ForeignKey(
        Unit,
        verbose_name=_("主办单位"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
        db_index=False,
    )
    dispatch_round = models.PositiveSmallIntegerField(_("派单轮次"), default=0)
    due_at = models.DateTimeField(_("办理时限"), null=True, blank=True, db_index=True)

    created_at = models.DateTimeField(_("受理时间"), db_index=True)
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    not_accepted_reason = models.ForeignKey(
        DictItem,
        verbose_name=_("不予受理原因"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
        limit_choices_to=_dict_choice(DictKind.NOT_ACCEPTED_REASON),
    )
    not_accepted_text = models.TextField(_("不予受理说明"), blank=True)
    leader_instruction = models.TextField(_("领导批示"), blank=True)
    close_kind = models.CharField(_("办结方式"), max_length=16, choices=CloseKind.choices, blank=True)
    close_reason = models.TextField(_("办结说明"), blank=True)
    dissatisfied_count = models.PositiveSmallIntegerField(_("不满意次数"), default=0)
    last_rating = models.CharField(_("最近评价"), max_length=24, choices=Rating.choices, blank=True)

    is_public = models.BooleanField(_("公开"), default=False)
    push_hot = models.BooleanField(_("推送热点问题"), default=False)
    is_typical = models.BooleanField(_("典型案例"), default=False)
    query_password = models.CharField(_("查询密码"), max_length=128, blank=True)

    # "Overdue" (QRY-3, set by the deadline sweep) is not a column here: see `OverdueMark`.
    is_perfunctory = models.BooleanField(_("敷衍办理"), default=False)
    is_wrong = models.BooleanField(_("错误办理"), default=False)
    violation_note = models.CharField(_("违规说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("工单")
        verbose_name_plural = _("工单")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "created_at"], name="case_status_created_idx"),
            models.Index(fields=["citizen_phone", "created_at"], name="case_phone_created_idx"),
            models.Index(fields=["district", "created_at"], name="case_district_created_idx"),
            models.Index(fields=["main_unit", "created_at"], name="case_mainunit_created_idx"),
            # the overview's "closed in the last 30 days" and satisfaction figures
            models.Index(
                fields=["closed_at"], name="case_closed_at_idx", condition=models.Q(closed_at__isnull=False)
            ),
            # public hot questions (the portal, Open311 reads): a few hundred rows among millions
            models.Index(
                fields=["-created_at", "-id"],
                name="case_public_hot_idx",
                condition=models.Q(is_public=True, push_hot=True),
            ),
        ]

    def __str__(self) -> str:
        return self.number


class AssignmentRole(models.TextChoices):
    MAIN = "main", _("主办")
    ASSISTING = "assisting", _("协办")
    CC = "cc", _("抄送")


class AssignmentStatus(models.TextChoices):
    PENDING = "pending", _("待签收")
    HANDLING = "handling", _("办理中")
    FORWARDED = "forwarded", _("已下派")
    OPINION_GIVEN = "opinion_given", _("已反馈意见")
    REPORTED = "reported", _("已上报")
    SENT_BACK = "sent_back", _("已退回上级")
    RETURN_PENDING = "return_pending", _("退件待审核")
    RETURNED = "returned", _("已退件")
    CANCELLED = "cancelled", _("已撤销")
    INFORMED = "informed", _("已抄送")


OPEN_ASSIGNMENT_STATUSES = frozenset(
    {
        AssignmentStatus.PENDING,
        AssignmentStatus.HANDLING,
        AssignmentStatus.FORWARDED,
        AssignmentStatus.RETURN_PENDING,
    }
)


class Assignment(models.Model):
    """One unit's part in one step of a case. Every report and KPI is plain SQL over these rows."""

    case = models.ForeignKey(
        Case, verbose_name=_("工单"), related_name="assignments", on_delete=models.CASCADE
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("单位"), related_name="assignments", on_delete=models.PROTECT
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级环节"),
        null=True,
        blank=True,
        related_name="children",
        on_delete=models.CASCADE,
    )
    role = models.CharField(_("角色"), max_length=16, choices=AssignmentRole.choices)
    status = models.CharField(_("状态"), max_length=16, choices=AssignmentStatus.choices)
    round = models.PositiveSmallIntegerField(_("派单轮次"), default=1)
    level = models.PositiveSmallIntegerField(_("下派层级"), default=1)
    opinion = models.TextField(_("交办意见"), blank=True)
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("交办人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    assigned_at = models.DateTimeField(_("交办时间"))
    signed_at = models.DateTimeField(_("签收时间"), null=True, blank=True)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("签收人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    due_at = models.DateTimeField(_("办理时限"), null=True, blank=True)
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    promised_at = models.DateTimeField(_("承诺办结时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    result = models.TextField(_("办理结果"), blank=True)

    class Meta:
        verbose_name = _("交办环节")
        verbose_name_plural = _("交办环节")
        ordering = ["round", "level", "id"]
        indexes = [
            models.Index(fields=["unit", "status", "due_at"], name="assignment_worklist_idx"),
            models.Index(fields=["case", "round"], name="assignment_case_round_idx"),
            models.Index(fields=["unit", "status", "finished_at"], name="assignment_unit_finished_idx"),
            # a unit's open work in deadline order: the worklist reads its first page straight off this index
            models.Index(
                fields=["unit", "due_at", "id"],
                name="assignment_open_due_idx",
                condition=models.Q(status__in=["pending", "handling", "forwarded", "return_pending"]),
            ),
            # Time-limit supervision: the assignments received in a period per unit, with their signing and
            # reply times, from the index alone (not a scan of every assignment ever made).
            models.Index(
                fields=["assigned_at"],
                include=["unit", "role", "status", "signed_at", "finished_at"],
                name="assignment_assigned_idx",
            ),
            # The card ledger's late reports: reports of a period that came after the deadline.
            models.Index(
                fields=["finished_at"],
                include=["unit", "due_at"],
                name="assignment_reported_idx",
                condition=models.Q(status="reported"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}·{self.unit_id}·{self.role}"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_ASSIGNMENT_STATUSES


class HandlingRecord(models.Model):
    assignment = models.ForeignKey(
        Assignment, verbose_name=_("交办环节"), related_name="records", on_delete=models.CASCADE
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("办理人"), on_delete=models.PROTECT)
    cause = models.TextField(_("问题原因"), blank=True)
    solution = models.TextField(_("解决措施"), blank=True)
    result = models.TextField(_("办理情况"))
    promised_at = models.DateTimeField(_("承诺办结时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("记录时间"))

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = _("办理记录")
        ordering = ["created_at", "id"]


class RequestStatus(models.TextChoices):
    PENDING = "pending", _("待审核")
    APPROVED = "approved", _("已同意")
    REJECTED = "rejected", _("已驳回")


class OfficeRuling(models.Model):
    """A unit's request that the office rules on (approve or reject, with a note): who asked when, the ruling.

    The concrete requests add what is asked (a return with its reason, an extension with its new deadline)."""

    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("申请人"), related_name="+", on_delete=models.PROTECT
    )
    requested_at = models.DateTimeField(_("申请时间"))
    status = models.CharField(
        _("审核状态"), max_length=16, choices=RequestStatus.choices, default=RequestStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("审核人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    decision_note = models.TextField(_("审核意见"), blank=True)

    class Meta:
        abstract = True

    @property
    def is_pending(self) -> bool:
        return self.status == RequestStatus.PENDING


class ReturnRequest(OfficeRuling):
    """A unit's return (退件) of a case to the office, with the office's ruling."""

    assignment = models.ForeignKey(
        Assignment, verbose_name=_("交办环节"), related_name="return_requests", on_delete=models.CASCADE
    )
    reason = models.ForeignKey(
        DictItem,
        verbose_name=_("退件原因"),
        related_name="+",
        on_delete=models.PROTECT,
        limit_choices_to=_dict_choice(DictKind.RETURN_REASON),
    )
    text = models.TextField(_("退件说明"))
    suggested_unit = models.ForeignKey(
        Unit, verbose_name=_("建议承办单位"), related_name="+", on_delete=models.PROTECT
    )

    class Meta:
        verbose_name = _("退件申请")
        verbose_name_plural = _("退件申请")


class ExtensionRequest(OfficeRuling):
    """A unit's request for a later deadline (申请延期), with the office's ruling."""

    assignment = models.ForeignKey(
        Assignment, verbose_name=_("交办环节"), related_name="extension_requests", on_delete=models.CASCADE
    )
    requested_due_at = models.DateTimeField(_("申请延至"))
    previous_due_at = models.DateTimeField(_("原时限"), null=True, blank=True)
    reason = models.TextField(_("延期理由"))

    class Meta:
        verbose_name = _("延期申请")
        verbose_name_plural = _("延期申请")


class CallbackMethod(models.TextChoices):
    PHONE = "phone", _("电话回访")
    SMS = "sms", _("短信回访")
    WEB = "web", _("网上回访")


class CallbackResponse(models.TextChoices):
    """回访时市民所说：承办单位是否与其联系（响应率）。"""

    YES = "yes", _("已联系")
    NO = "no", _("未联系")


class CallbackSolution(models.TextChoices):
    """回访时市民所说：诉求是否解决（解决率；部分解决不计为已解决）。"""

    SOLVED = "solved", _("已解决")
    PARTLY = "partly", _("部分解决")
    UNSOLVED = "unsolved", _("未解决")


class Callback(models.Model):
    case = models.ForeignKey(Case, verbose_name=_("工单"), related_name="callbacks", on_delete=models.CASCADE)
    # None: the citizen rated on their own (SMS reply, portal, app).
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("回访人"), null=True, blank=True, on_delete=models.PROTECT
    )
    method = models.CharField(_("回访方式"), max_length=8, choices=CallbackMethod.choices)
    rating = models.CharField(_("满意度"), max_length=24, choices=Rating.choices)
    citizen_words = models.TextField(_("市民意见"), blank=True)
    # The "three rates" the callback measures beside satisfaction: did the unit contact the citizen (response),
    # was the problem solved (solution). "" = not asked: a citizen's own rating (an SMS digit, the portal) and
    # callbacks recorded before these fields existed; such callbacks are outside those rates' denominators.
    responded = models.CharField(
        _("承办单位是否联系"),
        max_length=8,
        choices=CallbackResponse.choices,
        blank=True,
        default="",
        db_default="",
    )
    solution = models.CharField(
        _("问题是否解决"),
        max_length=8,
        choices=CallbackSolution.choices,
        blank=True,
        default="",
        db_default="",
    )
    created_at = models.DateTimeField(_("回访时间"))

    class Meta:
        verbose_name = _("回访记录")
        verbose_name_plural = _("回访记录")
        ordering = ["created_at", "id"]
        # the callbacks of a period (satisfaction; a day's unit facts, analytics/facts/units.py)
        indexes = [models.Index(fields=["created_at"], name="callback_created_idx")]


class CaseEvent(models.Model):
    """The timeline: one row per action, written in the action's own transaction."""

    # No single-column index on the case: caseevent_case_at_idx (case, at) serves it, and the deadline sweep
    # writes up to millions of events at once (each index is one more write per event).
    case = models.ForeignKey(
        Case, verbose_name=_("工单"), related_name="events", on_delete=models.CASCADE, db_index=False
    )
    at = models.DateTimeField(_("时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    # Unit and assignment: no index (nothing reads events by them; units and assignments are never deleted, a
    # deletion through the admin would scan) and no database foreign-key check (the writers take them from rows
    # they hold: the deadline sweep writes up to millions of events at once, and each check, run at commit one row
    # at a time with a share lock on the unit or assignment, was a large share of its database time). Deletion
    # still protects and cascades through Django.
    unit = models.ForeignKey(
        Unit,
        verbose_name=_("操作单位"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
    )
    assignment = models.ForeignKey(
        Assignment,
        verbose_name=_("交办环节"),
        null=True,
        blank=True,
        related_name="events",
        on_delete=models.CASCADE,
        db_index=False,
        db_constraint=False,
    )
    action = models.CharField(_("操作"), max_length=32)
    from_status = models.CharField(_("原状态"), max_length=24, blank=True)
    to_status = models.CharField(_("新状态"), max_length=24, blank=True)
    opinion = models.TextField(_("意见"), blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)
    # Waits for the case-events job (cases/events.py: the receivers that run off the request).
    queued = models.BooleanField(_("待后台处理"), default=False, db_default=False)

    class Meta:
        verbose_name = _("工单流转记录")
        verbose_name_plural = _("工单流转记录")
        ordering = ["at", "id"]
        indexes = [
            models.Index(fields=["case", "at"], name="caseevent_case_at_idx"),
            models.Index(fields=["id"], condition=models.Q(queued=True), name="caseevent_queued_idx"),
            # the callbacks and redo opinions of a period (redo rate; a day's unit facts, analytics/facts/units.py)
            models.Index(
                fields=["at"],
                condition=models.Q(action__in=["callback", "supervision_opinion"]),
                name="caseevent_callback_at_idx",
            ),
        ]


class CaseAttachment(models.Model):
    case = models.ForeignKey(
        Case, verbose_name=_("工单"), related_name="attachments", on_delete=models.CASCADE
    )
    file = models.FileField(_("文件"), upload_to="cases/%Y/%m/", storage=private_storage)
    name = models.CharField(_("文件名"), max_length=200)
    size = models.PositiveIntegerField(_("大小"))
    content_type = models.CharField(_("类型"), max_length=100, blank=True)
    # None: the citizen uploaded it on a channel (portal, app, e-mail).
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("上传人"), null=True, blank=True, on_delete=models.PROTECT
    )
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = _("附件")


class ExtendedFieldType(models.TextChoices):
    TEXT = "text", _("文本")
    NUMBER = "number", _("数字")
    DATE = "date", _("日期")
    CHOICE = "choice", _("选项")


class ExtendedField(models.Model):
    """An extra intake field for cases of one bureau and/or case type, defined by admins."""

    bureau = models.ForeignKey(
        Unit, verbose_name=_("职能局"), null=True, blank=True, related_name="+", on_delete=models.CASCADE
    )
    case_type = models.ForeignKey(
        DictItem,
        verbose_name=_("诉求类型"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.CASCADE,
        limit_choices_to=_dict_choice(DictKind.CASE_TYPE),
    )
    key = models.SlugField(_("字段键"), max_length=40)
    label = models.CharField(_("显示名称"), max_length=50)
    field_type = models.CharField(_("字段类型"), max_length=8, choices=ExtendedFieldType.choices)
    required = models.BooleanField(_("必填"), default=False)
    choices = models.JSONField(_("可选项"), default=list, blank=True)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("扩展字段")
        verbose_name_plural = _("扩展字段")
        ordering = ["sort_order", "id"]

    def __str__(self) -> str:
        return self.label


class CaseNumberCounter(models.Model):
    """Per-day sequence for public case numbers (YYYYMMDD + 6 digits)."""

    day = models.DateField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("工单编号计数")
        verbose_name_plural = _("工单编号计数")


class CoRequester(models.Model):
    """并单: a citizen whose own request was merged into this case. They are called back on its result too.

    One row per merged request; an undone merge keeps its row (with `undone_at`) for the record."""

    case = models.ForeignKey(
        Case, verbose_name=_("主工单"), related_name="co_requesters", on_delete=models.CASCADE
    )
    merged_case = models.ForeignKey(
        Case, verbose_name=_("被并工单"), related_name="merged_into", on_delete=models.CASCADE
    )
    citizen = models.ForeignKey(
        "citizens.Citizen",
        verbose_name=_("市民"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    name = models.CharField(_("姓名"), max_length=50, blank=True)
    phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    previous_status = models.CharField(_("并单前状态"), max_length=24)
    merged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("并单人"), related_name="+", on_delete=models.PROTECT
    )
    merged_at = models.DateTimeField(_("并单时间"))
    opinion = models.CharField(_("并单说明"), max_length=200, blank=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("撤销人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)
    called_back_at = models.DateTimeField(_("回访时间"), null=True, blank=True)
    callback_rating = models.CharField(_("满意度"), max_length=24, choices=Rating.choices, blank=True)
    callback_words = models.TextField(_("市民意见"), blank=True)

    class Meta:
        verbose_name = _("并单来电人")
        verbose_name_plural = _("并单来电人")
        ordering = ["merged_at", "id"]
        indexes = [models.Index(fields=["merged_case", "undone_at"], name="corequester_merged_idx")]

    def __str__(self) -> str:
        return f"{self.case_id}←{self.merged_case_id}"


class RequestKey(models.Model):
    """The duplicate-screening index (INT-5): a few hashed keys per request — its caller's number, its caller's
    name and its salient words — so that candidates of the last days are found with one index range scan
    instead of reading every recent case. Written and read by `hotline.cases.duplicates` only (the
    table moved here from `citizens` with its rows: cases owns duplicate screening)."""

    key = models.BigIntegerField(_("特征值"))
    weight = models.FloatField(_("权重"), default=0.0)
    case = models.ForeignKey(
        Case, verbose_name=_("工单"), related_name="+", on_delete=models.CASCADE, db_index=False
    )
    at = models.DateTimeField(_("受理时间"))

    class Meta:
        verbose_name = _("诉求特征索引")
        verbose_name_plural = _("诉求特征索引")
        indexes = [
            # weight included: scoring reads only the index (an index-only scan once vacuumed)
            models.Index(fields=["key", "at", "case"], include=["weight"], name="requestkey_key_at_w_idx"),
            models.Index(fields=["case"], name="requestkey_case_idx"),
        ]


class RequestEmbedding(models.Model):
    """The meaning of a request for duplicate screening (INT-5): its multilingual-e5-small embedding (float16,
    768 bytes) of the title and the beginning of the content, and the digest of that text. Written after commit by
    a worker job (`duplicates.embed_pending`): the intake marks the row pending (`vector` NULL) and never waits for
    the model. Read by `hotline.cases.duplicates` only: the screening window's rows into each process's vector
    index (then the rows stored since, at each check), and by hot clusters."""

    case = models.OneToOneField(
        Case, verbose_name=_("工单"), related_name="+", on_delete=models.CASCADE, primary_key=True
    )
    text_key = models.BinaryField(_("文本摘要"), max_length=8)
    vector = models.BinaryField(_("语义向量"), null=True)
    at = models.DateTimeField(_("受理时间"))

    class Meta:
        verbose_name = _("诉求语义向量")
        verbose_name_plural = _("诉求语义向量")
        indexes = [
            # the worker's queue: pending rows only, newest first
            models.Index(
                fields=["-at"], name="requestemb_pending_idx", condition=models.Q(vector__isnull=True)
            ),
        ]


class OverdueMark(models.Model):
    """QRY-3's automatic supervision mark "超期": a yellow card was raised on one of the case's deadlines. One
    narrow row per case so marked, never removed (the mark is a record of the past, like the card).

    Kept out of the wide `cases_case` row (~1 KB, ~22 indexes) on purpose: the deadline sweep marks tens of
    thousands of cases at once after a holiday, and an update of the case row was often not HOT (every index
    took a new entry); an insert here writes one small row and its primary key. Written only by
    `services.clock_events.mark_overdue(_from)`; read through `selectors.overdue_q` / `supervision_of`."""

    case = models.OneToOneField(
        Case, verbose_name=_("工单"), related_name="overdue_mark", on_delete=models.CASCADE, primary_key=True
    )
    at = models.DateTimeField(_("标记时间"))

    class Meta:
        verbose_name = _("超期标记")
        verbose_name_plural = _("超期标记")

    def __str__(self) -> str:
        return f"{self.case_id}@{self.at:%Y-%m-%d %H:%M}"


class QueryPasswordReset(models.Model):
    """INT-6: a one-time code sent to the phone or e-mail given at intake, with which the citizen sets a new query
    password themselves. Only the code's hash is kept; staff never see the code or the new password."""

    case = models.ForeignKey(Case, verbose_name=_("工单"), related_name="+", on_delete=models.CASCADE)
    channel = models.CharField(_("发送渠道"), max_length=8)
    code_hash = models.CharField(_("验证码摘要"), max_length=128)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("代发人员"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    created_at = models.DateTimeField(_("发送时间"))
    expires_at = models.DateTimeField(_("失效时间"))
    attempts = models.PositiveSmallIntegerField(_("错误次数"), default=0)
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("查询密码重置验证码")
        verbose_name_plural = _("查询密码重置验证码")
        indexes = [models.Index(fields=["case", "created_at"], name="pwreset_case_created_idx")]

    def __str__(self) -> str:
        return f"{self.case_id}@{self.created_at:%Y-%m-%d %H:%M}"
