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
