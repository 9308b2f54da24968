"""Daily facts (hotline/analytics/facts): every figure read from them equals the direct queries' on the hand-built
month (SQLite and PostgreSQL), today stays live, and a change to an old case reaches them through the case-events
job and the facts job."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from hotline.analytics import bigscreen
from hotline.analytics import measures as m
from hotline.analytics.crosstab import engine
from hotline.analytics.facts import build, read
from hotline.analytics.facts.models import AreaFact, CaseFact, CaseMonthFact, FactDay, FactState
from hotline.cases import services
from hotline.cases.events import run_queued
from hotline.common import clock
from tests.analytics.reports_fixture import PERIOD, RUN_AT, SH
from tests.analytics.reports_fixture import build as build_month
from tests.conftest import fresh, submitted_case

CROSS_TABS = [
    {"rows": "case_type", "cols": "district", "measure": "intake_volume"},
    {"rows": "case_type", "cols": "month", "measure": "intake_volume"},
    {"rows": "status", "cols": "week", "measure": "intake_volume"},
    {"rows": "channel", "cols": "day", "measure": "intake_volume"},
    {"rows": "bureau", "measure": ["intake_volume", "first_contact_resolution"]},
    {"rows": "urgency", "cols": "nature", "measure": "intake_volume"},
    {"rows": "district", "measure": "intake_volume", "status": "closed,handling,submitted"},
    {"rows": "area", "measure": "intake_volume"},  # the facts by place
    {"rows": "area", "cols": "month", "measure": "intake_volume"},
    {"rows": "area", "measure": "intake_volume", "channel": "web"},  # not in the facts by place: directly
]


def table(user, **params):
    with clock.frozen_now(RUN_AT):
        t = engine.run(engine.parse({**PERIOD, **params}, user=user))
    return [(r.label, [(c.value, c.numerator, c.denominator, c.url) for c in r.cells]) for r in t.rows]


def both(fn):
    """(from the facts where they answer, from the direct queries)."""
    via = fn()
    with read.disabled():
        return via, fn()


@pytest.fixture
def month(city, people):
    month = build_month(city, people)
    with clock.frozen_now(RUN_AT - dt.timedelta(hours=2)):  # registered today: counted live
        submitted_case(city, people)
    return month


def scopes(city):
    tz_start = dt.datetime(2026, 11, 1, tzinfo=SH)
    end = dt.datetime(2027, 1, 1, tzinfo=SH)
    return [m.Scope(start=tz_start, end=end, now=RUN_AT, unit=u) for u in (None, city.east)]


def test_not_built_means_direct_queries(month, city, people):
    assert read.state() is None
    assert not read.usable(scopes(city)[0])
    assert read.counts(scopes(city)[0], (), live=lambda s: {}) is None


def test_every_figure_from_the_facts_equals_the_direct_queries(month, city, people):
    with clock.frozen_now(RUN_AT):
        rows = build.rebuild()
    assert rows > 0 and FactState.objects.get().built_at is not None
    for user in (people.dispatcher, people.east_leader):
        for params in CROSS_TABS:
            if user is people.east_leader and "first_contact_resolution" in str(params["measure"]):
                continue
            via, direct = both(lambda user=user, params=params: table(user, **params))
            assert via == direct, params
    for area in (city.east, city.guanshan, city.west):  # by place under a place: its subtree's rows
        params = {"rows": "area", "measure": "intake_volume", "area": str(area.pk)}
        via, direct = both(lambda params=params: table(people.dispatcher, **params))
        assert via == direct, area.name
    for scope in scopes(city):
        for fn in (m.intake_volume, m.intake_by_type, m.first_contact_resolution):
            via, direct = both(lambda fn=fn, scope=scope: fn(scope))
            assert (via.value, via.numerator, via.denominator, via.breakdown) == (
                direct.value,
                direct.numerator,
                direct.denominator,
                direct.breakdown,
            )
    for unit in (None, city.east):
        via, direct = both(lambda unit=unit: bigscreen.snapshot(unit, now=RUN_AT))
        assert via == direct


def test_the_figures_really_come_from_the_facts_for_past_days_and_live_for_today(month, city, people):
    with clock.frozen_now(RUN_AT):
        build.rebuild()
    before = table(people.dispatcher, rows="channel", measure="intake_volume")
    CaseFact.objects.filter(scope=0).update(n=100)  # tampered: a figure read from the facts changes
    after = table(people.dispatcher, rows="channel", measure="intake_volume")
    assert after != before
    # today's case is counted live: the facts hold no row for today at all
    CaseFact.objects.all().delete()
    today = m.intake_volume(m.Scope(start=dt.datetime(2026, 12, 31, tzinfo=SH), end=RUN_AT, now=RUN_AT))
    assert today.value == 1


def test_a_period_not_on_day_boundaries_is_counted_directly(month, city, people):
    with clock.frozen_now(RUN_AT):
        build.rebuild()
    scope = m.Scope(start=RUN_AT - dt.timedelta(days=40), end=RUN_AT, now=RUN_AT)
    assert read.counts(scope, (), live=lambda s: {}) is None
    deep = m.Scope(start=dt.datetime(2026, 11, 1, tzinfo=SH), end=RUN_AT, now=RUN_AT, unit=city.xingfu)
    assert not read.usable(deep)  # a community: below the facts' depth


def test_a_change_to_an_old_case_reaches_the_facts_after_the_jobs(month, city, people):
    with clock.frozen_now(RUN_AT):
        run_queued()  # the fixture's own events
        build.rebuild()  # (forgets the days they marked)
    by_status = {"rows": "status", "measure": "intake_volume"}
    assert table(people.dispatcher, **by_status) == both(lambda: table(people.dispatcher, **by_status))[1]
    with clock.frozen_now(RUN_AT):
        services.case_close_directly(
            case=fresh(month.g), actor=people.dispatcher, expected_version=None, reason="重复诉求"
        )
    via, direct = both(lambda: table(people.dispatcher, **by_status))
    assert via != direct  # the facts of 2 December are behind until the jobs run
    with clock.frozen_now(RUN_AT):
        run_queued()
    assert list(FactDay.objects.values_list("day", flat=True)) == [dt.date(2026, 12, 2)]
    with clock.frozen_now(RUN_AT):
        assert build.refresh() >= 1
    assert not FactDay.objects.exists()
    via, direct = both(lambda: table(people.dispatcher, **by_status))
    assert via == direct
    assert FactState.objects.get().refreshed_at == RUN_AT


def test_the_job_builds_everything_the_first_time_and_recomputing_a_day_changes_nothing(month, city, people):
    with clock.frozen_now(RUN_AT):
        assert build.refresh() == -1  # the first run builds every day
    key = ("day", "scope", "case_type_id", "district_id", "bureau_id", "channel", "status", "n", "answered")
    full = sorted(CaseFact.objects.values_list(*key))
    days = sorted({row[0] for row in full})
    with clock.frozen_now(RUN_AT):
        for day in days:
            build.recompute_day(day)
    assert sorted(CaseFact.objects.values_list(*key)) == full
    # the centre counts each case once; 东湖区 counts the cases it (or a sub-unit) was given, A, B, G … once
    centre = sum(n for d, s, *_rest, n, _a in full if s == 0)
    assert centre == 7  # A, B, C, D in November, G in December, F in October, today's case; never the draft E
    east = sum(n for d, s, *_rest, n, _a in full if s == city.east.pk)
    assert east == 3  # A, B and F were dispatched to 东湖区; C went to 西湖区, D and G were not dispatched


def test_the_report_page_states_how_fresh_its_figures_are(month, city, people, client):
    query = {**PERIOD, "rows": "channel", "measure": "intake_volume"}
    client.force_login(people.dispatcher)
    with clock.frozen_now(RUN_AT):
        live = client.get(reverse("analytics:reports"), query).content.decode()
        assert "数据时效" not in live  # no facts yet: every figure is counted live
        build.rebuild()
    with clock.frozen_now(RUN_AT + dt.timedelta(minutes=5)):
        page = client.get(reverse("analytics:reports"), query).content.decode()
    assert "数据时效" in page and "2026-12-31 20:00:00" in page  # the facts' last refresh, not the request
    with clock.frozen_now(RUN_AT):
        spec = engine.parse({**query, "area": city.east.pk}, user=people.dispatcher)  # not in the facts
        engine.run(spec)
    assert "数据时效" not in dict(spec.describe())


def month_rows():
    key = ("month", "scope", "case_type_id", "district_id", "bureau_id", "channel", "status", "n", "answered")
    return sorted(CaseMonthFact.objects.values_list(*key))


def test_whole_months_are_read_from_the_monthly_rows_and_the_edges_from_the_daily_ones(month, city, people):
    with clock.frozen_now(RUN_AT):
        build.rebuild()
    assert FactState.objects.get().months_through == dt.date(2026, 11, 1)  # December is not over
    # every month before December is the sum of its days
    assert {r[0] for r in month_rows()} == {dt.date(2026, 10, 1), dt.date(2026, 11, 1)}
    november = sum(r[-2] for r in month_rows() if r[0] == dt.date(2026, 11, 1) and r[1] == 0)
    assert november == 4  # A, B, C, D
    by_month = {"rows": "channel", "cols": "month", "measure": "intake_volume"}
    by_day = {"rows": "channel", "cols": "day", "measure": "intake_volume"}
    before_month, before_day = table(people.dispatcher, **by_month), table(people.dispatcher, **by_day)
    CaseMonthFact.objects.filter(scope=0).update(n=100)  # tampered: what reads whole months changes
    assert table(people.dispatcher, **by_month) != before_month
    # days and weeks read the daily rows only (the per-day cells; the totals beside them are whole months)
    assert [r[1][:-1] for r in table(people.dispatcher, **by_day)[:-1]] == [
        r[1][:-1] for r in before_day[:-1]
    ]
    # a period starting mid-November reads November's days, not its month
    mid = {**by_month, "from": "2026-11-20"}
    via = table(people.dispatcher, **mid)
    with read.disabled():
        assert via == table(people.dispatcher, **mid)


def test_a_recomputed_day_brings_its_month_up_to_date_and_a_month_just_ended_is_summed(month, city, people):
    with clock.frozen_now(RUN_AT):
        build.rebuild()
    summed = month_rows()
    CaseMonthFact.objects.filter(month=dt.date(2026, 11, 1)).update(n=100)
    FactDay.objects.create(day=dt.date(2026, 11, 23), marked_at=RUN_AT)
    with clock.frozen_now(RUN_AT):
        build.refresh()
    assert month_rows() == summed
    with clock.frozen_now(RUN_AT + dt.timedelta(days=1)):  # 1 January: December is over
        build.refresh()
    assert FactState.objects.get().months_through == dt.date(2026, 12, 1)
    december = sum(r[-2] for r in month_rows() if r[0] == dt.date(2026, 12, 1) and r[1] == 0)
    assert december == 2  # G and the case registered on the 31st
    with clock.frozen_now(RUN_AT + dt.timedelta(days=1)):
        via = table(people.dispatcher, rows="status", cols="month", measure="intake_volume")
        with read.disabled():
            assert via == table(people.dispatcher, rows="status", cols="month", measure="intake_volume")


def test_the_report_by_place_reads_the_facts_by_place(month, city, people):
    with clock.frozen_now(RUN_AT):
        build.rebuild()
    assert sum(AreaFact.objects.filter(scope=0).values_list("n", flat=True)) == sum(
        CaseFact.objects.filter(scope=0).values_list("n", flat=True)
    )
    by_place = {"rows": "area", "measure": "intake_volume"}
    before = table(people.dispatcher, **by_place)
    AreaFact.objects.filter(scope=0).update(n=100)
    assert table(people.dispatcher, **by_place) != before
