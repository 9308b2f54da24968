"""The re-dispatch rate (改派率) and the callback's response and solution rates (响应率、解决率) on a small set
built through the services, every figure worked out by hand below (issue 15, the unit indicators).

Period: [START − 1 h, START + 30 d).

Dispatches (the office's, top-level main; `measures.redispatch_rate`):
- P → 东湖区 (round 1), never re-dispatched; 东湖区 forwards it down to 梨园街道 (a unit's own forwarding: not a
  dispatch to the street).
- R → 东湖区 (round 1); 东湖区 returns it, the office approves and sends it to 西湖区 (round 2); the office then
  reassigns it to 梨园街道 (round 3): re-dispatched twice.
- O → 西湖区 (round 1), reported, dissatisfied callback, redone (the same assignment reopened: not a re-dispatch),
  reported again, satisfied.
- X → 西湖区 before the period, reassigned to 东湖区 inside it: only the 东湖区 dispatch is in the period.
- W → 西湖街道 (round 1), never re-dispatched.

  centre 2 / 7 (R's rounds 1 and 2 re-dispatched; P, R round 3, O, W, X round 2 not); 东湖区 and its subtree
  1 / 4 (P, R-1, R-3 at 梨园街道, X-2); 西湖区 and its subtree 1 / 3 (R-2, O, W); 梨园街道 0 / 1; 关山街道 none.

Callbacks (`response_rate`, `solution_rate`, beside `satisfaction`):
- O's first (dissatisfied; contacted; not solved) and second (satisfied; contacted; solved), by the services;
- W (西湖街道): satisfied, not contacted, partly solved;
- a citizen's own satisfied rating on O (SMS digit): no answers, outside the two rates' denominators;
- one on W before the period: not counted.

  response 2 / 3, solution 1 / 3 (partly solved is not solved), satisfaction 3 / 4 — all on 西湖区's cases;
  东湖区 has no callbacks: every rate "—" (None), never 0.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from hotline.analytics import measures as m
from hotline.analytics.crosstab import engine
from hotline.analytics.measures import Scope
from hotline.cases import services
from hotline.cases.models import Assignment, AssignmentRole, Callback
from hotline.common import clock
from hotline.common.models import DictKind
from tests.conftest import dict_item, dispatched_to, fresh

SH = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 11, 23, 10, tzinfo=SH)
BEFORE = START - dt.timedelta(days=40)
D, H = dt.timedelta(days=1), dt.timedelta(hours=1)


def scope(*, unit=None) -> Scope:
    return Scope(start=START - H, end=START + 30 * D, now=START + 30 * D, unit=unit)


def top_main(case) -> Assignment:
    case = fresh(case)
    return Assignment.objects.get(case=case, round=case.dispatch_round, parent=None, role=AssignmentRole.MAIN)


def answered_loop(case, unit_user, people, *, at, rating, responded, solution):
    with clock.frozen_now(at):
        services.assignment_report(
            assignment=top_main(case), actor=unit_user, expected_version=None, result="已处理"
        )
    with clock.frozen_now(at + H):
        services.case_review_accept(case=fresh(case), actor=people.dispatcher, expected_version=None)
    with clock.frozen_now(at + 2 * H):
        services.case_callback(
            case=fresh(case),
            actor=people.agent,
            expected_version=None,
            rating=rating,
            method="phone",
            responded=responded,
            solution=solution,
        )


@pytest.fixture
def world(city, people):
    with clock.frozen_now(BEFORE):
        x = dispatched_to(city, people, city.west)
    with clock.frozen_now(START):
        p = dispatched_to(city, people, city.east)
        r = dispatched_to(city, people, city.east)
        o = dispatched_to(city, people, city.west)
        w = dispatched_to(city, people, city.west_street)
    with clock.frozen_now(START + H):
        services.assignment_sign_for(assignment=top_main(p), actor=people.east, expected_version=None)
        services.assignment_forward(
            assignment=top_main(p),
            actor=people.east,
            expected_version=None,
            targets=[services.Target(city.liyuan, AssignmentRole.MAIN)],
        )
        services.assignment_return_to_office(
            assignment=top_main(r),
            actor=people.east,
            expected_version=None,
            reason=dict_item(DictKind.RETURN_REASON, "not_our_duty"),
            text="不属于本单位职责",
            suggested_unit=city.west,
        )
        services.case_reassign(
            case=fresh(x),
            actor=people.dispatcher,
            expected_version=None,
            targets=[services.Target(city.east, AssignmentRole.MAIN)],
            opinion="派错单位",
        )
    with clock.frozen_now(START + D):
        services.case_approve_return(case=fresh(r), actor=people.dispatcher, expected_version=None)
    with clock.frozen_now(START + 2 * D):
        services.case_reassign(
            case=fresh(r),
            actor=people.dispatcher,
            expected_version=None,
            targets=[services.Target(city.liyuan, AssignmentRole.MAIN)],
            opinion="由街道直接办理",
        )
        services.assignment_sign_for(assignment=top_main(o), actor=people.west, expected_version=None)
    # O: dissatisfied → redone on the same assignment → satisfied
    answered_loop(
        o, people.west, people, at=START + 3 * D, rating="dissatisfied", responded="yes", solution="unsolved"
    )
    answered_loop(
        o, people.west, people, at=START + 5 * D, rating="satisfied", responded="yes", solution="solved"
    )
    Callback.objects.create(
        case=o, method="sms", rating="very_satisfied", created_at=START + 6 * D
    )  # citizen
    Callback.objects.create(
        case=w, actor=people.agent, method="phone", rating="satisfied", responded="no", solution="partly",
        created_at=START + 4 * D,
    )  # fmt: skip
    Callback.objects.create(
        case=w, actor=people.agent, method="phone", rating="dissatisfied", responded="no", solution="unsolved",
        created_at=BEFORE,
    )  # fmt: skip
    return {"p": p, "r": r, "o": o, "w": w, "x": x}


def nd(figure):
    return (figure.numerator, figure.denominator, figure.value)


def test_the_redispatch_rate(world, city):
    assert fresh(world["r"]).dispatch_round == 3 and fresh(world["o"]).dispatch_round == 1
    assert nd(m.redispatch_rate(scope())) == (2, 7, 28.6)
    assert nd(m.redispatch_rate(scope(unit=city.east))) == (1, 4, 25.0)
    assert nd(m.redispatch_rate(scope(unit=city.west))) == (1, 3, 33.3)
    assert nd(m.redispatch_rate(scope(unit=city.liyuan))) == (0, 1, 0.0)  # the forwarded P is not counted
    assert nd(m.redispatch_rate(scope(unit=city.guanshan))) == (0, 0, None)


def test_the_response_and_solution_rates(world, city):
    assert nd(m.response_rate(scope())) == (2, 3, 66.7)
    assert nd(m.solution_rate(scope())) == (1, 3, 33.3)
    assert nd(m.satisfaction(scope())) == (3, 4, 75.0)
    assert nd(m.response_rate(scope(unit=city.west))) == (2, 3, 66.7)
    assert nd(m.solution_rate(scope(unit=city.west_street))) == (0, 1, 0.0)
    for measure in (m.response_rate, m.solution_rate, m.satisfaction):  # no callbacks: "—", never 0
        assert nd(measure(scope(unit=city.east))) == (0, 0, None)


def test_the_crosstab_and_the_kpi_give_the_same_figures(world, city, people):
    from hotline.analytics.kpi import bulk

    params = {
        "rows": "unit",
        "measure": ["redispatch_rate", "response_rate", "solution_rate"],
        "period": "custom",
        "from": "2026-11-23",
        "to": "2026-12-22",
    }
    with clock.frozen_now(START + 30 * D):
        table = engine.run(engine.parse(params, user=people.dispatcher))
        total = [(c.numerator, c.denominator) for c in table.rows[-1].cells]
        assert total == [(2, 7), (2, 3), (1, 3)]
        rows = {r.label: [(c.numerator, c.denominator) for c in r.cells] for r in table.rows}
        assert rows["东湖区"] == [(1, 4), (0, 0), (0, 0)]
        assert rows["西湖区"] == [(1, 3), (2, 3), (1, 3)]
        units = [city.east, city.west]
        for key, expected in (
            ("redispatch_rate", {city.east.pk: (1, 4), city.west.pk: (1, 3)}),
            ("response_rate", {city.east.pk: (0, 0), city.west.pk: (2, 3)}),
            ("solution_rate", {city.east.pk: (0, 0), city.west.pk: (1, 3)}),
        ):
            got = bulk.figures(key, scope(), units)
            assert got is not None
            assert {pk: (f.numerator, f.denominator) for pk, f in got.items()} == expected, key


def test_the_formulas_are_shown(client, people):
    for key in ("redispatch_rate", "response_rate", "solution_rate"):
        measure = m.measure(key)
        assert measure.unit_scoped and measure.kind == m.RATE and "÷" in str(measure.formula)
