"""Telephony records: agents, queues (skill groups), numbers and their flow, calls with one CDR row per leg,
the queue log, the agent-state log and the recordings index. Reports are plain SQL over these tables."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from . import acd
from .states import AgentEvent, AgentState


class Strategy(models.TextChoices):
    LONGEST_IDLE = acd.LONGEST_IDLE, _("最长空闲优先")
    FEWEST_CALLS = acd.FEWEST_CALLS, _("当日接听最少优先")


class NotReadyReason(models.TextChoices):
    BREAK = "break", _("小休")
    MEAL = "meal", _("用餐")
    TRAINING = "training", _("培训")
    MEETING = "meeting", _("会议")
    NO_ANSWER = "no_answer", _("振铃未接")
    LOGIN = "login", _("刚签入")
    SUPERVISOR = "supervisor", _("班长置忙")
    OTHER = "other", _("其他")


class Queue(models.Model):
    """A skill group and the queue of calls waiting for it (ACD-1, ACD-2)."""

    code = models.SlugField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    strategy = models.CharField(
        _("分配策略"), max_length=16, choices=Strategy.choices, default=Strategy.LONGEST_IDLE
    )
    max_wait_seconds = models.PositiveIntegerField(_("最长等待（秒）"), default=0, help_text=_("0 表示不限"))
    overflow_queue = models.ForeignKey(
        "self",
        verbose_name=_("溢出到队列"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    announce_seconds = models.PositiveIntegerField(
        _("排队播报间隔（秒）"), default=0, help_text=_("播报排队位置和预计等待时间；0 表示不播报")
    )
    callback_key = models.CharField(
        _("排队回电按键"),
        max_length=1,
        blank=True,
        validators=[RegexValidator(r"^[0-9*#]?$", _("按键应为 0–9、* 或 #"))],
        help_text=_("等待中按此键挂机，轮到时回电（保留排队位置）；留空表示不提供"),
    )

    class Meta:
        verbose_name = _("队列/技能组")
        verbose_name_plural = _("队列/技能组")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    def rule(self) -> acd.QueueRule:
        return acd.QueueRule(self.pk, self.strategy, self.max_wait_seconds, self.overflow_queue_id)


class Agent(models.Model):
    """A seat: agent ID + password to log in (ACD-3), the SIP extension its phone registers as, its skills."""

    agent_id = models.CharField(_("工号"), max_length=16, unique=True)
    password = models.CharField(_("签入密码"), max_length=128)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("员工账号"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="telephony_agent",
    )
    extension = models.CharField(_("分机号"), max_length=32, unique=True)
    skills = models.ManyToManyField(Queue, verbose_name=_("技能组"), related_name="agents", blank=True)
    state = models.CharField(
        _("状态"), max_length=16, choices=AgentState.choices, default=AgentState.LOGGED_OUT
    )
    state_reason = models.CharField(_("示忙原因"), max_length=16, choices=NotReadyReason.choices, blank=True)
    state_since = models.DateTimeField(_("进入状态时间"), null=True, blank=True)
    ready_since = models.DateTimeField(_("开始空闲时间"), null=True, blank=True)
    current_call = models.ForeignKey(
        "Call", verbose_name=_("当前通话"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # ACD-3 auto answer: offers to this seat carry the intercom headers (Call-Info answer-after=0, Alert-Info
    # auto answer) that SIP phones honour by answering at once.
    auto_answer = models.BooleanField(_("自动应答"), default=False, db_default=False)

    class Meta:
        verbose_name = _("坐席")
        verbose_name_plural = _("坐席")
        ordering = ["agent_id"]
        indexes = [models.Index(fields=["state", "ready_since"], name="tel_agent_ready_idx")]

    def __str__(self) -> str:
        return self.agent_id


class Flow(models.TextChoices):
    # IVR-6: the hotline number reaches a person with no menu.
    DIRECT_QUEUE = "direct_queue", _("直接转人工（无菜单）")
    IVR = "ivr", _("语音导航菜单")


class IvrFlow(models.Model):
    """An IVR menu as data (IVR-1): its versions hold the graph; numbers run the published one."""

    code = models.SlugField(_("编码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    description = models.CharField(_("说明"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"))

    class Meta:
        verbose_name = _("语音导航流程")
        verbose_name_plural = _("语音导航流程")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class IvrVersionStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")
    RETIRED = "retired", _("已停用")


class IvrVersion(models.Model):
    """One version of a flow's graph (see `ivr.py`). Draft → published (immutable from then on) → retired when a
    newer version is published; calls keep the version they started with."""

    flow = models.ForeignKey(
        IvrFlow, verbose_name=_("流程"), on_delete=models.CASCADE, related_name="versions"
    )
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("状态"), max_length=12, choices=IvrVersionStatus.choices, default=IvrVersionStatus.DRAFT
    )
    graph = models.JSONField(_("流程图"), default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("编辑人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("创建时间"))
    updated_at = models.DateTimeField(_("修改时间"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("语音导航版本")
        verbose_name_plural = _("语音导航版本")
        ordering = ["flow", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["flow", "number"], name="tel_ivr_version_unique"),
            models.UniqueConstraint(
                fields=["flow"], condition=models.Q(status="published"), name="tel_ivr_one_published"
            ),
            models.UniqueConstraint(
                fields=["flow"], condition=models.Q(status="draft"), name="tel_ivr_one_draft"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.flow.code} v{self.number}"


class IvrPrompt(models.Model):
    """A recorded prompt uploaded by the hotline admin (8 kHz 16-bit mono WAV under HOTLINE_VAR_DIR)."""

    name = models.SlugField(_("名称"), max_length=32, unique=True)
    label = models.CharField(_("说明"), max_length=100, blank=True)
    path = models.CharField(_("文件"), max_length=255)
    duration_ms = models.PositiveIntegerField(_("时长（毫秒）"), default=0)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("上传人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("上传时间"))

    class Meta:
        verbose_name = _("录音提示")
        verbose_name_plural = _("录音提示")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Number(models.Model):
    """A number citizens dial and the flow it runs."""

    number = models.CharField(_("号码"), max_length=32, unique=True)
    name = models.CharField(_("名称"), max_length=50)
    flow = models.CharField(_("流程"), max_length=16, choices=Flow.choices, default=Flow.DIRECT_QUEUE)
    queue = models.ForeignKey(
        Queue, verbose_name=_("目标队列"), on_delete=models.PROTECT, related_name="numbers"
    )
    ivr_flow = models.ForeignKey(
        IvrFlow,
        verbose_name=_("语音导航流程"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="numbers",
        help_text=_("流程为“语音导航菜单”时运行其已发布版本；无已发布版本时直接转人工"),
    )
    welcome_prompt = models.CharField(
        _("欢迎语音"), max_length=100, blank=True, help_text=_("提示音目录下的 WAV 文件名；空则不播放")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("接入号码")
        verbose_name_plural = _("接入号码")

    def __str__(self) -> str:
        return self.number


class CallStatus(models.TextChoices):
    IVR = "ivr", _("自助/提示")
    QUEUED = "queued", _("排队")
    RINGING = "ringing", _("振铃坐席")
    TALKING = "talking", _("通话")
    ENDED = "ended", _("结束")


class Disposition(models.TextChoices):
    ANSWERED = "answered", _("人工接听")
    ABANDONED = "abandoned", _("排队放弃")
    BLACKLISTED = "blacklisted", _("黑名单处理")
    VOICEMAIL = "voicemail", _("转语音留言")
    NO_NUMBER = "no_number", _("空号")
    IVR_END = "ivr_end", _("自助流程结束")
    KEPT_PLACE = "kept_place", _("排队回电")
    FAILED = "failed", _("失败")
    NOT_REACHED = "not_reached", _("外呼未接通")


class Call(models.Model):
    """One citizen call from arrival to the last hang-up. `time_to_person_ms` is IVR-6's figure."""

    call_id = models.CharField(_("呼叫编号"), max_length=40, unique=True)
    # "out": click-to-call (the agent's phone first, then the citizen); `caller` is then the citizen called.
    direction = models.CharField(
        _("方向"), max_length=8, choices=[("in", _("呼入")), ("out", _("呼出"))], default="in"
    )
    caller = models.CharField(_("主叫号码"), max_length=32, db_index=True)
    dialed = models.CharField(_("被叫号码"), max_length=32)
    number = models.ForeignKey(Number, verbose_name=_("接入号码"), null=True, on_delete=models.SET_NULL)
    queue = models.ForeignKey(Queue, verbose_name=_("队列"), null=True, blank=True, on_delete=models.SET_NULL)
    priority = models.SmallIntegerField(_("优先级"), default=0)
    status = models.CharField(_("状态"), max_length=16, choices=CallStatus.choices, default=CallStatus.IVR)
    disposition = models.CharField(_("结果"), max_length=16, choices=Disposition.choices, blank=True)
    agent = models.ForeignKey(
        Agent,
        verbose_name=_("接听坐席"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="calls",
    )
    blacklist_treatment = models.CharField(_("黑名单处理方式"), max_length=16, blank=True)
    started_at = models.DateTimeField(_("呼入时间"), db_index=True)
    enqueued_at = models.DateTimeField(_("进入队列时间"), null=True, blank=True)
    answered_at = models.DateTimeField(_("人工应答时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    time_to_person_ms = models.PositiveIntegerField(_("接通人工用时（毫秒）"), null=True, blank=True)
    ivr_version = models.ForeignKey(
        IvrVersion,
        verbose_name=_("语音导航版本"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )

    class Meta:
        verbose_name = _("呼叫")
        verbose_name_plural = _("呼叫")
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return self.call_id


class LegRole(models.TextChoices):
    CITIZEN = "citizen", _("市民")
    AGENT = "agent", _("坐席")
    EXTERNAL = "external", _("外部号码")
    SUPERVISOR = "supervisor", _("班长")


class LegPurpose(models.TextChoices):
    OFFER = "", _("分配")
    TRANSFER = "transfer", _("转接")
    CONSULT = "consult", _("咨询")
    CONFERENCE = "conference", _("三方")
    MONITOR = "monitor", _("监听")
    INTERCEPT = "intercept", _("班长拦截")
    OUTBOUND = "outbound", _("外呼")


class CallLeg(models.Model):
    """Call detail record, one row per leg (the citizen's inbound leg, each outbound leg to an agent's phone)."""

    call = models.ForeignKey(Call, verbose_name=_("呼叫"), on_delete=models.CASCADE, related_name="legs")
    leg_id = models.CharField(_("话路编号"), max_length=40, unique=True)
    role = models.CharField(_("角色"), max_length=10, choices=LegRole.choices)
    purpose = models.CharField(_("用途"), max_length=10, choices=LegPurpose.choices, blank=True, default="")
    direction = models.CharField(_("方向"), max_length=8, choices=[("in", _("呼入")), ("out", _("呼出"))])
    remote = models.CharField(_("对端"), max_length=128)
    agent = models.ForeignKey(Agent, verbose_name=_("坐席"), null=True, blank=True, on_delete=models.SET_NULL)
    node = models.CharField(_("媒体节点"), max_length=32, blank=True)
    started_at = models.DateTimeField(_("开始时间"))
    answered_at = models.DateTimeField(_("应答时间"), null=True, blank=True)
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    billsec = models.PositiveIntegerField(_("通话秒数"), default=0)
    sip_code = models.PositiveSmallIntegerField(_("SIP 状态码"), null=True, blank=True)
    hangup_cause = models.CharField(_("挂机原因"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("话单（CDR）")
        verbose_name_plural = _("话单（CDR）")
        ordering = ["started_at", "id"]


class QueueEvent(models.TextChoices):
    ENQUEUE = "enqueue", _("进入队列")
    OFFER = "offer", _("分配坐席")
    NO_ANSWER = "no_answer", _("坐席未接")
    CONNECT = "connect", _("接通")
    ABANDON = "abandon", _("放弃")
    OVERFLOW = "overflow", _("溢出")
    TRANSFER = "transfer", _("转入队列")
    ANNOUNCE = "announce", _("播报位置")
    KEEP_PLACE = "keep_place", _("保留位置回电")
    CALLBACK = "callback", _("排队回电")
    FAILED = "failed", _("系统故障中断")


class QueueLog(models.Model):
    call = models.ForeignKey(Call, verbose_name=_("呼叫"), on_delete=models.CASCADE, related_name="queue_log")
    queue = models.ForeignKey(Queue, verbose_name=_("队列"), on_delete=models.CASCADE, related_name="log")
    event = models.CharField(_("事件"), max_length=16, choices=QueueEvent.choices)
    agent = models.ForeignKey(Agent, verbose_name=_("坐席"), null=True, blank=True, on_delete=models.SET_NULL)
    wait_ms = models.PositiveIntegerField(_("已等待（毫秒）"), default=0)
    # Announcements: the callers ahead and the expected wait spoken.
    position = models.PositiveIntegerField(_("前面人数"), null=True, blank=True)
    expected_seconds = models.PositiveIntegerField(_("预计等待（秒）"), null=True, blank=True)
    at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("队列日志")
        verbose_name_plural = _("队列日志")
        ordering = ["at", "id"]


class AgentStateLog(models.Model):
    agent = models.ForeignKey(
        Agent, verbose_name=_("坐席"), on_delete=models.CASCADE, related_name="state_log"
    )
    event = models.CharField(_("事件"), max_length=16, choices=AgentEvent.choices)
    from_state = models.CharField(_("原状态"), max_length=16, choices=AgentState.choices)
    to_state = models.CharField(_("新状态"), max_length=16, choices=AgentState.choices)
    reason = models.CharField(_("原因"), max_length=16, blank=True)
    call = models.ForeignKey(Call, verbose_name=_("呼叫"), null=True, blank=True, on_delete=models.SET_NULL)
    previous_ms = models.PositiveIntegerField(_("原状态持续（毫秒）"), default=0)
    at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("坐席状态日志")
        verbose_name_plural = _("坐席状态日志")
        ordering = ["at", "id"]


class Recording(models.Model):
    """REC-1: where a call's recording is (relative to HOTLINE_VAR_DIR) and how long it is."""

    call = models.ForeignKey(
        Call, verbose_name=_("呼叫"), on_delete=models.CASCADE, related_name="recordings"
    )
    path = models.CharField(_("文件"), max_length=255, unique=True)
    started_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    size_bytes = models.PositiveIntegerField(_("文件大小"), default=0)
    duration_ms = models.PositiveIntegerField(_("时长（毫秒）"), default=0)
    # REC-1 retention: the file was deleted when its kind's retention ran out (the row stays for the CDR).
    deleted_at = models.DateTimeField(_("按保存期限删除时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("录音")
        verbose_name_plural = _("录音")
        ordering = ["-started_at"]


class CallCase(models.Model):
    """A call linked to the case registered while it ran (the intake form carries the call id)."""

    call = models.ForeignKey(
        Call, verbose_name=_("呼叫"), on_delete=models.CASCADE, related_name="case_links"
    )
    case = models.ForeignKey("cases.Case", verbose_name=_("工单"), on_delete=models.CASCADE, related_name="+")
    linked_at = models.DateTimeField(_("关联时间"))

    class Meta:
        verbose_name = _("呼叫关联工单")
        verbose_name_plural = _("呼叫关联工单")
        constraints = [models.UniqueConstraint(fields=["call", "case"], name="tel_call_case_unique")]


class CallbackStatus(models.TextChoices):
    OPEN = "open", _("待回拨")
    DONE = "done", _("已回拨")


class MissedCall(models.Model):
    """国办函〔2025〕66号: every abandoned call and every voicemail lands on the callback list with a deadline."""

    call = models.OneToOneField(Call, verbose_name=_("呼叫"), on_delete=models.CASCADE, related_name="missed")
    number = models.CharField(_("回拨号码"), max_length=32, db_index=True)
    reason = models.CharField(_("原因"), max_length=16, choices=Disposition.choices)
    recording = models.ForeignKey(
        Recording,
        verbose_name=_("留言录音"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    due_at = models.DateTimeField(_("回拨期限"), db_index=True)
    status = models.CharField(
        _("状态"), max_length=8, choices=CallbackStatus.choices, default=CallbackStatus.OPEN
    )
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("回拨人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    done_at = models.DateTimeField(_("回拨时间"), null=True, blank=True)
    callback_call = models.ForeignKey(
        Call,
        verbose_name=_("回拨呼叫"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("登记时间"))

    class Meta:
        verbose_name = _("未接来电回拨")
        verbose_name_plural = _("未接来电回拨")
        ordering = ["due_at", "id"]


class IvrStepEvent(models.TextChoices):
    ENTER = "enter", _("进入节点")
    KEYS = "keys", _("按键")
    TIMEOUT = "timeout", _("按键超时")
    INVALID = "invalid", _("无效按键")
    # Self-service case progress (the password keyed is never logged).
    FOUND = "found", _("查询成功")
    NOT_FOUND = "not_found", _("编号或密码错误")
    REFUSED = "refused", _("查询被锁定或限流")
    # Condition nodes: the branch taken (`digits` holds its number, 0 = none held: the else path).
    BRANCH = "branch", _("条件分支")


class IvrStep(models.Model):
    """The IVR log: every node a call went through and the keys it pressed (STAT-1: IVR volume by node)."""

    call = models.ForeignKey(Call, verbose_name=_("呼叫"), on_delete=models.CASCADE, related_name="ivr_steps")
    version = models.ForeignKey(
        IvrVersion, verbose_name=_("版本"), on_delete=models.PROTECT, related_name="+"
    )
    node = models.CharField(_("节点"), max_length=32)
    event = models.CharField(_("事件"), max_length=12, choices=IvrStepEvent.choices)
    digits = models.CharField(_("按键"), max_length=20, blank=True)
    at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("语音导航日志")
        verbose_name_plural = _("语音导航日志")
        ordering = ["at", "id"]


class ControlKind(models.TextChoices):
    BLIND_TRANSFER = "blind_transfer", _("直接转接")
    CONSULT = "consult", _("咨询")
    CONSULT_CANCEL = "consult_cancel", _("取消咨询")
    CONSULT_TRANSFER = "consult_transfer", _("咨询后转接")
    CONFERENCE = "conference", _("三方通话")
    LEAVE = "leave", _("退出通话")
    LISTEN = "listen", _("监听")
    WHISPER = "whisper", _("耳语")
    BARGE = "barge", _("强插")
    MONITOR_END = "monitor_end", _("结束监听")
    INTERCEPT = "intercept", _("拦截")
    FORCE_RELEASE = "force_release", _("强拆")
    IVR_TRANSFER = "ivr_transfer", _("转语音导航")
    IVR_BACK = "ivr_back", _("语音导航返回坐席")


class CallControl(models.Model):
    """Transfers, consults, conferences and supervisor modes on a call (STAT-1 details; SPV-1 is also audited)."""

    call = models.ForeignKey(Call, verbose_name=_("呼叫"), on_delete=models.CASCADE, related_name="controls")
    kind = models.CharField(_("操作"), max_length=16, choices=ControlKind.choices)
    agent = models.ForeignKey(
        Agent, verbose_name=_("操作坐席"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.SET_NULL
    )
    target = models.CharField(_("目标"), max_length=64, blank=True)
    leg_id = models.CharField(_("话路编号"), max_length=40, blank=True)
    at = models.DateTimeField(_("时间"), db_index=True)

    class Meta:
        verbose_name = _("通话控制记录")
        verbose_name_plural = _("通话控制记录")
        ordering = ["at", "id"]


class QueueCallbackStatus(models.TextChoices):
    WAITING = "waiting", _("排队中")
    CALLING = "calling", _("回电中")
    DONE = "done", _("已回电")
    FAILED = "failed", _("回电未接通")


class QueueCallback(models.Model):
    """Place-keeping callback (ACD-2): the caller pressed the queue's key and hung up; the entry keeps the call's
    place (its queue, priority and time of entry) and the ACD calls back through the agent it picks."""

    call = models.OneToOneField(
        Call, verbose_name=_("原呼叫"), on_delete=models.CASCADE, related_name="queue_callback"
    )
    queue = models.ForeignKey(Queue, verbose_name=_("队列"), on_delete=models.CASCADE, related_name="+")
    number = models.CharField(_("回电号码"), max_length=32)
    priority = models.SmallIntegerField(_("优先级"), default=0)
    waiting_since = models.DateTimeField(_("排队开始"))
    status = models.CharField(
        _("状态"), max_length=8, choices=QueueCallbackStatus.choices, default=QueueCallbackStatus.WAITING
    )
    attempts = models.PositiveSmallIntegerField(_("已回电次数"), default=0)
    not_before = models.DateTimeField(_("下次回电不早于"), null=True, blank=True)
    callback_call = models.ForeignKey(
        Call, verbose_name=_("回电呼叫"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("登记时间"))

    class Meta:
        verbose_name = _("排队回电")
        verbose_name_plural = _("排队回电")
        ordering = ["waiting_since", "id"]
        indexes = [models.Index(fields=["status", "queue"], name="tel_qcb_status_idx")]


class RatingCallStatus(models.TextChoices):
    PENDING = "pending", _("待呼叫")
    CALLING = "calling", _("呼叫中")
    RATED = "rated", _("已评价")
    LEFT_TO_AGENT = "to_agent", _("转人工回访")


class RatingCall(models.Model):
    """CLS-5 by phone: after the office accepts a result, the citizen is called and asked the rating (TTS, keys
    1–5); the rating goes through the cases' callback service. No answer: retried, then left to an agent."""

    case = models.ForeignKey("cases.Case", verbose_name=_("工单"), on_delete=models.CASCADE, related_name="+")
    number = models.CharField(_("号码"), max_length=32)
    status = models.CharField(
        _("状态"), max_length=8, choices=RatingCallStatus.choices, default=RatingCallStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(_("已呼叫次数"), default=0)
    next_try_at = models.DateTimeField(_("下次呼叫不早于"))
    call = models.ForeignKey(
        Call, verbose_name=_("最近呼叫"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rating = models.CharField(_("评价"), max_length=24, blank=True)
    created_at = models.DateTimeField(_("登记时间"))

    class Meta:
        verbose_name = _("自动回访呼叫")
        verbose_name_plural = _("自动回访呼叫")
        indexes = [models.Index(fields=["status", "next_try_at"], name="tel_ratingcall_due_idx")]


class AgentNoteKind(models.TextChoices):
    MESSAGE = "message", _("班长消息")
    HELP = "help", _("坐席求助")


class AgentNote(models.Model):
    """SPV-1: a supervisor's message to an agent (shown in the call bar until the agent has read it) or an agent's
    help request (shown on the supervisors' board until a supervisor takes it). Both audited."""

    agent = models.ForeignKey(Agent, verbose_name=_("坐席"), on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(_("类型"), max_length=8, choices=AgentNoteKind.choices)
    text = models.CharField(_("内容"), max_length=200, blank=True)
    call = models.ForeignKey(
        Call, verbose_name=_("当时的通话"), null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发送人"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("发送时间"), db_index=True)
    # The agent read the message / a supervisor took the help request.
    handled_at = models.DateTimeField(_("处理时间"), null=True, blank=True)
    handled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("处理人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("班长消息与坐席求助")
        verbose_name_plural = _("班长消息与坐席求助")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["kind", "handled_at"], name="tel_note_open_idx")]
