"""The supervision figures at scale (issue 11, item 20): a late clock is found from the clock alone — its unit and
the moment of its yellow card are on it, set by the sweep as it raises the card."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import connection
from django.test.utils import CaptureQueriesContext

from hotline.cases.models import Assignment, AssignmentRole
from hotline.common import clock
from hotline.sla import selectors
from hotline.sla.models import Alert, AlertKind, Clock, Stage
from hotline.sla.sweep import sweep
from tests.conftest import dispatched_to

SH = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 11, 23, 10, tzinfo=SH)
PERIOD = selectors.Period(START - dt.timedelta(days=1), START + dt.timedelta(days=30))


def reply_clock(case) -> Clock:
    main = Assignment.objects.get(case=case, role=AssignmentRole.MAIN)
    return Clock.objects.get(assignment=main, stage=Stage.REPLY)


def test_late_replies_count_stopped_late_and_running_with_a_yellow_card(city, people):
    with clock.frozen_now(START):
        cases = [dispatched_to(city, people, city.east) for _ in range(4)]
    stopped_late, running_carded, running_clean, stopped_in_time = (reply_clock(c) for c in cases)
    assert {c.unit_id for c in (stopped_late, running_carded)} == {city.east.pk}  # copied from the assignment
    # the real sweep cards the running clocks (one working day past the deadline) ...
    with clock.frozen_now(running_carded.due_at + dt.timedelta(hours=1)):
        sweep()
    running_carded.refresh_from_db()
    assert running_carded.yellow_at is not None
    assert Alert.objects.filter(
        clock=running_carded, kind=AlertKind.YELLOW, raised_at=running_carded.yellow_at
    )
    # ... then one was stopped late and one stopped in time (a card on a clock stopped in time does not make it
    # late); another never got its card (say its yellow rule was off then).
    Clock.objects.filter(pk=stopped_late.pk).update(
        stopped_at=stopped_late.due_at + dt.timedelta(hours=1), yellow_at=None
    )
    Clock.objects.filter(pk=stopped_in_time.pk).update(
        stopped_at=stopped_in_time.due_at - dt.timedelta(hours=1)
    )
    Clock.objects.filter(pk=running_clean.pk).update(yellow_at=None)
    Alert.objects.filter(clock=running_clean).exclude(kind=AlertKind.WARNING).delete()
    with CaptureQueriesContext(connection) as queries:
        rows = selectors.time_limit_supervision(user=people.dispatcher, period=PERIOD)
    east = next(r for r in rows if r["unit"] == city.east.pk)
    assert east["replied_late"] == 2
    late_sql = [q["sql"] for q in queries.captured_queries if '"sla_clock"' in q["sql"]]
    # the clock alone: no join of the cards nor of the assignments (a million of each at scale)
    assert late_sql and all(" JOIN " not in sql and "sla_alert" not in sql for sql in late_sql)
    assert not any('FROM "orgs_unit"' in sql for sql in late_sql)  # the office sees all: no unit list
    leader_rows = selectors.time_limit_supervision(user=people.east_leader, period=PERIOD)
    assert [r["unit"] for r in leader_rows] == [city.east.pk]
    assert leader_rows[0]["replied_late"] == 2


def test_the_card_ledger_counts_from_the_alerts_alone(city, people):
    with clock.frozen_now(START):
        case = dispatched_to(city, people, city.east)
    carded = reply_clock(case)
    with clock.frozen_now(carded.due_at + dt.timedelta(hours=1)):
        sweep()
    with CaptureQueriesContext(connection) as queries:
        rows = selectors.card_ledger(user=people.dispatcher, period=PERIOD)
    east = next(r for r in rows if r["unit"] == city.east.pk)
    assert east["yellow"] == Alert.objects.filter(unit=city.east, kind=AlertKind.YELLOW).count() >= 1
    ledger_sql = [q["sql"] for q in queries.captured_queries if '"sla_alert"' in q["sql"]]
    assert ledger_sql and all(" JOIN " not in sql for sql in ledger_sql)
