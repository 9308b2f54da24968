"""Each measure's formula on a small hand-built set with known answers (issue 15, first slice)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hotline.analytics import measures as m
from hotline.analytics.measures import Scope
from hotline.cases import services
from hotline.cases.models import (
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Callback,
    CaseEvent,
    CaseStatus,
)
from hotline.common import clock
from hotline.sla.models import Clock, Stage
from hotline.telephony.models import Call, Queue, QueueEvent, QueueLog
from tests.conftest import case_input, dispatched_to, submitted_case

SH = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 11, 23, 10, tzinfo=SH)  # a Monday
BEFORE = START - dt.timedelta(days=40)


def scope(*, unit=None, now=None, days: int = 30) -> Scope:
    return Scope(
        start=START - dt.timedelta(hours=1),
        end=START + dt.timedelta(days=days),
        now=now or START + dt.timedelta(days=days),
        unit=unit,
    )


def main_of(case) -> Assignment:
    return Assignment.objects.get(case=case, role=AssignmentRole.MAIN)


# --------------------------------------------------------------------------- intake, first-contact resolution


def test_intake_volume_by_channel_and_first_contact_resolution(city, people):
    with clock.frozen_now(START):
        submitted_case(city, people)
        submitted_case(city, people)
        submitted_case(city, people, channel="web")
        services.case_intake(actor=people.agent, data=case_input(city), action="archive", answer="已答复政策")
        services.case_intake(actor=people.agent, data=case_input(city), action="save_draft")  # not counted
    with clock.frozen_now(BEFORE):
        submitted_case(city, people)  # before the period
    figure = m.intake_volume(scope())
    assert figure.value == 4
    assert {b["key"]: b["n"] for b in figure.breakdown} == {"phone": 3, "web": 1}
    fcr = m.first_contact_resolution(scope())
    assert (fcr.numerator, fcr.denominator, fcr.value) == (1, 4, 25.0)
    # a unit scope counts only the cases given to the unit; first-contact resolution has no unit side
    assert m.intake_volume(scope(unit=city.east)).value == 0
    assert not m.first_contact_resolution(scope(unit=city.east)).applicable


def test_rates_over_nothing_are_empty_not_zero(city, people):
    for compute in (m.first_contact_resolution, m.on_time_sign_for, m.on_time_completion, m.redo_rate):
        figure = compute(scope())
        assert (figure.value, figure.numerator, figure.denominator) == (None, 0, 0)
    assert m.intake_volume(scope()).value == 0


# --------------------------------------------------------------------------- sign-for and completion


def sign_clock(case) -> Clock:
    return Clock.objects.get(assignment=main_of(case), stage=Stage.SIGN_FOR)


def test_on_time_sign_for_counts_decided_clocks_only(city, people):
    with clock.frozen_now(START):
        in_time, late, unsigned, withdrawn = (dispatched_to(city, people, city.east) for _ in range(4))
    due = sign_clock(in_time).due_at
    with clock.frozen_now(due - dt.timedelta(minutes=5)):
        services.assignment_sign_for(assignment=main_of(in_time), actor=people.east, expected_version=None)
    with clock.frozen_now(due + dt.timedelta(hours=2)):
        services.assignment_sign_for(assignment=main_of(late), actor=people.east, expected_version=None)
    Clock.objects.filter(pk=sign_clock(withdrawn).pk).update(stopped_at=START + dt.timedelta(minutes=1))
    # before the deadline the unsigned one is not decided yet: 1 of 2
    early = m.on_time_sign_for(scope(now=due - dt.timedelta(minutes=1)))
    assert (early.numerator, early.denominator) == (1, 2)
    # past the deadline it counts as late; the withdrawn one never counts: 1 of 3
    after = m.on_time_sign_for(scope(now=due + dt.timedelta(days=1)))
    assert (after.numerator, after.denominator, after.value) == (1, 3, 33.3)
    assert m.on_time_sign_for(scope(unit=city.west)).denominator == 0
    assert m.on_time_sign_for(scope(unit=city.east)).denominator == 3


def test_on_time_completion_by_deadline_of_reports_in_the_period(city, people):
    with clock.frozen_now(START):
        cases = [dispatched_to(city, people, city.east) for _ in range(4)]
        other = dispatched_to(city, people, city.west)
    in_time, late, no_deadline, still_handling = (main_of(c) for c in cases)
    deadline = START + dt.timedelta(days=5)
    report = {"status": AssignmentStatus.REPORTED, "due_at": deadline}
    Assignment.objects.filter(pk=in_time.pk).update(
        **report, finished_at=deadline
    )  # at the deadline: on time
    Assignment.objects.filter(pk=late.pk).update(**report, finished_at=deadline + dt.timedelta(seconds=1))
    Assignment.objects.filter(pk=no_deadline.pk).update(
        status=AssignmentStatus.REPORTED, due_at=None, finished_at=START + dt.timedelta(days=1)
    )
    Assignment.objects.filter(pk=still_handling.pk).update(status=AssignmentStatus.HANDLING, due_at=deadline)
    Assignment.objects.filter(pk=main_of(other).pk).update(
        **report, finished_at=deadline + dt.timedelta(days=1)
    )
    everything = m.on_time_completion(scope())
    assert (everything.numerator, everything.denominator, everything.value) == (2, 4, 50.0)
    east = m.on_time_completion(scope(unit=city.east))
    assert (east.numerator, east.denominator) == (2, 3)
    west = m.on_time_completion(scope(unit=city.west))
    assert (west.numerator, west.denominator, west.value) == (0, 1, 0.0)
    # a report after the period is not in it
    assert m.on_time_completion(scope(days=3)).denominator == 1


# --------------------------------------------------------------------------- callbacks: satisfaction and redo


def callback(case, people, rating: str, *, at: dt.datetime, to_status: str) -> None:
    Callback.objects.create(case=case, actor=people.agent, method="phone", rating=rating, created_at=at)
    CaseEvent.objects.create(
        case=case,
        at=at,
        actor=people.agent,
        action="callback",
        from_status=CaseStatus.CALLBACK,
        to_status=to_status,
    )


def test_satisfaction_on_the_five_level_scale_and_redo_rate(city, people):
    with clock.frozen_now(START):
        east = [dispatched_to(city, people, city.east) for _ in range(4)]
        west = dispatched_to(city, people, city.west)
    at = START + dt.timedelta(days=2)
    callback(east[0], people, "very_satisfied", at=at, to_status=CaseStatus.CLOSED)
    callback(east[1], people, "basically_satisfied", at=at, to_status=CaseStatus.CLOSED)
    callback(east[2], people, "dissatisfied", at=at, to_status=CaseStatus.REDO)
    # the redone case is called back again, dissatisfied again: special supervision, then the unit leader's
    # opinion sends it back to be redone; one case, counted once
    callback(
        east[2], people, "very_dissatisfied", at=at + dt.timedelta(days=3), to_status="special_supervision"
    )
    CaseEvent.objects.create(
        case=east[2], at=at + dt.timedelta(days=4), action="supervision_opinion",
        from_status="special_supervision", to_status=CaseStatus.REDO,
    )  # fmt: skip
    callback(west, people, "satisfied", at=at, to_status=CaseStatus.CLOSED)
    callback(east[3], people, "satisfied", at=BEFORE, to_status=CaseStatus.CLOSED)  # before the period
    sat = m.satisfaction(scope())
    assert (sat.numerator, sat.denominator, sat.value) == (3, 5, 60.0)
    sat_east = m.satisfaction(scope(unit=city.east))
    assert (sat_east.numerator, sat_east.denominator) == (2, 4)
    redo = m.redo_rate(scope())
    assert (redo.numerator, redo.denominator, redo.value) == (1, 4, 25.0)
    assert m.redo_rate(scope(unit=city.west)).numerator == 0
    assert m.redo_rate(scope(unit=city.east)).denominator == 3


# --------------------------------------------------------------------------- calls


@pytest.fixture
def queue(db) -> Queue:
    return Queue.objects.create(code="general", name="综合")


def call(queue: Queue, n: int, *, enqueued: dt.datetime | None, answered_after: float | None) -> Call:
    c = Call.objects.create(
        call_id=f"c{n}",
        caller="13800000000",
        dialed="12345",
        queue=queue if enqueued else None,
        started_at=(enqueued or START) - dt.timedelta(seconds=5),
        enqueued_at=enqueued,
        answered_at=enqueued + dt.timedelta(seconds=answered_after) if enqueued and answered_after else None,
    )
    if enqueued:
        QueueLog.objects.create(call=c, queue=queue, event=QueueEvent.ENQUEUE, wait_ms=0, at=enqueued)
        if answered_after is None:
            QueueLog.objects.create(
                call=c, queue=queue, event=QueueEvent.ABANDON, wait_ms=40_000, at=enqueued
            )
        else:
            QueueLog.objects.create(
                call=c, queue=queue, event=QueueEvent.CONNECT, wait_ms=int(answered_after * 1000), at=enqueued
            )
    return c


def test_answer_rate_and_service_levels(queue):
    call(queue, 1, enqueued=START, answered_after=10)
    call(queue, 2, enqueued=START, answered_after=15)  # at 15 s: inside both levels
    call(queue, 3, enqueued=START, answered_after=20)  # at 20 s: inside the 20-second level only
    call(queue, 4, enqueued=START, answered_after=35)
    call(queue, 5, enqueued=START, answered_after=None)  # abandoned
    call(queue, 6, enqueued=None, answered_after=None)  # ended in the IVR: never asked for a person
    call(queue, 7, enqueued=BEFORE, answered_after=5)  # before the period
    answered = m.answer_rate(scope())
    assert (answered.numerator, answered.denominator, answered.value) == (4, 5, 80.0)
    sl15 = m.service_level(15)(scope())
    assert (sl15.numerator, sl15.denominator, sl15.value) == (2, 5, 40.0)
    sl20 = m.service_level(20)(scope())
    assert (sl20.numerator, sl20.denominator, sl20.value) == (3, 5, 60.0)


def test_call_measures_with_no_calls_and_all_abandoned(city, queue):
    assert m.answer_rate(scope()).value is None
    assert m.service_level(20)(scope()).value is None
    for n in range(3):
        call(queue, n, enqueued=START, answered_after=None)
    assert m.answer_rate(scope()).value == 0.0
    assert m.service_level(15)(scope()).value == 0.0
    # calls have no unit side
    assert not m.answer_rate(scope(unit=city.east)).applicable
    assert not m.service_level(20)(scope(unit=city.east)).applicable


def test_registry_has_one_definition_per_key():
    keys = [x.key for x in m.MEASURES]
    assert len(keys) == len(set(keys))
    for key in (
        "intake_volume", "answer_rate", "service_level_15", "service_level_20", "first_contact_resolution",
        "on_time_sign_for", "on_time_completion", "redo_rate", "satisfaction",
    ):  # fmt: skip
        measure = m.measure(key)
        assert str(measure.formula) and str(measure.name)


def test_sla_alerts_count_the_sweeps_warnings_and_cards_to_the_scopes_units(city, people):
    """KPI-2's warnings received: by hand, one warning and one yellow card to a street of east, a red card to
    west, a reminder (not an alert) and one warning before the period."""
    from hotline.cases.models import CaseEvent

    with clock.frozen_now(START):
        case = dispatched_to(city, people, city.liyuan)
    for unit, action, at in (
        (city.liyuan, "sla_warning", START + dt.timedelta(days=1)),
        (city.liyuan, "sla_yellow", START + dt.timedelta(days=2)),
        (city.west, "sla_red", START + dt.timedelta(days=3)),
        (city.liyuan, "sla_reminder", START + dt.timedelta(days=3)),
        (city.liyuan, "sla_warning", BEFORE),
    ):
        CaseEvent.objects.create(case=case, at=at, unit=unit, action=action)
    whole = m.sla_alerts(scope())
    assert whole.value == 3
    assert [(b["key"], b["n"]) for b in whole.breakdown] == [
        ("sla_warning", 1),
        ("sla_yellow", 1),
        ("sla_red", 1),
    ]
    assert m.sla_alerts(scope(unit=city.east)).value == 2  # the street's, through the district's subtree
    assert m.sla_alerts(scope(unit=city.liyuan)).value == 2
    assert m.sla_alerts(scope(unit=city.west)).value == 1
    assert m.sla_alerts(scope(unit=city.guanshan)).value == 0
    assert m.measure("sla_alerts").formula
