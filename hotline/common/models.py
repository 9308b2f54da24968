from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class DictKind(models.TextChoices):
    CASE_TYPE = "case_type", _("诉求类型")
    NATURE = "nature", _("性质分类")
    RETURN_REASON = "return_reason", _("退件原因")
    NOT_ACCEPTED_REASON = "not_accepted_reason", _("不予受理原因")
    URGENCY = "urgency", _("紧急程度")
    SECRECY = "secrecy", _("保密等级")


class DictItem(models.Model):
    """One entry of an admin-editable dictionary. `code` is stable; `name` is what people read."""

    kind = models.CharField(_("字典"), max_length=32, choices=DictKind.choices)
    code = models.CharField(_("编码"), max_length=32)
    name = models.CharField(_("名称"), max_length=64)
    sort_order = models.PositiveIntegerField(_("排序"), default=0)
    # Larger rank = more urgent / more secret; lets code compare levels without knowing names.
    rank = models.PositiveSmallIntegerField(_("级别"), default=0)
    is_active = models.BooleanField(_("启用"), default=True)

    class Meta:
        verbose_name = _("字典项")
        verbose_name_plural = _("字典项")
        ordering = ["kind", "sort_order", "id"]
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="dictitem_kind_code_unique")]

    def __str__(self) -> str:
        return self.name


class AuditLog(models.Model):
    """Append-only: who did what, when, from where, to which record (including views of personal data)."""

    class Action(models.TextChoices):
        CREATE = "create", _("新增")
        UPDATE = "update", _("修改")
        DELETE = "delete", _("删除")
        VIEW = "view", _("查看")
        LOGIN = "login", _("登录")

    at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True, on_delete=models.PROTECT
    )
    action = models.CharField(_("操作"), max_length=16, choices=Action.choices)
    object_type = models.CharField(_("对象类型"), max_length=64)
    object_id = models.CharField(_("对象编号"), max_length=64)
    summary = models.CharField(_("摘要"), max_length=255, blank=True)
    changes = models.JSONField(_("内容"), default=dict, blank=True)
    ip_address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id"], name="audit_object_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_id} {self.action} {self.object_type}#{self.object_id}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            raise PermissionError("audit log rows are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise PermissionError("audit log rows are append-only")
