"""Saving, sharing and deleting cross-tab reports; which saved reports a user may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _
from rest_framework import serializers

from hotline.common import clock
from hotline.common.audit import audit_record
from hotline.common.errors import NotFound
from hotline.common.models import AuditLog
from hotline.orgs.models import User

from ..crosstab import engine
from .models import SavedReport


def visible_reports(*, user: User) -> QuerySet[SavedReport]:
    """The user's own reports and those shared with the user's unit."""
    shared = Q(shared=True, unit_id=user.unit_id) if user.unit_id else Q(pk__in=[])
    return SavedReport.objects.filter(Q(owner=user) | shared).select_related("owner")


def report_get(*, user: User, pk: int) -> SavedReport:
    report = visible_reports(user=user).filter(pk=pk).first()
    if report is None:
        raise NotFound(_("报表不存在"))
    return report


def report_save(*, user: User, name: str, shared: bool, params: Any) -> SavedReport:
    """Validate the parameters as a run would (400 / 404 alike) and keep their normalized form."""
    name = (name or "").strip()
    if not name:
        raise serializers.ValidationError({"name": [_("请填写报表名称")]})
    if len(name) > 100:
        raise serializers.ValidationError({"name": [_("报表名称不能超过100字")]})
    spec = engine.parse(params, user=user)
    now = clock.now()
    report = SavedReport.objects.create(
        name=name,
        owner=user,
        unit=user.unit,
        shared=shared,
        params=spec.params,
        created_at=now,
        updated_at=now,
    )
    audit_record(actor=user, action=AuditLog.Action.CREATE, obj=report, summary=f"保存自定义报表 {name}")
    return report


def report_delete(*, user: User, report: SavedReport) -> None:
    if report.owner_id != user.pk:
        raise NotFound(_("报表不存在"))
    audit_record(
        actor=user, action=AuditLog.Action.DELETE, obj=report, summary=f"删除自定义报表 {report.name}"
    )
    report.delete()
