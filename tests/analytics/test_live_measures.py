"""The live measures (the state now: open, due today, overdue, a unit's work) and the home panels that show them
(issue 15: one definition per figure; the overview's satisfaction is the satisfaction measure)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hotline.analytics import home
from hotline.analytics import measures as m
from hotline.analytics.measures import Scope
from hotline.cases.models import Assignment, AssignmentRole, Callback, Case, CaseStatus
from hotline.common import clock
from hotline.sla.models import Clock, Stage
from tests.conftest import dispatched_to

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 25, 10, tzinfo=SH)


def live(unit=None, now=NOW) -> Scope:
    return Scope(start=now - dt.timedelta(days=30), end=now + dt.timedelta(seconds=1), now=now, unit=unit)


def test_open_due_today_overdue_by_unit_and_subtree(city, people):
    with clock.frozen_now(NOW - dt.timedelta(days=2)):
        a = dispatched_to(city, people, city.liyuan)
        b = dispatched_to(city, people, city.liyuan, (city.guanshan, AssignmentRole.ASSISTING))
        c = dispatched_to(city, people, city.west)
        d = dispatched_to(city, people, city.west)
    Case.objects.filter(pk=a.pk).update(due_at=NOW + dt.timedelta(hours=3))  # due later today
    Case.objects.filter(pk=b.pk).update(due_at=NOW + dt.timedelta(days=3))
    Case.objects.filter(pk=c.pk).update(due_at=NOW - dt.timedelta(hours=1))  # overdue now
    Case.objects.filter(pk=d.pk).update(status=CaseStatus.CLOSED, closed_at=NOW - dt.timedelta(hours=1))
    assert m.open_cases(live()).value == 3
    assert m.due_today(live()).value == 1
    assert m.overdue_cases(live()).value == 1
    assert m.closed_cases(live()).value == 1
    rows = {r["name"]: r for r in m.open_by_unit(live()).breakdown}
    assert (rows[city.liyuan.name]["n"], rows[city.liyuan.name]["due_today"]) == (2, 1)
    assert rows[city.guanshan.name]["n"] == 1  # assisting counts for the assisting unit
    assert (rows[city.west.name]["n"], rows[city.west.name]["overdue"]) == (1, 1)
    # A district sees its subtree only: east's board has liyuan and guanshan, not west.
    east = m.open_by_unit(live(unit=city.east))
    assert {r["name"] for r in east.breakdown} == {city.liyuan.name, city.guanshan.name}
    assert m.open_cases(live(unit=city.east)).value == 2
    assert m.overdue_cases(live(unit=city.east)).value == 0
    assert m.open_cases(live(unit=city.west)).value == 1
    # just after local midnight "due today" is a new day: a is no longer due today, now overdue
    tomorrow = live(now=dt.datetime(2026, 11, 26, 0, 5, tzinfo=SH))
    assert m.due_today(tomorrow).value == 0
    assert m.overdue_cases(tomorrow).value == 2


def test_unit_figures_are_the_units_own_work(city, people):
    with clock.frozen_now(NOW - dt.timedelta(days=2)):
        dispatched_to(city, people, city.liyuan)
        dispatched_to(city, people, city.xingfu)  # a sub-unit: not liyuan's own work
    with clock.frozen_now(NOW):
        figures = home.unit_figures(user=people.liyuan)
    assert figures["to_sign"] == 1
    assert figures["handling"] == 0
    assert figures["finished_30d"] == 0
    main = Assignment.objects.get(unit=city.liyuan, role=AssignmentRole.MAIN)
    sign_for = Clock.objects.get(assignment=main, stage=Stage.SIGN_FOR, stopped_at__isnull=True)
    with clock.frozen_now(sign_for.due_at - dt.timedelta(minutes=1)):
        assert home.unit_figures(user=people.liyuan)["overdue"] == 0
    with clock.frozen_now(sign_for.due_at + dt.timedelta(minutes=1)):
        assert home.unit_figures(user=people.liyuan)["overdue"] == 1


def test_overview_satisfaction_is_the_satisfaction_measure(city, people):
    with clock.frozen_now(NOW - dt.timedelta(days=2)):
        cases = [dispatched_to(city, people, city.liyuan) for _ in range(3)]
    for case, rating in zip(cases, ("satisfied", "dissatisfied", "very_satisfied"), strict=True):
        Callback.objects.create(
            case=case,
            actor=people.agent,
            method="phone",
            rating=rating,
            created_at=NOW - dt.timedelta(days=1),
        )
    with clock.frozen_now(NOW):
        overview = home.overview(user=people.leader)
    assert overview["satisfaction_pct"] == m.satisfaction(live()).value == 66.7
    assert overview["open"] == 3


def test_average_wait_and_talk_by_queue(people):
    from hotline.telephony.models import Call, CallStatus, Queue, QueueEvent, QueueLog

    a, b = Queue.objects.create(code="a", name="A"), Queue.objects.create(code="b", name="B")
    for i, (queue, wait, talk) in enumerate(((a, 10, 100), (a, 30, 200), (b, 5, None))):
        start = NOW - dt.timedelta(hours=1, minutes=i)
        call = Call.objects.create(
            call_id=f"w{i}", caller="1", dialed="12345", queue=queue, status=CallStatus.ENDED, started_at=start,
            enqueued_at=start, answered_at=start + dt.timedelta(seconds=wait),
            ended_at=start + dt.timedelta(seconds=wait + talk) if talk else None,
        )  # fmt: skip
        QueueLog.objects.create(
            call=call, queue=queue, event=QueueEvent.CONNECT, wait_ms=wait * 1000, at=call.answered_at
        )
    wait = m.average_wait(live())
    assert (wait.value, wait.denominator) == (15.0, 3)  # (10 + 30 + 5) / 3
    assert {r["key"]: r["seconds"] for r in wait.breakdown} == {a.pk: 20.0, b.pk: 5.0}
    talk = m.average_talk(live())
    assert (talk.value, talk.denominator) == (150.0, 2)  # the call still talking does not count
    assert {r["key"]: r["seconds"] for r in talk.breakdown} == {a.pk: 150.0}
    assert not m.average_wait(live(unit=people.east.unit)).applicable  # calls have no unit
