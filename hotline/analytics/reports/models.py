from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class SavedReport(models.Model):
    """A cross-tab a user saved: its parameters (rows, columns, measures, filters, period kind), re-run with one
    click. Shared: every user of the same unit sees and runs it; only its owner changes or deletes it."""

    name = models.CharField(_("报表名称"), max_length=100)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), related_name="+", on_delete=models.CASCADE
    )
    unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("所属单位"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    shared = models.BooleanField(_("本单位共享"), default=False)
    params = models.JSONField(_("报表参数"), default=dict)
    created_at = models.DateTimeField(_("创建时间"))
    updated_at = models.DateTimeField(_("修改时间"))

    class Meta:
        verbose_name = _("自定义报表")
        verbose_name_plural = _("自定义报表")
        ordering = ["name", "id"]
        indexes = [models.Index(fields=["unit", "shared"], name="savedreport_unit_shared_idx")]

    def __str__(self) -> str:
        return self.name


class Frequency(models.TextChoices):
    DAILY = "daily", _("每日（前一天）")
    WEEKLY = "weekly", _("每周（上周一至周日）")
    MONTHLY = "monthly", _("每月（上一自然月）")


class ReportSchedule(models.Model):
    """A saved cross-tab or a preset e-mailed as Excel on a schedule. Each recipient gets the report run as that
    recipient (their own scope), over the last complete day / week / month before the run."""

    report = models.ForeignKey(
        SavedReport,
        verbose_name=_("自定义报表"),
        null=True,
        blank=True,
        related_name="schedules",
        on_delete=models.CASCADE,
    )
    preset = models.CharField(_("预置报表"), max_length=40, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("创建人"), related_name="+", on_delete=models.CASCADE
    )
    frequency = models.CharField(_("频率"), max_length=8, choices=Frequency.choices)
    hour = models.PositiveSmallIntegerField(_("发送时刻（时）"), default=7)
    recipients = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("收件人"), related_name="+")
    next_run_at = models.DateTimeField(_("下次发送时间"), db_index=True)
    last_run_at = models.DateTimeField(_("上次发送时间"), null=True, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"))

    class Meta:
        verbose_name = _("定时报表")
        verbose_name_plural = _("定时报表")
        ordering = ["next_run_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(report__isnull=False) & models.Q(preset=""))
                | (models.Q(report__isnull=True) & ~models.Q(preset="")),
                name="analytics_schedule_report_or_preset",
            )
        ]


class DeliveryStatus(models.TextChoices):
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    SKIPPED = "skipped", _("未发送（超出收件人权限或无邮箱）")


class ScheduledDelivery(models.Model):
    """One recipient's copy of one run (`slot`: the run's scheduled time): sent once, retried while failing."""

    schedule = models.ForeignKey(
        ReportSchedule, verbose_name=_("定时报表"), related_name="deliveries", on_delete=models.CASCADE
    )
    slot = models.DateTimeField(_("计划时间"))
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("收件人"), related_name="+", on_delete=models.CASCADE
    )
    status = models.CharField(_("状态"), max_length=8, choices=DeliveryStatus.choices)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    detail = models.CharField(_("说明"), max_length=500, blank=True)
    at = models.DateTimeField(_("时间"))

    class Meta:
        verbose_name = _("定时报表发送记录")
        verbose_name_plural = _("定时报表发送记录")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "slot", "recipient"], name="analytics_delivery_once_per_slot"
            )
        ]
