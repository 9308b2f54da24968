"""Assessment: graded scores from schemes as data, superiors from their subordinates, adjustments with evidence,
improvement notes and replies, scores frozen on publication. Every figure worked out by hand."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hotline.analytics.kpi import services as kpi
from hotline.analytics.kpi.models import AssessmentPeriod, Indicator, Scheme, Score
from hotline.cases.models import Assignment, AssignmentRole, AssignmentStatus, Callback
from hotline.common import clock
from hotline.common.errors import NotFound, ServiceError
from hotline.notify.models import Outbox
from tests.analytics.reports_fixture import RUN_AT, T0, build, main_of
from tests.conftest import dispatched_to

BANDS = [
    {"grade": "A", "min": 90},
    {"grade": "B", "min": 75},
    {"grade": "C", "min": 60},
    {"grade": "D", "min": 0},
]


def scheme(depth: int, *indicators: tuple[str, int, int, int]) -> Scheme:
    s = Scheme.objects.create(name=f"方案{depth}", depth=depth, bands=BANDS)
    for i, (measure, weight, full_at, zero_at) in enumerate(indicators):
        Indicator.objects.create(
            scheme=s, measure=measure, weight=weight, full_at=full_at, zero_at=zero_at, sort_order=i
        )
    return s


def period_of(s: Scheme, people) -> AssessmentPeriod:
    return kpi.period_create(
        user=people.dispatcher,
        scheme=s,
        name="2026年11—12月",
        first_day=dt.date(2026, 11, 1),
        last_day=dt.date(2026, 12, 31),
    )


def by_unit(period) -> dict[str, Score]:
    return {s.unit.name: s for s in Score.objects.filter(period=period).select_related("unit")}


def test_points_grades_and_adjustments_with_evidence(city, people):
    month = build(city, people)
    s = scheme(1, ("on_time_completion", 60, 100, 0), ("redo_rate", 40, 0, 50))
    period = period_of(s, people)
    kpi.adjustment_add(
        period=period,
        user=people.dispatcher,
        unit=city.east,
        kind="bonus",
        points_=Decimal(5),
        reason="表扬件",
        case_number=month.a.number,
    )
    evidence = SimpleUploadedFile("通报.pdf", b"%PDF-1.4 notice", content_type="application/pdf")
    kpi.adjustment_add(
        period=period,
        user=people.dispatcher,
        unit=city.east,
        kind="deduction",
        points_=Decimal("2.5"),
        reason="通报批评",
        evidence=evidence,
    )
    with clock.frozen_now(RUN_AT):
        kpi.compute(period=period, user=people.dispatcher)
    scores = by_unit(period)
    east = scores["东湖区"]
    # completion 1 of 2 → 50 points; redo 1 of 2 = 50 % → 0 points (0 % is full, 50 % is zero)
    assert [d["points"] for d in east.details] == ["50.00", "0.00"]
    assert (
        east.base == Decimal("30.00")
        and east.adjustment == Decimal("2.50")
        and east.total == Decimal("32.50")
    )
    assert east.grade == "D" and east.rank == 1 and east.weight == 2
    # no figure at all: no score, no grade (not a zero)
    assert scores["西湖区"].total is None and scores["西湖区"].grade == ""
    assert "市12345热线办" not in scores
    with pytest.raises(ServiceError) as err:
        kpi.adjustment_add(
            period=period,
            user=people.dispatcher,
            unit=city.east,
            kind="bonus",
            points_=Decimal(1),
            reason="无佐证",
        )
    assert "evidence" in err.value.field_errors
    with pytest.raises(NotFound):  # only the office enters them
        kpi.adjustment_add(
            period=period,
            user=people.east_leader,
            unit=city.east,
            kind="bonus",
            points_=Decimal(1),
            reason="自评",
            case_number=month.a.number,
        )


def reported(case, *, due: dt.datetime, finished: dt.datetime) -> None:
    Assignment.objects.filter(pk=main_of(case).pk).update(
        status=AssignmentStatus.REPORTED, due_at=due, finished_at=finished
    )


def test_superiors_are_the_weighted_mean_of_their_subordinates(city, people):
    due = T0 + dt.timedelta(days=5)
    with clock.frozen_now(T0):
        p = dispatched_to(city, people, city.liyuan)
        q = dispatched_to(city, people, city.guanshan)
        r = dispatched_to(city, people, city.guanshan)
    reported(p, due=due, finished=due)
    reported(q, due=due, finished=due + dt.timedelta(hours=1))
    reported(r, due=due, finished=due - dt.timedelta(days=1))
    s = scheme(2, ("on_time_completion", 100, 100, 0))
    period = period_of(s, people)
    kpi.adjustment_add(
        period=period,
        user=people.dispatcher,
        unit=city.east,
        kind="deduction",
        points_=Decimal(10),
        reason="督办未落实",
        case_number=q.number,
    )
    with clock.frozen_now(RUN_AT):
        kpi.compute(period=period, user=people.dispatcher)
    scores = by_unit(period)
    assert scores["梨园街道"].total == Decimal("100.00") and scores["梨园街道"].grade == "A"
    assert scores["关山街道"].total == Decimal("50.00") and scores["关山街道"].grade == "D"
    assert (scores["梨园街道"].rank, scores["关山街道"].rank) == (1, 2)
    east = scores["东湖区"]
    # (100 × 1 case + 50 × 2 cases) / 3 = 66.67, minus the 10-point deduction = 56.67
    assert east.from_children and east.base == Decimal("66.67") and east.weight == 3
    assert east.total == Decimal("56.67") and east.grade == "D"
    assert scores["东湖区城管局"].total is None  # no figure: not among the children averaged
    assert scores["西湖区"].total is None


def test_published_scores_are_frozen(city, people):
    month = build(city, people)
    s = scheme(1, ("on_time_completion", 100, 100, 0))
    period = period_of(s, people)
    with pytest.raises(ServiceError):
        kpi.publish(period=period, user=people.dispatcher)  # nothing computed yet
    with clock.frozen_now(RUN_AT):
        kpi.compute(period=period, user=people.dispatcher)
        kpi.publish(period=period, user=people.dispatcher)
    east = Score.objects.get(period=period, unit=city.east)
    before = east.total
    with pytest.raises(ServiceError) as err:
        kpi.compute(period=period, user=people.dispatcher)
    assert err.value.code == "frozen"
    east.total = Decimal(99)
    with pytest.raises(ServiceError) as err:
        east.save()
    assert err.value.code == "frozen"
    with pytest.raises(ServiceError) as err:
        east.delete()
    assert err.value.code == "frozen"
    with pytest.raises(ServiceError) as err:
        kpi.adjustment_add(
            period=period,
            user=people.dispatcher,
            unit=city.east,
            kind="bonus",
            points_=Decimal(5),
            reason="补加",
            case_number=month.a.number,
        )
    assert err.value.code == "frozen"
    assert Score.objects.get(pk=east.pk).total == before == Decimal("50.00")


def test_improvement_notes_reach_the_unit_and_only_it_replies(city, people):
    s = scheme(1, ("on_time_completion", 100, 100, 0))
    period = period_of(s, people)
    note = kpi.note_send(
        period=period, user=people.dispatcher, unit=city.east, text="按期办结率偏低，请分析原因并整改"
    )
    inbox = Outbox.objects.filter(channel="in_app", subject__contains="考核整改通知")
    assert set(inbox.values_list("recipient__username", flat=True)) == {"east", "east_leader"}
    with pytest.raises(NotFound):
        kpi.note_reply(note=note, user=people.west, reply="不是我们")
    kpi.note_reply(note=note, user=people.east_leader, reply="已召开专题会，落实责任人")
    note.refresh_from_db()
    assert note.replied_by == people.east_leader and note.reply.startswith("已召开")
    assert list(kpi.visible_notes(user=people.west, period=period)) == []
    assert list(kpi.visible_notes(user=people.east_leader, period=period)) == [note]


def test_a_scheme_with_a_measure_without_a_unit_side_is_refused(city, people):
    s = scheme(1, ("answer_rate", 100, 100, 0))
    with pytest.raises(ServiceError) as err:
        period_of(s, people)
    assert "indicators" in err.value.field_errors


@pytest.mark.parametrize("depth", [1, 2])
def test_every_indicator_for_all_units_at_once_equals_the_unit_by_unit_figure(city, people, depth):
    """The set-based indicators (kpi/bulk.py) against the measure's own unit-scoped query, for every scored
    unit: the month's fixture (a redone case called back twice, an extension, late and on-time reports) plus a
    case handled by two units of one district (counted once for the district) and a copy (not counted)."""
    from hotline.analytics import measures as m
    from hotline.analytics.kpi import bulk

    build(city, people)
    with clock.frozen_now(T0):
        shared = dispatched_to(
            city,
            people,
            city.guanshan,
            (city.liyuan, AssignmentRole.ASSISTING),
            (city.west, AssignmentRole.CC),
        )
    reported(shared, due=T0 + dt.timedelta(days=5), finished=T0 + dt.timedelta(days=1))
    for rating, responded, solution in (("satisfied", "yes", "solved"), ("dissatisfied", "no", "partly")):
        Callback.objects.create(  # rated twice (the state machine is not the point here)
            case=shared,
            actor=people.agent,
            method="phone",
            rating=rating,
            responded=responded,
            solution=solution,
            created_at=T0 + dt.timedelta(days=6),
        )
    # a case dispatched to one street of 东湖区 and reassigned to another (re-dispatch rate)
    from hotline.cases import services

    with clock.frozen_now(T0):
        moved = dispatched_to(city, people, city.guanshan)
    with clock.frozen_now(T0 + dt.timedelta(days=1)):
        services.case_reassign(
            case=moved,
            actor=people.dispatcher,
            expected_version=None,
            targets=[services.Target(city.liyuan, AssignmentRole.MAIN)],
            opinion="派错街道",
        )
    from hotline.cases.models import CaseEvent

    for unit, action in ((city.guanshan, "sla_yellow"), (city.liyuan, "sla_warning"), (city.west, "sla_red")):
        CaseEvent.objects.create(case=shared, at=T0 + dt.timedelta(days=2), unit=unit, action=action)
    s = scheme(depth, ("on_time_completion", 1, 100, 0))
    units = kpi.scored_directly(s)
    with clock.frozen_now(RUN_AT):
        period = period_of(s, people)
        template = kpi._scope(period, units[0], clock.now())
        checked = 0
        for key in sorted(bulk.SUPPORTED):
            got = bulk.figures(key, template, units)
            assert got is not None
            for unit in units:
                own = m.measure(key).compute(kpi._scope(period, unit, clock.now()))
                assert (got[unit.pk].value, got[unit.pk].numerator, got[unit.pk].denominator) == (
                    own.value,
                    own.numerator,
                    own.denominator,
                ), (key, unit.name)
                checked += own.denominator or own.value or 0
        assert checked > 5  # the fixture gives the figures something to count
