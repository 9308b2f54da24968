"""The audit log is append-only in the database: bulk update/delete and raw statements are refused (SQLite and
PostgreSQL triggers), while writing new rows works."""

from __future__ import annotations

import pytest
from django.db import DatabaseError, connection, transaction

from hotline.common.models import AuditLog

pytestmark = pytest.mark.django_db


def rows(city) -> int:
    count = AuditLog.objects.count()
    assert count > 0  # creating the city's units wrote audit rows
    return count


def test_bulk_update_is_refused(city):
    before = rows(city)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditLog.objects.all().update(summary="改写")
    assert AuditLog.objects.count() == before and not AuditLog.objects.filter(summary="改写").exists()


def test_bulk_delete_is_refused(city):
    before = rows(city)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditLog.objects.all().delete()
    assert AuditLog.objects.count() == before


def test_raw_sql_is_refused(city):
    rows(city)
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE common_auditlog SET summary = 'x'")
    with (
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("DELETE FROM common_auditlog")


@pytest.mark.django_db(transaction=True)
def test_flushing_the_database_still_works_and_keeps_the_guard(city):
    """Transactional tests flush the database between tests; the triggers must survive a flush."""
    from django.core.management import call_command

    call_command("flush", "--no-input", verbosity=0)
    assert AuditLog.objects.count() == 0
    AuditLog.objects.create(action="view", object_type="x", object_id="1")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        AuditLog.objects.all().delete()
