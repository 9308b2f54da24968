"""On PostgreSQL a sweep's batch stays in SQL (alerts, timeline events, overdue flags and messages rendered there,
issue 11 item 20): it must write exactly what the Python path writes, text for text."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from hotline.cases.models import Case, CaseEvent, OverdueMark
from hotline.common import clock
from hotline.common.models import AuditLog
from hotline.notify.models import AudienceMember, MessageTemplate, Outbox
from hotline.sla import sweep as sweep_module
from hotline.sla.models import Alert, Clock
from hotline.sla.sweep import sweep
from tests.conftest import dispatched_to

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL path is PostgreSQL's")

SH = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 2, 12, 9, tzinfo=SH)  # reply due 26 Feb 09:00 across the spring festival
MOMENTS = [
    dt.datetime(2026, 2, 20, 9, tzinfo=SH),  # reminders
    dt.datetime(2026, 2, 25, 9, 1, tzinfo=SH),  # warnings
    dt.datetime(2026, 3, 2, 9, 1, tzinfo=SH),  # yellow and red cards
]


def written(audits_after: int = 0) -> dict[str, object]:
    outbox = sorted(
        Outbox.objects.values_list(
            "recipient_id", "audience_id", "channel", "address", "template", "subject", "body", "link",
            "next_attempt_at", "status", "sent_at", "delivered_at",
        )
    )  # fmt: skip
    members = sorted(AudienceMember.objects.values_list("audience_id", "user_id", "channel", "address"))
    events = sorted(
        CaseEvent.objects.filter(action__startswith="sla_").values_list(
            "case_id", "unit_id", "assignment_id", "action", "from_status", "to_status", "opinion", "at"
        )
    )
    alerts = sorted(Alert.objects.values_list("clock_id", "kind", "case_id", "unit_id", "raised_at"))
    clocks = sorted(Clock.objects.values_list("id", "next_alert_at", "yellow_at"))
    overdue = sorted(OverdueMark.objects.values_list("case_id", "at"))
    # one audit row per batch that flagged cases, listing them
    audits = sorted(
        row["cases"]
        for row in AuditLog.objects.filter(summary="时限到期，标记为超期", id__gt=audits_after).values_list(
            "changes", flat=True
        )
    )
    return {"outbox": outbox, "members": members, "events": events, "alerts": alerts, "clocks": clocks,
            "overdue": overdue, "audits": audits}  # fmt: skip


def run_moments() -> None:
    for moment in MOMENTS:
        with clock.frozen_now(moment):
            sweep(batch_size=3)


def test_the_sql_path_writes_what_the_python_path_writes(city, people, monkeypatch):
    with clock.frozen_now(START):
        cases = [dispatched_to(city, people, unit) for unit in (city.east, city.east, city.west)]
    # the west case is its unit's only one: its notices name it (the east's two share digests)
    Case.objects.filter(pk=cases[2].pk).update(title="路灯不亮 {unit} 100% 'quoted' \\ 完")
    yellow = MessageTemplate.objects.get(code="sla_yellow")
    yellow.body += "{{literal}} {unknown} {title}"
    yellow.save()
    before = {pk: (at, y) for pk, at, y in Clock.objects.values_list("id", "next_alert_at", "yellow_at")}

    run_moments()
    in_sql = written()
    assert len(in_sql["alerts"]) >= 9 and in_sql["outbox"] and in_sql["overdue"]  # type: ignore[arg-type]
    assert {kind for _, kind, *_ in in_sql["alerts"]} == {"reminder", "warning", "yellow", "red"}  # type: ignore[attr-defined]
    bodies = [row[6] for row in in_sql["outbox"] if row[4] == "sla_yellow"]  # type: ignore[attr-defined]
    assert any("{literal} {unknown} 路灯不亮 {unit} 100% 'quoted' \\ 完" in body for body in bodies)

    # the same again through Python: forget what the SQL path wrote, rewind the clocks
    Outbox.objects.all().delete()  # the audiences stay: the same ids are found again
    Alert.objects.all().delete()
    CaseEvent.objects.filter(action__startswith="sla_").delete()
    OverdueMark.objects.all().delete()
    for pk, (at, y) in before.items():
        Clock.objects.filter(pk=pk).update(next_alert_at=at, yellow_at=y)
    calls = {"sql": 0}
    original = sweep_module._record_in_sql

    def counted(*args, **kwargs):
        calls["sql"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "_record_in_sql", counted)
    monkeypatch.setattr(sweep_module.SweepContext, "in_sql", property(lambda self: False))
    audits_before = AuditLog.objects.order_by("-id").values_list("id", flat=True).first() or 0
    run_moments()
    in_python = written(audits_before)
    assert calls["sql"] == 0  # it really took the Python path
    assert in_python == in_sql


def test_a_template_python_must_format_is_rendered_by_python_on_the_sql_path(city, people, monkeypatch):
    """Batches stay in SQL; the notices, one per audience and kind at the end of the sweep, are rendered in
    Python, so a template may use Python's formatting."""
    with clock.frozen_now(START):
        case = dispatched_to(city, people, city.east)
    yellow = MessageTemplate.objects.get(code="sla_yellow")
    yellow.body = "工单{number!r:>20}"
    yellow.save()
    called = {"sql": 0}
    original = sweep_module._record_in_sql

    def counted(*args, **kwargs):
        called["sql"] += 1
        return original(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "_record_in_sql", counted)
    with clock.frozen_now(MOMENTS[-1]):
        sweep()
    assert called["sql"] > 0
    assert Outbox.objects.filter(template="sla_yellow", body="工单" + f"{case.number!r:>20}").exists()
