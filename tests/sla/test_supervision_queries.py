"""The supervision figures at scale: a late clock is found through its own yellow card (issue 11, item 20)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import connection
from django.test.utils import CaptureQueriesContext

from hotline.cases.models import Assignment, AssignmentRole
from hotline.common import clock
from hotline.sla import selectors
from hotline.sla.models import Alert, AlertKind, Clock, Stage
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
    Clock.objects.filter(pk=stopped_late.pk).update(stopped_at=stopped_late.due_at + dt.timedelta(hours=1))
    Clock.objects.filter(pk=stopped_in_time.pk).update(
        stopped_at=stopped_in_time.due_at - dt.timedelta(hours=1)
    )
    for c in (running_carded, stopped_in_time):  # a card on a clock stopped in time does not make it late
        Alert.objects.create(
            clock=c, kind=AlertKind.YELLOW, case_id=c.case_id, unit=city.east, raised_at=c.due_at, run_id="t"
        )
    Alert.objects.create(  # a warning is not a yellow card
        clock=running_clean, kind=AlertKind.WARNING, case_id=running_clean.case_id, unit=city.east,
        raised_at=START, run_id="t",
    )  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        rows = selectors.time_limit_supervision(user=people.dispatcher, period=PERIOD)
    east = next(r for r in rows if r["unit"] == city.east.pk)
    assert east["replied_late"] == 2
    late_sql = [q["sql"] for q in queries.captured_queries if '"sla_clock"' in q["sql"]]
    # the clock's own yellow card joined (hashable), not `IN (every yellow card)`
    assert late_sql and all(
        'LEFT OUTER JOIN "sla_alert"' in sql and " IN (SELECT" not in sql for sql in late_sql
    )
    assert not any('FROM "orgs_unit"' in sql for sql in late_sql)  # the office sees all: no unit list
    leader_rows = selectors.time_limit_supervision(user=people.east_leader, period=PERIOD)
    assert [r["unit"] for r in leader_rows] == [city.east.pk]
    assert leader_rows[0]["replied_late"] == 2
