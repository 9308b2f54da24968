"""Flow templates (流程模板, FLW-1..4): which steps a case goes through, who acts at each, in what order, under which
guard and time limit. The backbone statuses stay code in `cases.lifecycle`; a template narrows and orders them.

A template (selection rules, validity, priority; active / paused / retired) has versions; a version is drafted,
sent for review and published, and once published never changes (its steps and transitions refuse writes).
Each case keeps the version it was created with (`CaseFlow`), so a case started on v1 finishes on v1.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from hotline.common.errors import ServiceError


class TemplateStatus(models.TextChoices):
    ACTIVE = "active", _("启用")
    PAUSED = "paused", _("暂停")
    RETIRED = "retired", _("报废")


class VersionStatus(models.TextChoices):
    DRAFT = "draft", _("拟稿")
    REVIEW = "review", _("待审核")
    PUBLISHED = "published", _("已发布")


class StepKind(models.TextChoices):
    SINGLE = "single", _("单一办理")
    COUNTERSIGN = "countersign", _("会签（多单位并行）")
    SERIAL = "serial", _("串行（依次办理）")
    SPLIT = "split", _("并行分支")
    JOIN = "join", _("并行汇聚")
    END = "end", _("结束")


class DispatchMode(models.TextChoices):
    NONE = "", _("—")
    AUTO_REALTIME = "auto_realtime", _("自动实时")
    AUTO_SCHEDULED = "auto_scheduled", _("自动定时")
    MANUAL = "manual", _("人工")


class LimitUnit(models.TextChoices):
    WORKDAYS = "workdays", _("工作日")
    HOURS = "hours", _("工作小时")  # on the working-day calendar's office hours, as the sla rules count them


class UnitLevel(models.TextChoices):
    ANY = "", _("不限")
    OFFICE = "office", _("热线办")
    BUREAU = "bureau", _("职能局")
    DISTRICT = "district", _("区县")
    STREET = "street", _("街道乡镇")
    COMMUNITY = "community", _("社区村居")


class FlowTemplate(models.Model):
    code = models.SlugField(_("模板编号"), max_length=40, unique=True)
    name = models.CharField(_("模板名称"), max_length=100)
    description = models.TextField(_("说明"), blank=True)
    # Selection rules: an empty list matches every case; codes, so that a template exports between cities.
    case_types = models.JSONField(_("适用诉求类型"), default=list, blank=True)
    bureaus = models.JSONField(_("适用职能局"), default=list, blank=True)
    channels = models.JSONField(_("适用渠道"), default=list, blank=True)
    valid_from = models.DateField(_("生效日期"), null=True, blank=True)
    valid_to = models.DateField(_("失效日期"), null=True, blank=True)
    priority = models.IntegerField(_("优先级"), default=0, help_text=_("多个模板适用时取优先级高者"))
    status = models.CharField(
        _("状态"), max_length=16, choices=TemplateStatus.choices, default=TemplateStatus.ACTIVE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("创建人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(_("创建时间"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("流程模板")
        verbose_name_plural = _("流程模板")
        ordering = ["-priority", "code"]

    def __str__(self) -> str:
        return f"{self.name}（{self.code}）"


class FlowVersion(models.Model):
    template = models.ForeignKey(
        FlowTemplate, verbose_name=_("流程模板"), related_name="versions", on_delete=models.PROTECT
    )
    number = models.PositiveIntegerField(_("版本号"))
    status = models.CharField(
        _("状态"), max_length=16, choices=VersionStatus.choices, default=VersionStatus.DRAFT
    )
    note = models.CharField(_("版本说明"), max_length=200, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("拟稿人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    created_at = models.DateTimeField(_("拟稿时间"))
    submitted_at = models.DateTimeField(_("提交审核时间"), null=True, blank=True)
    review_note = models.CharField(_("审核意见"), max_length=200, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("发布人"),
        null=True,
        blank=True,
        related_name="+",
        on_delete=models.SET_NULL,
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    # SHA-256 of the published definition: the key under which processes cache it (it never changes after).
    digest = models.CharField(_("摘要"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("流程模板版本")
        verbose_name_plural = _("流程模板版本")
        ordering = ["template", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["template", "number"], name="flows_version_unique_number")
        ]
        indexes = [models.Index(fields=["status", "template"], name="flows_version_status")]

    def __str__(self) -> str:
        return f"{self.template.name} v{self.number}"

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.PUBLISHED

    @property
    def is_editable(self) -> bool:
        return self.status == VersionStatus.DRAFT


def _refuse_if_frozen(version_id: int | None) -> None:
    """Published versions never change: their steps and transitions refuse every write."""
    if (
        version_id is not None
        and FlowVersion.objects.filter(pk=version_id, status=VersionStatus.PUBLISHED).exists()
    ):
        raise ServiceError(_("已发布的流程版本不能修改，请新建版本"), code="frozen")


class FrozenWhenPublished(models.Model):
    version_id: int

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        _refuse_if_frozen(self.version_id)
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        _refuse_if_frozen(self.version_id)
        return super().delete(*args, **kwargs)


class FlowStep(FrozenWhenPublished):
    version = models.ForeignKey(
        FlowVersion, verbose_name=_("版本"), related_name="steps", on_delete=models.CASCADE
    )
    code = models.SlugField(_("环节编码"), max_length=40)
    name = models.CharField(_("环节名称"), max_length=60)
    kind = models.CharField(_("环节类型"), max_length=16, choices=StepKind.choices, default=StepKind.SINGLE)
    # The backbone statuses during which the case is at this step (empty for gateways and pure end steps).
    statuses = models.JSONField(_("对应工单状态"), default=list, blank=True)
    roles = models.JSONField(_("办理角色"), default=list, blank=True)
    unit_level = models.CharField(
        _("办理单位层级"), max_length=16, choices=UnitLevel.choices, default=UnitLevel.ANY, blank=True
    )
    limit_amount = models.PositiveIntegerField(_("环节时限"), null=True, blank=True)
    limit_unit = models.CharField(
        _("时限单位"), max_length=16, choices=LimitUnit.choices, default=LimitUnit.WORKDAYS
    )
    dispatch_mode = models.CharField(
        _("调度模式"), max_length=16, choices=DispatchMode.choices, default=DispatchMode.NONE, blank=True
    )
    # A serial step: the unit levels in the order their units act (`definition.StepDef.sequence`).
    sequence = models.JSONField(_("办理顺序"), default=list, blank=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("流程环节")
        verbose_name_plural = _("流程环节")
        ordering = ["version", "order", "id"]
        constraints = [models.UniqueConstraint(fields=["version", "code"], name="flows_step_unique_code")]

    def __str__(self) -> str:
        return self.name


class FlowTransition(FrozenWhenPublished):
    version = models.ForeignKey(
        FlowVersion, verbose_name=_("版本"), related_name="transitions", on_delete=models.CASCADE
    )
    source = models.ForeignKey(
        FlowStep, verbose_name=_("从环节"), related_name="outgoing", on_delete=models.CASCADE
    )
    target = models.ForeignKey(
        FlowStep, verbose_name=_("到环节"), related_name="incoming", on_delete=models.CASCADE
    )
    # The backbone action that takes this transition (blank for a gateway's outgoing branches).
    action = models.CharField(_("操作"), max_length=32, blank=True)
    label = models.CharField(_("流向名称"), max_length=60, blank=True)
    guard = models.CharField(_("控制条件"), max_length=400, blank=True)
    order = models.PositiveSmallIntegerField(_("顺序"), default=0)

    class Meta:
        verbose_name = _("流向")
        verbose_name_plural = _("流向")
        ordering = ["version", "order", "id"]

    def __str__(self) -> str:
        return self.label or self.action


class CaseFlow(models.Model):
    """The flow version a case was created with (FLW-3); a case without a row follows the backbone only."""

    case = models.OneToOneField(
        "cases.Case",
        verbose_name=_("工单"),
        primary_key=True,
        related_name="flow_pin",
        on_delete=models.CASCADE,
    )
    version = models.ForeignKey(
        FlowVersion, verbose_name=_("流程版本"), related_name="cases", on_delete=models.PROTECT
    )
    pinned_at = models.DateTimeField(_("绑定时间"))

    class Meta:
        verbose_name = _("工单流程版本")
        verbose_name_plural = _("工单流程版本")

    def __str__(self) -> str:
        return f"{self.case_id} → {self.version_id}"
