"""The dispatch catalogue (派单目录) and learned auto-dispatch (DSP-4, DSP-5)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

MAX_LEVEL = 3


class LocationRule(models.TextChoices):
    UNIT = "unit", _("指定单位")
    DISTRICT = "district", _("事发地区县")
    VERTICAL = "vertical", _("垂直管理部门")


class Matter(models.Model):
    """A node of the matter tree (一级 / 二级 / 三级事项). A node with a rule says where its cases go: the unit
    given, or the district of the incident, or the case's vertically managed bureau (falling back to the unit)."""

    name = models.CharField(_("事项名称"), max_length=200)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级事项"),
        null=True,
        blank=True,
        related_name="children",
        on_delete=models.PROTECT,
    )
    level = models.PositiveSmallIntegerField(_("层级"), default=1, editable=False)
    unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("承办单位"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    location_rule = models.CharField(
        _("属地规则"), max_length=16, choices=LocationRule.choices, default=LocationRule.UNIT
    )
    keywords = models.TextField(_("关键词"), blank=True, help_text=_("以逗号、顿号或空格分隔"))
    examples = models.TextField(_("示例诉求"), blank=True, help_text=_("每行一条"))
    is_active = models.BooleanField(_("启用"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("派单目录事项")
        verbose_name_plural = _("派单目录事项")
        ordering = ["level", "name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["parent", "name"], name="dispatching_matter_unique_name_in_parent"
            ),
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(parent__isnull=True),
                name="dispatching_matter_unique_root",
            ),
        ]

    def __str__(self) -> str:
        return self.path_name

    @property
    def path_name(self) -> str:
        names = [self.name]
        node = self.parent
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " / ".join(reversed(names))

    def keyword_list(self) -> list[str]:
        from .rules import split_keywords

        return split_keywords(self.keywords)


class CatalogueImport(models.Model):
    """One xlsx import of the catalogue and its row report."""

    created_at = models.DateTimeField(_("导入时间"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    file_name = models.CharField(_("文件名"), max_length=255)
    rows_total = models.PositiveIntegerField(_("总行数"), default=0)
    rows_created = models.PositiveIntegerField(_("新增"), default=0)
    rows_updated = models.PositiveIntegerField(_("更新"), default=0)
    rows_failed = models.PositiveIntegerField(_("失败"), default=0)
    report = models.JSONField(_("逐行结果"), default=list)

    class Meta:
        verbose_name = _("派单目录导入")
        verbose_name_plural = _("派单目录导入")
        ordering = ["-created_at", "-id"]


def default_scheduled_times() -> list[str]:
    return ["09:00", "14:00"]


class DispatchSettings(models.Model):
    """One row: the office's auto-dispatch settings."""

    auto_dispatch = models.BooleanField(_("启用自动派单"), default=False)
    threshold = models.DecimalField(
        _("自动派单置信度阈值"),
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.900"),
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("1"))],
    )
    use_model = models.BooleanField(_("使用学习模型"), default=True)
    # When the scheduled job sends the suggestions of cases whose flow template dispatches "automatic scheduled"
    # (local times "HH:MM", every day): a case that reached the office before a time is sent at that time.
    scheduled_times = models.JSONField(_("定时派单时间"), default=default_scheduled_times, blank=True)
    auto_actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("自动派单账号"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
        help_text=_("自动派单以该派单员账号记入工单时间线"),
    )
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("自动派单设置")
        verbose_name_plural = _("自动派单设置")


class ModelVersion(models.Model):
    """A trained auto-dispatch model: its accuracy on the held-back newest slice of closed cases."""

    version = models.PositiveIntegerField(_("版本"), unique=True)
    created_at = models.DateTimeField(_("训练时间"))
    trained_cases = models.PositiveIntegerField(_("训练工单数"))
    heldout_cases = models.PositiveIntegerField(_("留出工单数"))
    heldout_correct = models.PositiveIntegerField(_("留出命中数"))
    overrides_used = models.PositiveIntegerField(_("纳入改派记录数"), default=0)
    units = models.PositiveIntegerField(_("单位数"))
    file_name = models.CharField(_("模型文件"), max_length=255)
    is_active = models.BooleanField(_("当前使用"), default=False)

    class Meta:
        verbose_name = _("派单模型版本")
        verbose_name_plural = _("派单模型版本")
        ordering = ["-version"]

    def __str__(self) -> str:
        return f"v{self.version}"

    @property
    def accuracy(self) -> float | None:
        return self.heldout_correct / self.heldout_cases if self.heldout_cases else None


class SuggestionSource(models.TextChoices):
    RULE = "rule", _("派单目录规则")
    MODEL = "model", _("学习模型")
    LOCATION = "location", _("属地默认")


class Outcome(models.TextChoices):
    PENDING = "pending", _("待派单")
    AUTO = "auto", _("已自动派单")
    ACCEPTED = "accepted", _("采纳建议")
    OVERRIDDEN = "overridden", _("改选单位")


class DispatchMode(models.TextChoices):
    """How the case's flow template wants it sent (a case without a template: automatic real-time, as before)."""

    AUTO_REALTIME = "auto_realtime", _("自动实时")
    AUTO_SCHEDULED = "auto_scheduled", _("自动定时")
    MANUAL = "manual", _("人工")


class Suggestion(models.Model):
    """The suggested main unit for one case when it reached the office, and what the dispatcher did with it."""

    case = models.OneToOneField(
        "cases.Case", verbose_name=_("工单"), related_name="dispatch_suggestion", on_delete=models.CASCADE
    )
    unit = models.ForeignKey(
        "orgs.Unit", verbose_name=_("建议单位"), null=True, related_name="+", on_delete=models.PROTECT
    )
    source = models.CharField(_("依据"), max_length=16, choices=SuggestionSource.choices)
    confidence = models.FloatField(_("置信度"), default=0.0)
    reason = models.CharField(_("理由"), max_length=500)
    matched_terms = models.JSONField(_("命中关键词"), default=list)
    similar_cases = models.JSONField(_("相似历史工单"), default=list)
    matter = models.ForeignKey(
        Matter, verbose_name=_("事项"), null=True, blank=True, related_name="+", on_delete=models.SET_NULL
    )
    model_version = models.ForeignKey(
        ModelVersion,
        verbose_name=_("模型版本"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(_("建议时间"))
    # Read by the scheduled job (it sends only the `auto_scheduled` ones) and shown beside the suggestion.
    dispatch_mode = models.CharField(
        _("派单模式"), max_length=16, choices=DispatchMode.choices, default=DispatchMode.AUTO_REALTIME
    )
    outcome = models.CharField(_("结果"), max_length=16, choices=Outcome.choices, default=Outcome.PENDING)
    final_unit = models.ForeignKey(
        "orgs.Unit",
        verbose_name=_("实际主办单位"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.PROTECT,
    )
    decided_at = models.DateTimeField(_("派单时间"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("派单人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )

    class Meta:
        verbose_name = _("派单建议")
        verbose_name_plural = _("派单建议")
        indexes = [
            models.Index(fields=["outcome", "decided_at"], name="dispatching_sugg_outcome_idx"),
            # The scheduled job's queue: pending suggestions of "automatic scheduled" cases, oldest first.
            models.Index(
                fields=["created_at"],
                name="dispatching_sugg_scheduled_idx",
                condition=models.Q(outcome="pending", dispatch_mode="auto_scheduled"),
            ),
        ]
