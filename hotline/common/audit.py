"""Writing the audit log. Call inside the service's transaction so the row commits with the change."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from contextvars import ContextVar
from typing import Any

from django.db import models

from .fastinsert import fast_insert_many
from .models import AuditLog

# Set by RequestContextMiddleware for the duration of every request (pages, API, admin) so services need not pass
# it around: always a valid IP address or None (the column is `inet` on PostgreSQL).
current_ip: ContextVar[str | None] = ContextVar("current_ip", default=None)


_together: ContextVar[list[AuditLog] | None] = ContextVar("audit_together", default=None)


def audit_record(
    *,
    actor: Any,
    action: str,
    obj: models.Model,
    summary: str = "",
    changes: dict[str, Any] | None = None,
) -> AuditLog:
    row = audit_row(actor=actor, action=action, obj=obj, summary=summary, changes=changes)
    audit_write([row])
    return row


def audit_write(rows: Sequence[AuditLog]) -> None:
    """Insert `rows` (`audit_row`'s) now, or at the end of the enclosing `audit_together` block."""
    pending = _together.get()
    if pending is not None:
        pending.extend(rows)
    elif len(rows) == 1:
        rows[0].save()
    elif rows:
        AuditLog.objects.bulk_create(rows)


@contextlib.contextmanager
def audit_together() -> Iterator[None]:
    """The audit rows written inside the block (`audit_record`, `audit_write`) are inserted together when it ends
    without an error, one statement, in the order they were made (a service that writes several rows in one
    transaction, e.g. an intake: the citizen's row and the case's). Call inside the transaction, which commits
    after the block; nothing inside may read the rows back. A block inside another adds to the outer one."""
    if _together.get() is not None:
        yield
        return
    rows: list[AuditLog] = []
    token = _together.set(rows)
    try:
        yield
    finally:
        _together.reset(token)
    if rows:
        fast_insert_many(rows)  # AuditLog.objects.bulk_create(rows), its SQL compiled once per process


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
