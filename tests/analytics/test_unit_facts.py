"""Unit facts (hotline/analytics/facts/units.py): the unit reports (unit efficiency, satisfaction by unit) read
from the facts equal the live SQL on a seeded dataset — including a case called back on two days of the period
(the redo rate counts it once), a callback today on such a case (counted live, still once), a sign-for clock
never signed whose deadline passed (counted live) — as the office, a district and a street; and a change to an
old case reaches them through the case-events job and the facts job."""

from __future__ import annotations

import datetime as dt

import pytest

from hotline.analytics.crosstab import engine
from hotline.analytics.facts import build, read, units
from hotline.analytics.facts.models import FactState, UnitFact, UnitFactDay
from hotline.analytics.reports import presets
from hotline.cases import services
from hotline.cases.events import run_queued
from hotline.cases.models import AssignmentRole, Callback, CaseEvent
from hotline.common import clock
from hotline.common.models import DictKind
from tests.analytics.reports_fixture import PERIOD, RUN_AT, T0, main_of
from tests.analytics.reports_fixture import build as build_month
from tests.conftest import dict_item, dispatched_to, fresh

D = dt.timedelta(days=1)
H = dt.timedelta(hours=1)


def _loop(case, people, handler, *, report_at, callback_at, rating):
    with clock.frozen_now(report_at):
        services.assignment_report(
            assignment=main_of(case), actor=handler, expected_version=None, result="已处理"
        )
    with clock.frozen_now(report_at + H):
        services.case_review_accept(case=fresh(case), actor=people.dispatcher, expected_version=None)
    with clock.frozen_now(callback_at):
        services.case_callback(
            case=fresh(case),
            actor=people.agent,
            expected_version=None,
            rating=rating,
            method="phone",
            responded="yes",
            solution="solved",
        )


@pytest.fixture
def month(city, people):
    month = build_month(city, people)
    # H: a street's case, redone on 30 December, called back again today (the second callback counted live)
    with clock.frozen_now(T0 + D):
        h = dispatched_to(city, people, city.liyuan)
    with clock.frozen_now(T0 + D + H):
        services.assignment_sign_for(assignment=main_of(h), actor=people.liyuan, expected_version=None)
    _loop(h, people, people.liyuan, report_at=T0 + 30 * D, callback_at=RUN_AT - 36 * H, rating="dissatisfied")
    _loop(h, people, people.liyuan, report_at=RUN_AT - 6 * H, callback_at=RUN_AT - 2 * H, rating="satisfied")
    month.h = h
    # K: dispatched to 关山街道, returned and sent to 梨园街道, then reassigned to 东湖区 on 26 December: the
    # dispatch days of its first two rounds (25 and 26 November) hold re-dispatched rows
    with clock.frozen_now(T0 + 2 * D):
        k = dispatched_to(city, people, city.guanshan)
        services.assignment_return_to_office(
            assignment=main_of(k),
            actor=people.guanshan,
            expected_version=None,
            reason=dict_item(DictKind.RETURN_REASON, "not_our_duty"),
            text="不属于本街道",
            suggested_unit=city.liyuan,
        )
    with clock.frozen_now(T0 + 3 * D):
        services.case_approve_return(case=fresh(k), actor=people.dispatcher, expected_version=None)
    with clock.frozen_now(T0 + 33 * D):
        services.case_reassign(
            case=fresh(k),
            actor=people.dispatcher,
            expected_version=None,
            targets=[services.Target(city.east, AssignmentRole.MAIN)],
            opinion="由区统筹办理",
        )
    month.k = k
    # a citizen's own rating (no answers to the two questions) on B
    Callback.objects.create(case=month.b, method="sms", rating="satisfied", created_at=T0 + 6 * D)
    return month


REPORTS = ["unit_efficiency", "satisfaction_by_unit"]
VARIANTS = [
    dict(PERIOD),
    {"period": "custom", "from": "2026-11-27", "to": "2026-12-31"},  # after A's first callback
    {"period": "custom", "from": "2026-11-01", "to": "2026-12-30"},  # ends before today: no live part
]


def table(user, params):
    with clock.frozen_now(RUN_AT):
        spec = engine.parse(params, user=user)
        t = engine.run(spec)
    return spec, [(r.label, [(c.value, c.numerator, c.denominator) for c in r.cells]) for r in t.rows]


def compare(user, params):
    spec, via = table(user, params)
    with read.disabled():
        _spec, direct = table(user, params)
    assert via == direct, (user, params)
    return spec, via


def all_params():
    for key in REPORTS:
        preset = presets.preset(key)
        assert preset is not None
        for variant in VARIANTS:
            yield {**preset.params, **variant}
            yield {**preset.params, **variant, "cols": "month", "measure": preset.params["measure"][:1]}


def test_the_unit_reports_from_the_facts_equal_the_live_sql(month, city, people):
    with clock.frozen_now(RUN_AT):
        run_queued()
        build.rebuild()
    assert FactState.objects.get().units_built_at is not None
    assert UnitFact.objects.filter(measure=units.REDO_DEN).exists()
    for user in (people.dispatcher, people.east_leader, people.liyuan_leader):
        for params in all_params():
            spec, rows = compare(user, params)
            assert spec.facts_as_of is not None, params  # really from the facts
    # the redo rate counts cases: A (called back on 26 and 28 November) is one case, twice in the direct query
    _spec, rows = compare(people.dispatcher, {**presets.preset("unit_efficiency").params, **PERIOD})
    total = rows[-1][1]
    assert total[3][1:] == (2, 3)  # redone: A, H; called back: A, B, H (H on 30 December and today)
    # re-dispatched: K's first two rounds, of the period's dispatches A, B, C, H and K's three rounds
    assert total[2][1:] == (2, 7)
    _spec, rows = compare(people.dispatcher, {**presets.preset("satisfaction_by_unit").params, **PERIOD})
    # contacted: A twice, H twice, not B; solved: A's second, H twice (not A's first, not B's partly); the
    # citizen's own rating on B is outside both
    assert [c[1:] for c in rows[-1][1]] == [(4, 5), (3, 5), (4, 6)]


def test_the_figures_really_come_from_the_facts(month, city, people):
    with clock.frozen_now(RUN_AT):
        build.rebuild()
    params = {**presets.preset("satisfaction_by_unit").params, **PERIOD}
    _spec, before = table(people.dispatcher, params)
    UnitFact.objects.filter(scope=0, measure=units.SATISFACTION).update(n=50)
    _spec, after = table(people.dispatcher, params)
    assert after != before


def test_unsigned_clocks_and_today_are_counted_live(month, city, people):
    """C was never signed for: its clock is not in the facts (it turns late when its deadline passes)."""
    with clock.frozen_now(RUN_AT):
        build.rebuild()
    assert not UnitFact.objects.filter(measure=units.SIGN_FOR, day=dt.date(2026, 11, 23), n__gt=2).exists()
    UnitFact.objects.filter(day=RUN_AT.date()).update(n=99, num=99)  # today: never read from the facts
    params = {**presets.preset("unit_efficiency").params, **PERIOD}
    _spec, rows = compare(people.dispatcher, params)
    sign_for = rows[-1][1][0]
    # A and H on time; B late, C and K's last round (东湖区, 26 December) unsigned past their deadlines (K's
    # earlier rounds were withdrawn before signing: not counted)
    assert sign_for[1:] == (2, 5)


def test_a_day_recomputed_changes_nothing_and_a_change_to_an_old_case_reaches_the_facts(month, city, people):
    with clock.frozen_now(RUN_AT):
        run_queued()
        build.rebuild()
    key = ("day", "scope", "measure", "unit_id", "prev_day", "n", "num")
    full = sorted(UnitFact.objects.values_list(*key))
    with clock.frozen_now(RUN_AT):
        for day in sorted({row[0] for row in full}):
            units.recompute_day(day)
    assert sorted(UnitFact.objects.values_list(*key)) == full
    # C is finally signed, reported and called back: its clock started on 23 November
    params = {**presets.preset("unit_efficiency").params, **PERIOD}
    with clock.frozen_now(RUN_AT - H):
        services.assignment_sign_for(assignment=main_of(month.c), actor=people.west, expected_version=None)
    with clock.frozen_now(RUN_AT):
        run_queued()
    assert dt.date(2026, 11, 23) in set(UnitFactDay.objects.values_list("day", flat=True))
    _spec, via = table(people.dispatcher, params)
    with read.disabled():
        assert via != table(people.dispatcher, params)[1]  # the facts of 23 November are behind until the job
    with clock.frozen_now(RUN_AT + dt.timedelta(seconds=10)):
        build.refresh()
    assert UnitFactDay.objects.exists()  # a mark waits a minute (a busy minute's marks: one recompute)
    with clock.frozen_now(RUN_AT + dt.timedelta(seconds=units.MARK_DELAY_SECONDS)):
        assert build.refresh() >= 1
    assert not UnitFactDay.objects.exists()
    compare(people.dispatcher, params)
    compare(people.east_leader, params)


def test_the_job_builds_the_unit_facts_of_facts_built_before_them(month, city, people):
    with clock.frozen_now(RUN_AT):
        build.rebuild()
    UnitFact.objects.all().delete()
    FactState.objects.update(units_built_at=None)
    params = {**presets.preset("satisfaction_by_unit").params, **PERIOD}
    spec, _rows = table(people.dispatcher, params)
    assert spec.facts_as_of is None  # not built: counted directly
    with clock.frozen_now(RUN_AT):
        build.refresh()
    assert FactState.objects.get().units_built_at is not None
    spec, _rows = compare(people.dispatcher, params)
    assert spec.facts_as_of is not None


def test_a_reassignment_today_reaches_the_redispatch_rows_of_the_old_dispatch_day(month, city, people):
    """K is reassigned once more today: its round-3 dispatch (26 December, to 东湖区) becomes re-dispatched. The
    reassignment marks the days of K's earlier events; the job brings the facts back to the live SQL."""
    with clock.frozen_now(RUN_AT):
        run_queued()
        build.rebuild()
    params = {**presets.preset("unit_efficiency").params, **PERIOD, "measure": ["redispatch_rate"]}
    _spec, before = compare(people.dispatcher, params)
    assert before[-1][1][0][1:] == (2, 7)
    UnitFactDay.objects.all().delete()
    with clock.frozen_now(RUN_AT - H):
        services.case_reassign(
            case=fresh(month.k),
            actor=people.dispatcher,
            expected_version=None,
            targets=[services.Target(city.guanshan, AssignmentRole.MAIN)],
            opinion="仍由街道办理",
        )
    with clock.frozen_now(RUN_AT):
        run_queued()
    assert {dt.date(2026, 11, 25), dt.date(2026, 11, 26), dt.date(2026, 12, 26)} <= set(
        UnitFactDay.objects.values_list("day", flat=True)
    )
    with clock.frozen_now(RUN_AT + dt.timedelta(seconds=units.MARK_DELAY_SECONDS)):
        assert build.refresh() >= 1
    _spec, after = compare(people.dispatcher, params)
    assert after[-1][1][0][1:] == (3, 8)  # today's round-4 dispatch (live), and round 3 now re-dispatched
    compare(people.east_leader, params)


def test_every_case_action_is_classified_for_the_day_marks():
    """A new action must be put in one of the two sets (one that is in neither still marks: the safe default)."""
    from hotline.cases.lifecycle import Action

    assert units.PAST_CHANGING_ACTIONS.isdisjoint(units.PAST_KEEPING_ACTIONS)
    assert set(Action.values) == set(units.PAST_CHANGING_ACTIONS | units.PAST_KEEPING_ACTIONS)


def test_only_an_event_that_can_change_a_past_day_marks_it(month, city, people):
    """C (dispatched on 23 November, never signed for): the office's reminder and the unit's handling note cannot
    change a day before today and mark nothing; signing for it changes its clock's day (23 November) and marks
    it."""
    with clock.frozen_now(RUN_AT):
        run_queued()
        build.rebuild()
    UnitFactDay.objects.all().delete()
    with clock.frozen_now(RUN_AT - 2 * H):
        services.case_urge(
            case=fresh(month.c), actor=people.dispatcher, expected_version=None, message="请尽快办理"
        )
    with clock.frozen_now(RUN_AT):
        run_queued()
    assert not UnitFactDay.objects.exists()
    with clock.frozen_now(RUN_AT - H):
        services.assignment_sign_for(assignment=main_of(month.c), actor=people.west, expected_version=None)
        services.assignment_record_handling(
            assignment=main_of(month.c), actor=people.west, expected_version=None, result="已联系"
        )
    with clock.frozen_now(RUN_AT):
        run_queued()
    assert dt.date(2026, 11, 23) in set(UnitFactDay.objects.values_list("day", flat=True))
    # a satisfied callback writes a row of its own day only; a dissatisfied one (to be redone) reopens the main
    # assignment reported on an earlier day. A's two callbacks, replayed through the receiver:
    UnitFactDay.objects.all().delete()
    redo, closed = (
        CaseEvent.objects.filter(case=month.a, action="callback", to_status=status).get()
        for status in ("redo", "closed")
    )
    with clock.frozen_now(RUN_AT):
        units.mark_unit_days(events=[closed])
        assert not UnitFactDay.objects.exists()
        units.mark_unit_days(events=[redo])
    assert UnitFactDay.objects.exists()


def _monthly_sums_equal_the_daily_rows():
    from django.db.models import Sum

    from hotline.analytics.facts.models import UnitMonthFact

    key = ("scope", "measure", "unit_id", "prev_day")
    through = FactState.objects.get().unit_months_through
    assert through == dt.date(2026, 11, 1)  # November is the last whole month before RUN_AT
    daily = {
        (r["scope"], r["measure"], r["unit_id"], r["prev_day"]): (r["n_"], r["num_"])
        for r in UnitFact.objects.filter(day__gte=through, day__lt=dt.date(2026, 12, 1))
        .values(*key)
        .annotate(n_=Sum("n"), num_=Sum("num"))
        .order_by()
    }
    monthly = {
        (r.scope, r.measure, r.unit_id, r.prev_day): (r.n, r.num)
        for r in UnitMonthFact.objects.filter(month=through)
    }
    assert daily and monthly == daily


def test_whole_months_come_from_the_monthly_rows_and_follow_a_recomputed_day(month, city, people):
    """The unit reports over whole months read `UnitMonthFact` (tampering with it shows), equal to the live SQL
    (the comparison test above runs over November from the monthly rows too); a change to an old case recomputes
    its day and then its month."""
    from hotline.analytics.facts.models import UnitMonthFact

    with clock.frozen_now(RUN_AT):
        run_queued()
        build.rebuild()
    _monthly_sums_equal_the_daily_rows()
    for user in (people.dispatcher, people.east_leader):
        for key in REPORTS:
            compare(user, {**presets.preset(key).params, **PERIOD})
            compare(
                user,
                {**presets.preset(key).params, "period": "custom", "from": "2026-11-01", "to": "2026-11-30"},
            )
    params = {**presets.preset("unit_efficiency").params, **PERIOD}
    _spec, before = table(people.dispatcher, params)
    saved = list(UnitMonthFact.objects.filter(scope=0).values_list("pk", "n"))
    UnitMonthFact.objects.filter(scope=0).update(n=500)
    _spec, tampered = table(people.dispatcher, params)
    assert tampered != before
    for pk, n in saved:
        UnitMonthFact.objects.filter(pk=pk).update(n=n)
    # by day: the days from the daily rows, the row totals from the months
    compare(people.dispatcher, {**params, "cols": "day", "measure": params["measure"][:1]})
    # C is signed for: its clock's day (23 November) is recomputed, then November's monthly rows
    with clock.frozen_now(RUN_AT - H):
        services.assignment_sign_for(assignment=main_of(month.c), actor=people.west, expected_version=None)
    with clock.frozen_now(RUN_AT):
        run_queued()
    with clock.frozen_now(RUN_AT + dt.timedelta(seconds=units.MARK_DELAY_SECONDS)):
        assert build.refresh() >= 1
    _monthly_sums_equal_the_daily_rows()
    compare(people.dispatcher, params)
    compare(people.east_leader, params)
