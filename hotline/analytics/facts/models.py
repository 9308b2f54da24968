"""The daily fact table and its bookkeeping (see the package docstring)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

CENTRE = 0  # the `scope` of the whole centre's rows


class _CaseCounts(models.Model):
    """What a daily and a monthly fact row count: cases with the same values, for one scope."""

    scope = models.BigIntegerField(_("统计范围"))
    case_type_id = models.BigIntegerField(null=True)
    district_id = models.BigIntegerField(null=True)
    bureau_id = models.BigIntegerField(null=True)
    channel = models.CharField(max_length=16)
    status = models.CharField(max_length=24)
    urgency_id = models.BigIntegerField(null=True)
    nature_id = models.BigIntegerField(null=True)
    n = models.IntegerField(_("工单数"))
    answered = models.IntegerField(_("受理时解答办结数"))

    class Meta:
        abstract = True


class CaseFact(_CaseCounts):
    """Cases registered on `day` (local date of `created_at`, drafts excluded) with the same values, counted once
    for the whole centre (`scope` = 0) and once for every unit of depth ≤ `build.SCOPE_DEPTH` that was given the
    case to handle (main or assisting, not a copy) itself or through one of its sub-units — exactly the cases a
    unit-scoped figure counts (`measures.Scope.handled_here`). Ids are kept without foreign keys: the rows are
    recomputed, never edited, and a deleted dictionary item or unit leaves a stale id until the next rebuild."""

    day = models.DateField(_("日期"))

    class Meta:
        verbose_name = _("每日工单汇总")
        verbose_name_plural = _("每日工单汇总")
        indexes = [models.Index(fields=["scope", "day"], name="casefact_scope_day_idx")]


class CaseMonthFact(_CaseCounts):
    """The daily facts of one whole local month added up (`month` is its first day), for the months before the
    current one up to `FactState.months_through`: a year's figure reads twelve months of these instead of 365
    days of daily rows. Recomputed from the daily rows whenever one of its days is (`build.recompute_months`)."""

    month = models.DateField(_("月份"))

    class Meta:
        verbose_name = _("每月工单汇总")
        verbose_name_plural = _("每月工单汇总")
        indexes = [models.Index(fields=["scope", "month"], name="casemonthfact_scope_month_idx")]


class AreaFact(models.Model):
    """The same cases as `CaseFact` (same day, same scopes) counted by the place they happened (`location_unit`),
    for the report by place; its own table, so that the place's many values do not multiply the main rows."""

    day = models.DateField(_("日期"))
    scope = models.BigIntegerField(_("统计范围"))
    location_unit_id = models.BigIntegerField(null=True)
    n = models.IntegerField(_("工单数"))
    answered = models.IntegerField(_("受理时解答办结数"))

    class Meta:
        verbose_name = _("每日工单汇总（事发地）")
        verbose_name_plural = _("每日工单汇总（事发地）")
        indexes = [models.Index(fields=["scope", "day"], name="areafact_scope_day_idx")]


class FactDay(models.Model):
    """A day whose facts must be recomputed (a case registered that day changed)."""

    day = models.DateField(primary_key=True)
    marked_at = models.DateTimeField(_("标记时间"))

    class Meta:
        verbose_name = _("待汇总日期")
        verbose_name_plural = _("待汇总日期")


class FactState(models.Model):
    """One row: whether the facts were built in full, and when they were last brought up to date."""

    built_at = models.DateTimeField(_("全量生成时间"), null=True)
    refreshed_at = models.DateTimeField(_("最近更新时间"), null=True)
    # the last month (its first day) whose monthly rows are complete; later months are read from the daily rows
    months_through = models.DateField(_("月汇总截至"), null=True)
    # when the unit facts (`UnitFact`) were built in full; None: not yet (the unit reports count directly)
    units_built_at = models.DateTimeField(_("单位指标全量生成时间"), null=True)
    # the last month whose monthly unit rows (`UnitMonthFact`) are complete; later months from the daily rows
    unit_months_through = models.DateField(_("单位指标月汇总截至"), null=True)

    class Meta:
        verbose_name = _("汇总状态")
        verbose_name_plural = _("汇总状态")


class UnitFact(models.Model):
    """The unit reports' measures per local day of the row's own time (`facts/units.py`): per scope (as
    `CaseFact`), grouping unit (the assignment's unit, or the case's main unit) and series (`measure`), the
    denominator `n` and numerator `num` (for the mean handling time: microseconds). `prev_day` only for the redo
    series, which count distinct cases (see `facts/units.py`)."""

    day = models.DateField(_("日期"))
    scope = models.BigIntegerField(_("统计范围"))
    measure = models.CharField(_("指标"), max_length=24)
    unit_id = models.BigIntegerField(null=True)
    prev_day = models.DateField(_("上次发生日期"), null=True)
    n = models.BigIntegerField(_("分母"))
    num = models.BigIntegerField(_("分子"))

    class Meta:
        verbose_name = _("每日单位指标汇总")
        verbose_name_plural = _("每日单位指标汇总")
        indexes = [models.Index(fields=["scope", "measure", "day"], name="unitfact_scope_measure_day_idx")]


class UnitMonthFact(models.Model):
    """The daily unit facts of one whole local month added up (`month` is its first day), for the months before
    the current one up to `FactState.unit_months_through`: a year's unit report reads twelve months of these
    instead of 365 days. `prev_day` is kept as in the daily rows (the redo series count a case at its first event
    of the period, whatever day the period starts on). Recomputed from the daily rows whenever one of its days
    is (`units.recompute_month`)."""

    month = models.DateField(_("月份"))
    scope = models.BigIntegerField(_("统计范围"))
    measure = models.CharField(_("指标"), max_length=24)
    unit_id = models.BigIntegerField(null=True)
    prev_day = models.DateField(_("上次发生日期"), null=True)
    n = models.BigIntegerField(_("分母"))
    num = models.BigIntegerField(_("分子"))

    class Meta:
        verbose_name = _("每月单位指标汇总")
        verbose_name_plural = _("每月单位指标汇总")
        indexes = [models.Index(fields=["scope", "measure", "month"], name="unitmonthfact_scope_meas_idx")]


class UnitFactDay(models.Model):
    """A day whose unit facts must be recomputed (an event of a case with rows on that day was queued)."""

    day = models.DateField(primary_key=True)
    marked_at = models.DateTimeField(_("标记时间"))

    class Meta:
        verbose_name = _("待汇总日期（单位指标）")
        verbose_name_plural = _("待汇总日期（单位指标）")
