from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.common.models import DictItem, DictKind


class CalendarException(models.Model):
    """A day that differs from Monday–Friday: a statutory holiday, or a make-up workday on a weekend."""

    date = models.DateField(_("日期"), unique=True)
    is_workday = models.BooleanField(_("是否工作日"))
    name = models.CharField(_("名称"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("节假日与调休")
        verbose_name_plural = _("节假日与调休")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"


class OfficeHours(models.Model):
    """One working period of a working day (e.g. 08:30–12:00 and 13:30–17:30)."""

    start = models.TimeField(_("开始"))
    end = models.TimeField(_("结束"))

    class Meta:
        verbose_name = _("办公时间")
        verbose_name_plural = _("办公时间")
        ordering = ["start"]

    def __str__(self) -> str:
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


class Stage(models.TextChoices):
    SIGN_FOR = "sign_for", _("签收")
    HANDLING = "handling", _("办理")
    REPLY = "reply", _("答复热线办")
    FORWARDED = "forwarded", _("下派办理")
    CALLBACK = "callback", _("回访")
    TOTAL = "total", _("总时限")
    # A flow template's step with its own time limit, while the case waits at it outside the units' work and the
    # callback (审核派单, 领导批示, 结果审核 …): a case-level clock started when the case enters the step.
    STEP = "step", _("流程环节")


# A unit's deadline to report: to the office (`reply`) or, for a step forwarded down, to the unit above
# (`forwarded`, with its own time limit and its own warning / yellow / red rules).
UNIT_REPLY_STAGES = (Stage.REPLY, Stage.FORWARDED)


class LimitUnit(models.TextChoices):
    WORKING_DAYS = "working_days", _("工作日")
    WORKING_HOURS = "working_hours", _("工作小时")
    HOURS = "hours", _("自然小时")


class TimeLimit(models.Model):
    """How long a stage may take. The most specific matching rule wins (type, urgency, citizen level)."""

    stage = models.CharField(_("环节"), max_length=16, choices=Stage.choices)
    case_type = models.ForeignKey(
        DictItem,
        verbose_name=_("诉求类型"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"kind": DictKind.CASE_TYPE},
    )
    urgency = models.ForeignKey(
        DictItem,
        verbose_name=_("紧急程度"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        limit_choices_to={"kind": DictKind.URGENCY},
    )
    citizen_level = models.CharField(_("市民级别"), max_length=16, blank=True)
    amount = models.PositiveIntegerField(_("时限"))
    unit = models.CharField(
        _("单位"), max_length=16, choices=LimitUnit.choices, default=LimitUnit.WORKING_DAYS
    )
    max_extension_days = models.PositiveIntegerField(_("最多可延期（工作日）"), default=10)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("办理时限")
        verbose_name_plural = _("办理时限")

    def __str__(self) -> str:
        return f"{self.get_stage_display()} {self.amount}{self.get_unit_display()}"


class AlertKind(models.TextChoices):
    WARNING = "warning", _("预警")
    YELLOW = "yellow", _("黄牌")
    RED = "red", _("红牌")
    REMINDER = "reminder", _("办理提醒")


class EscalationRule(models.Model):
    """When a clock raises an alert and who hears of it. Offsets are in working days from the deadline,
    except reminders, which count calendar days from the start."""

    kind = models.CharField(_("类型"), max_length=16, choices=AlertKind.choices)
    stage = models.CharField(_("环节"), max_length=16, choices=Stage.choices)
    offset_days = models.IntegerField(_("相对时限的工作日（负数为时限前）"))
    recipient_roles = models.JSONField(_("接收角色"), default=list)
    notify_parent_unit = models.BooleanField(_("同时通知上级单位"), default=False)
    channels = models.JSONField(_("通知渠道"), default=list)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("预警与督办规则")
        verbose_name_plural = _("预警与督办规则")
        constraints = [models.UniqueConstraint(fields=["kind", "stage"], name="escalation_kind_stage_unique")]

    def __str__(self) -> str:
        return f"{self.get_stage_display()}{self.get_kind_display()}"


class Clock(models.Model):
    """One running deadline: a stage of a case (or of one unit's assignment).

    `next_alert_at` is the earliest threshold not yet acted on, so the sweep reads only what has come due.
    """

    # No single-column indexes on the keys: (case, due_at, id) and (assignment, …) below serve them, and every
    # index is one more write for each clock the sweep moves on.
    case = models.ForeignKey(
        "cases.Case", verbose_name=_("工单"), related_name="clocks", on_delete=models.CASCADE, db_index=False
    )
    assignment = models.ForeignKey(
        "cases.Assignment",
        verbose_name=_("交办环节"),
        null=True,
        blank=True,
        related_name="clocks",
        on_delete=models.CASCADE,
        db_index=False,
    )
    # The assignment's unit (none for the case's own clocks), copied when the clock starts: the supervision page
    # and the sweep count and address clocks per unit without joining a million assignments.
    unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("单位"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
        db_index=False,
    )
    stage = models.CharField(_("环节"), max_length=16, choices=Stage.choices)
    started_at = models.DateTimeField(_("开始时间"))
    due_at = models.DateTimeField(_("时限"))
    warn_at = models.DateTimeField(_("预警时间"), null=True, blank=True)
    red_at = models.DateTimeField(_("红牌时间"), null=True, blank=True)
    remind_at = models.DateTimeField(_("提醒时间"), null=True, blank=True)
    next_alert_at = models.DateTimeField(_("下次检查"), null=True, blank=True)
    stopped_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    max_due_at = models.DateTimeField(_("最晚可延至"), null=True, blank=True)
    # When this clock's yellow card was raised (set by the sweep in the statement that raises it): "running with
    # a yellow card" is read from the clock alone, without joining every card ever raised.
    yellow_at = models.DateTimeField(_("黄牌时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("计时")
        verbose_name_plural = _("计时")
        indexes = [
            # (next_alert_at, id): the sweep reads due clocks in this order from where its last batch ended.
            models.Index(
                fields=["next_alert_at", "id"],
                name="clock_next_alert_id_idx",
                condition=models.Q(stopped_at__isnull=True),
            ),
            # A case's or assignment's clocks, nearest deadline first: the worklists sort by the running deadline
            # (the first running clock, `ORDER BY due_at, id LIMIT 1` per row) and read it from the index alone.
            models.Index(
                fields=["assignment", "due_at", "id"],
                include=["stopped_at", "stage"],
                name="clock_assignment_due_idx",
            ),
            models.Index(
                fields=["case", "due_at", "id"], include=["stopped_at", "stage"], name="clock_case_due_idx"
            ),
            # Time-limit supervision: the clocks of a stage started in a period, late or not, per unit, read from
            # the index alone.
            models.Index(
                fields=["stage", "started_at"],
                include=["unit", "due_at", "stopped_at", "yellow_at"],
                name="clock_stage_started_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id}·{self.stage}"


class Alert(models.Model):
    """A warning, yellow card, red card or reminder. At most one of each kind per clock (the sweep relies on it)."""

    # The unique (clock, kind) index serves the clock key: no single-column copy (the sweep inserts up to millions
    # of alerts at once, each index is one more write per alert). No database foreign-key check either: the sweep
    # inserts an alert in the statement that locks and moves its clock on, and deleting a clock cascades to its
    # alerts through Django (a check per alert, run at each commit, was a share of a big sweep's database time).
    clock = models.ForeignKey(
        Clock,
        verbose_name=_("计时"),
        related_name="alerts",
        on_delete=models.CASCADE,
        db_index=False,
        db_constraint=False,
    )
    kind = models.CharField(_("类型"), max_length=16, choices=AlertKind.choices)
    # Case and unit are copied by the sweep from the clock it has just locked (whose own keys are checked), and
    # deletions cascade through Django: no database foreign-key check per alert for them (checked at each
    # commit one row at a time, they were a large share of a big sweep's database time).
    case = models.ForeignKey(
        "cases.Case", verbose_name=_("工单"), related_name="+", on_delete=models.CASCADE, db_constraint=False
    )
    unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("单位"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
        db_index=False,
        db_constraint=False,
    )
    raised_at = models.DateTimeField(_("时间"))
    # The sweep that raised it: each sweep notifies only about the alerts it inserted itself (PostgreSQL reads
    # them back from the INSERT; elsewhere they are found by clock and run, through the unique index).
    run_id = models.CharField(_("批次"), max_length=32)

    class Meta:
        verbose_name = _("预警督办记录")
        verbose_name_plural = _("预警督办记录")
        constraints = [models.UniqueConstraint(fields=["clock", "kind"], name="alert_clock_kind_unique")]
        # No (unit, kind, raised_at) index: the card ledger of a unit reads the period from alert_raised_idx and
        # filters its units in the index; nothing else reads alerts by unit.
        indexes = [
            # The card ledger: every alert of a period counted per unit and kind, from the index alone (it
            # replaces the plain index on raised_at: no extra write per alert).
            models.Index(fields=["raised_at"], include=["unit", "kind"], name="alert_raised_idx"),
        ]


class SweepRun(models.Model):
    """One deadline sweep, for its notices: a sweep tallies the alerts its batches raised and, once they are all
    committed, sends one notice per audience, stage and kind (a digest when more than one case is concerned).
    A run left without its notices (the process died mid-sweep) is found by the next sweep, which counts the
    run's alerts from `sla_alert` and sends them then (warnings and reminders only while still ahead)."""

    run_id = models.CharField(_("批次"), max_length=32, unique=True)
    now = models.DateTimeField(_("扫描时刻"))
    started_at = models.DateTimeField(_("开始时间"))
    notified_at = models.DateTimeField(_("通知时间"), null=True, blank=True)
    alerts = models.PositiveIntegerField(_("通知的预警数"), default=0)

    class Meta:
        verbose_name = _("时限扫描")
        verbose_name_plural = _("时限扫描")
        indexes = [
            # The runs whose notices are still owed (few, usually only the ones running).
            models.Index(
                fields=["id"], name="sweeprun_pending_idx", condition=models.Q(notified_at__isnull=True)
            )
        ]


class Urge(models.Model):
    """催办: the office presses a unit, with a message."""

    case = models.ForeignKey(
        "cases.Case", verbose_name=_("工单"), related_name="urges", on_delete=models.CASCADE
    )
    assignment = models.ForeignKey(
        "cases.Assignment",
        verbose_name=_("交办环节"),
        null=True,
        blank=True,
        related_name="urges",
        on_delete=models.CASCADE,
    )
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("催办人"), on_delete=models.PROTECT)
    message = models.TextField(_("催办内容"))
    created_at = models.DateTimeField(_("催办时间"), db_index=True)

    class Meta:
        verbose_name = _("催办记录")
        verbose_name_plural = _("催办记录")
