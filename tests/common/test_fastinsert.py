"""`common.fastinsert` writes the rows the ORM writes (issue 12: the intake's hot inserts with their SQL compiled
once per process). Each model written on every create is inserted both ways from the same values and the two rows
are compared column by column, as stored; run on SQLite and on PostgreSQL (DATABASE_URL)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.db.models.expressions import DatabaseDefault
from django.db.models.signals import post_save, pre_save
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from hotline.cases.models import Case, CaseEvent
from hotline.citizens.models import Citizen
from hotline.common import fastinsert
from hotline.common.audit import current_ip
from hotline.common.fastinsert import fast_insert, fast_insert_many
from hotline.common.models import AuditLog
from hotline.sla.models import Clock
from tests.conftest import submitted_case

NOW = dt.datetime(2026, 12, 7, 9, 30, 15, 123456, tzinfo=dt.UTC)


@pytest.fixture
def fixed_now(monkeypatch: pytest.MonkeyPatch) -> dt.datetime:
    """auto_now / auto_now_add read django.utils.timezone.now: the same instant for both writes."""
    monkeypatch.setattr(timezone, "now", lambda: NOW)
    return NOW


def _stored(model: Any, pk: Any) -> dict[str, Any]:
    """The row as the database holds it (no ORM converters), without its primary key."""
    table = connection.ops.quote_name(model._meta.db_table)
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {table} WHERE {pk_column} = %s", [pk])  # noqa: S608
        names = [c[0] for c in cursor.description]
        (row,) = cursor.fetchall()
    return {name: value for name, value in zip(names, row, strict=True) if name != model._meta.pk.column}


def _case_values(case: Case) -> dict[str, Any]:
    return {
        f.attname: getattr(case, f.attname)
        for f in Case._meta.concrete_fields
        if f is not Case._meta.pk and f.name != "number"
    }


def test_case_row_equals_save(city: Any, people: Any, fixed_now: dt.datetime) -> None:
    source = submitted_case(city, people)
    values = _case_values(source)
    values["extra"] = {"门牌": "12栋", "n": 3, "list": [1, "二"]}
    orm = Case(number="ORM-1", **values)
    orm.save(force_insert=True)
    fast = Case(number="FAST-1", **values)
    fast_insert(fast)
    assert fast.pk is not None and fast.pk != orm.pk
    assert (fast._state.adding, fast._state.db) == (orm._state.adding, orm._state.db) == (False, "default")
    assert {**_stored(Case, fast.pk), "number": ""} == {**_stored(Case, orm.pk), "number": ""}
    assert Case.objects.get(pk=fast.pk).extra == values["extra"]
    # The instance holds what save() leaves on it (auto_now set, pk returned).
    assert fast.updated_at == orm.updated_at == NOW


def test_second_insert_reuses_the_compiled_statement(city: Any, people: Any) -> None:
    values = _case_values(submitted_case(city, people))
    fast_insert(Case(number="FAST-A", **values))
    compiled = len(fastinsert._PLANS)
    with CaptureQueriesContext(connection) as queries:
        second = Case(number="FAST-B", **{**values, "title": "另一个标题"})
        fast_insert(second)
    assert len(fastinsert._PLANS) == compiled
    assert len(queries) == 1 and queries[0]["sql"].startswith("INSERT INTO")
    assert Case.objects.get(pk=second.pk).title == "另一个标题"
    assert Case.objects.get(pk=second.pk).number == "FAST-B"


def test_events_many_rows_equal_bulk_create(city: Any, people: Any) -> None:
    case = submitted_case(city, people)
    queued = CaseEvent._meta.get_field("queued")

    def events(opinion: str, *, db_default: bool = False) -> list[CaseEvent]:
        rows = [
            CaseEvent(
                case=case,
                at=NOW + dt.timedelta(seconds=i),
                actor=people.agent,
                unit_id=people.agent.unit_id,
                action="submit",
                from_status="draft" if i else "",
                to_status="submitted",
                opinion=f"{opinion}{i}",
                data={"意见": opinion, "i": i},
                queued=bool(i),
            )
            for i in range(2)
        ]
        if db_default:  # a field left at its database default (DEFAULT on PostgreSQL)
            rows[0].queued = DatabaseDefault(queued._db_default_expression, output_field=queued)
        return rows

    for db_default in (False, True):
        orm, fast = events("甲", db_default=db_default), events("甲", db_default=db_default)
        CaseEvent.objects.bulk_create(orm)
        fast_insert_many(fast)
        for a, b in zip(orm, fast, strict=True):
            assert b.pk is not None and b.pk != a.pk
            assert not b._state.adding and b._state.db == "default"
            assert _stored(CaseEvent, a.pk) == _stored(CaseEvent, b.pk)
            if db_default and connection.features.can_return_columns_from_insert:
                assert a.queued == b.queued  # returned by the database, converted as the ORM does
        # one at a time too (save())
        one_orm, one_fast = events("乙", db_default=db_default)[0], events("乙", db_default=db_default)[0]
        one_orm.save()
        fast_insert(one_fast)
        assert _stored(CaseEvent, one_orm.pk) == _stored(CaseEvent, one_fast.pk)
        assert one_orm.queued == one_fast.queued


def test_audit_rows_equal_bulk_create(people: Any, fixed_now: dt.datetime) -> None:
    token = current_ip.set("10.1.2.3")
    try:

        def rows() -> list[AuditLog]:
            return [
                AuditLog(
                    actor=people.agent if i else None,
                    action="update",
                    object_type="cases.case",
                    object_id=str(i),
                    summary=f"2026120700000{i} 提交",
                    changes={"fields": ["name", "电话"]} if i else {},
                    ip_address=current_ip.get(),
                )
                for i in range(3)
            ]

        orm, fast = rows(), rows()
        AuditLog.objects.bulk_create(orm)
        fast_insert_many(fast)
    finally:
        current_ip.reset(token)
    for a, b in zip(orm, fast, strict=True):
        assert b.pk is not None and b.at == NOW
        assert _stored(AuditLog, a.pk) == _stored(AuditLog, b.pk)


def test_clock_and_citizen_rows_equal_create(city: Any, people: Any, fixed_now: dt.datetime) -> None:
    case = submitted_case(city, people)
    values = {
        "case": case,
        "unit_id": city.housing.pk,
        "stage": "total",
        "started_at": NOW,
        "due_at": NOW + dt.timedelta(days=5),
        "warn_at": NOW + dt.timedelta(days=4),
        "red_at": None,
        "remind_at": NOW + dt.timedelta(days=3, hours=2),
        "next_alert_at": NOW + dt.timedelta(days=3, hours=2),
        "max_due_at": NOW + dt.timedelta(days=20),
    }
    orm = Clock.objects.create(**values)
    fast = Clock(**values)
    fast_insert(fast)
    assert _stored(Clock, orm.pk) == _stored(Clock, fast.pk)
    # A model whose auto_now field also has a db_default (citizens.updated_at): the value, not DEFAULT.
    profile = {"name": "王女士", "gender": "女", "address": "梨园街道幸福社区12栋"}
    orm_citizen = Citizen.objects.create(phone="13800000001", **profile)
    fast_citizen = Citizen(phone="13800000001", **profile)
    fast_insert(fast_citizen)
    assert {**_stored(Citizen, orm_citizen.pk)} == {**_stored(Citizen, fast_citizen.pk)}
    assert fast_citizen.updated_at == NOW


def test_refusals_and_errors(city: Any, people: Any) -> None:
    values = _case_values(submitted_case(city, people))
    with pytest.raises(TypeError, match="expression"):
        fast_insert(Case(number="X-1", **{**values, "version": F("version")}))
    with pytest.raises(TypeError, match="one model"):
        fast_insert_many([Case(number="X-2", **values), Clock(case_id=1, stage="total")])
    # A failing insert inside a transaction marks it for rollback, as save() does.
    existing = Case.objects.values_list("number", flat=True).first()
    with transaction.atomic():
        with pytest.raises(IntegrityError):
            fast_insert(Case(number=existing, **values))
        assert connection.needs_rollback  # the block rolls back (to its savepoint) at its end


@pytest.mark.parametrize("model", [Case, AuditLog, Clock])
def test_no_save_signal_receivers_to_skip(model: Any) -> None:
    """fast_insert sends no save signals: the models it writes must have no receivers (CaseEvent's post_save is
    sent by cases.services.core._events_together itself)."""
    assert not pre_save.has_listeners(model)
    assert not post_save.has_listeners(model)
