from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.common.errors import ServiceError


class Scheme(models.Model):
    """An assessment scheme: its indicators (below), the unit depth it scores directly, and its grading bands
    ([{"grade": "A", "min": 90}, …], highest first: a total at or above `min` gets that grade)."""

    name = models.CharField(_("方案名称"), max_length=100)
    depth = models.PositiveSmallIntegerField(
        _("直接考核层级"), default=1, help_text=_("1：市级部门与区县；2：街道与区县部门……上级由下级加权得分")
    )
    bands = models.JSONField(_("等级划分"), default=list)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("考核方案")
        verbose_name_plural = _("考核方案")

    def __str__(self) -> str:
        return self.name


class Indicator(models.Model):
    """One indicator: a measure of analytics/measures.py, its weight, and the linear scale from its value to
    0–100 points (`full_at` gives 100, `zero_at` gives 0; either may be the larger: lower-is-better)."""

    scheme = models.ForeignKey(
        Scheme, verbose_name=_("方案"), related_name="indicators", on_delete=models.CASCADE
    )
    measure = models.CharField(_("指标"), max_length=40)
    weight = models.DecimalField(_("权重"), max_digits=6, decimal_places=2)
    full_at = models.DecimalField(_("满分值"), max_digits=8, decimal_places=2, default=100)
    zero_at = models.DecimalField(_("零分值"), max_digits=8, decimal_places=2, default=0)
    sort_order = models.PositiveSmallIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("考核指标")
        verbose_name_plural = _("考核指标")
        ordering = ["sort_order", "id"]


class PeriodStatus(models.TextChoices):
    DRAFT = "draft", _("未发布")
    PUBLISHED = "published", _("已发布")


class AssessmentPeriod(models.Model):
    scheme = models.ForeignKey(
        Scheme, verbose_name=_("方案"), related_name="periods", on_delete=models.PROTECT
    )
    name = models.CharField(_("考核期"), max_length=50)
    first_day = models.DateField(_("开始日期"))
    last_day = models.DateField(_("结束日期"))
    status = models.CharField(
        _("状态"), max_length=12, choices=PeriodStatus.choices, default=PeriodStatus.DRAFT
    )
    computed_at = models.DateTimeField(_("计算时间"), null=True, blank=True)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )

    class Meta:
        verbose_name = _("考核期")
        verbose_name_plural = _("考核期")
        ordering = ["-first_day", "-id"]

    def __str__(self) -> str:
        return self.name

    @property
    def frozen(self) -> bool:
        return self.status == PeriodStatus.PUBLISHED


class FrozenRow(models.Model):
    """A row of a published period cannot change or go away."""

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        self._check_open()
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        self._check_open()
        return super().delete(*args, **kwargs)

    def _check_open(self) -> None:
        period = AssessmentPeriod.objects.filter(pk=self.period_id).only("status").first()  # type: ignore[attr-defined]
        if period is not None and period.frozen:
            raise ServiceError(_("考核结果已发布，不能修改"), code="frozen")


class Score(FrozenRow):
    period = models.ForeignKey(
        AssessmentPeriod, verbose_name=_("考核期"), related_name="scores", on_delete=models.CASCADE
    )
    unit = models.ForeignKey("orgs.Unit", verbose_name=_("单位"), related_name="+", on_delete=models.PROTECT)
    base = models.DecimalField(_("指标得分"), max_digits=7, decimal_places=2, null=True)
    adjustment = models.DecimalField(_("加减分"), max_digits=7, decimal_places=2, default=0)
    total = models.DecimalField(_("总分"), max_digits=7, decimal_places=2, null=True)
    grade = models.CharField(_("等级"), max_length=4, blank=True)
    rank = models.PositiveIntegerField(_("排名"), null=True)
    from_children = models.BooleanField(_("由下级加权"), default=False)
    weight = models.PositiveIntegerField(_("权数（受理量）"), default=0)
    details = models.JSONField(_("明细"), default=list)

    class Meta:
        verbose_name = _("考核得分")
        verbose_name_plural = _("考核得分")
        ordering = ["rank", "unit_id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "unit"], name="kpi_score_period_unit_unique")
        ]


class AdjustmentKind(models.TextChoices):
    DEDUCTION = "deduction", _("扣分")
    BONUS = "bonus", _("加分")


class Adjustment(FrozenRow):
    """A deduction or bonus the office enters, with its evidence: a case, an attachment, or both."""

    period = models.ForeignKey(
        AssessmentPeriod, verbose_name=_("考核期"), related_name="adjustments", on_delete=models.CASCADE
    )
    unit = models.ForeignKey("orgs.Unit", verbose_name=_("单位"), related_name="+", on_delete=models.PROTECT)
    kind = models.CharField(_("类型"), max_length=12, choices=AdjustmentKind.choices)
    points = models.DecimalField(_("分值"), max_digits=5, decimal_places=2)
    reason = models.CharField(_("事由"), max_length=200)
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("关联工单"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    evidence = models.FileField(_("佐证材料"), upload_to="kpi/%Y/%m/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), related_name="+", on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("录入时间"))

    class Meta:
        verbose_name = _("加减分")
        verbose_name_plural = _("加减分")
        ordering = ["created_at", "id"]


class ImprovementNote(models.Model):
    """An improvement note the office sends a unit about its results, and the unit's reply."""

    period = models.ForeignKey(
        AssessmentPeriod, verbose_name=_("考核期"), related_name="notes", on_delete=models.CASCADE
    )
    unit = models.ForeignKey("orgs.Unit", verbose_name=_("单位"), related_name="+", on_delete=models.PROTECT)
    text = models.TextField(_("整改要求"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("发送人"), related_name="+", on_delete=models.PROTECT
    )
    created_at = models.DateTimeField(_("发送时间"))
    reply = models.TextField(_("整改回复"), blank=True)
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("回复人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    replied_at = models.DateTimeField(_("回复时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("整改通知")
        verbose_name_plural = _("整改通知")
        ordering = ["-created_at", "-id"]


class GroupScore(FrozenRow):
    """An agent group's (telephony skill group's) score in a period: the scheme's agent-group indicators
    (group_measures.py), graded by the scheme's bands, ranked among the groups; frozen when published."""

    period = models.ForeignKey(
        AssessmentPeriod, verbose_name=_("考核期"), related_name="group_scores", on_delete=models.CASCADE
    )
    queue = models.ForeignKey(
        "telephony.Queue", verbose_name=_("坐席组（技能组）"), related_name="+", on_delete=models.PROTECT
    )
    total = models.DecimalField(_("总分"), max_digits=7, decimal_places=2, null=True)
    grade = models.CharField(_("等级"), max_length=4, blank=True)
    rank = models.PositiveIntegerField(_("排名"), null=True)
    details = models.JSONField(_("明细"), default=list)

    class Meta:
        verbose_name = _("坐席组考核得分")
        verbose_name_plural = _("坐席组考核得分")
        ordering = ["rank", "queue_id"]
        constraints = [
            models.UniqueConstraint(fields=["period", "queue"], name="kpi_groupscore_period_queue_unique")
        ]
