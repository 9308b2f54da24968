"""Writing the audit log. Call inside the service's transaction so the row commits with the change."""

from __future__ import annotations

from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

from django.db import models

from .models import AuditLog

# Set by RequestContextMiddleware for the duration of every request (pages, API, admin) so services need not pass
# it around: always a valid IP address or None (the column is `inet` on PostgreSQL).
current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    summary: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    row = audit_row(actor=actor, action=action, obj=obj, summary=summary, changes=changes)
    row.save()
    return row


def audit_row(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    summary: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    """The row `audit_record` writes, not yet saved: for a caller writing several at once (`bulk_create`)."""
    return AuditLog(
        actor=actor if getattr(actor, "pk", None) else None,
        action=action,
        object_type=obj._meta.label_lower,
        object_id=str(obj.pk),
        summary=summary[:255],
        changes=changes or {},
        ip_address=current_ip.get(),
    )


def audit_access(
    *,
    actor: Any,
    object_type: str,
    summary: str,
    filters: Mapping[str, Any] | None = None,
    rows: int = 0,
    object_id: str = "",
) -> AuditLog:
    """ORG-3/ORG-4: a view, export or print of personal data that is not one record: who, which filter, how many
    rows. (`audit_record` is for one record.)"""
    return AuditLog.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        action=AuditLog.Action.VIEW,
        object_type=object_type,
        object_id=object_id[:64],
        summary=summary[:255],
        changes={"filter": {k: str(v)[:200] for k, v in (filters or {}).items()}, "rows": rows},
        ip_address=current_ip.get(),
    )
