"""The supervision page's figures are defined in analytics (analytics/supervision.py) with a formula for each
column, read by the sla page through the registry: every column has its formula, the page shows it, figures by
hand, and a district sees its own subtree only."""

from __future__ import annotations

import datetime as dt

from django.test import Client

from hotline.analytics import supervision
from hotline.cases.models import Assignment, AssignmentRole
from hotline.common import clock
from hotline.sla import selectors
from hotline.sla.models import Alert, AlertKind, Clock, Stage
from tests.conftest import dispatched_to


def _card(case, unit, kind) -> None:
    assignment = Assignment.objects.get(case=case, unit=unit, role=AssignmentRole.MAIN)
    sign_for = Clock.objects.get(assignment=assignment, stage=Stage.SIGN_FOR)
    Alert.objects.create(clock=sign_for, kind=kind, case=case, unit=unit, raised_at=clock.now(), run_id="t")


def _period() -> selectors.Period:
    now = clock.now()
    return selectors.Period(now - dt.timedelta(days=1), now + dt.timedelta(days=1))


def test_every_column_has_one_definition_with_its_formula(city, people):
    east = dispatched_to(city, people, city.east)
    _card(east, city.east, AlertKind.YELLOW)
    (ledger,) = selectors.card_ledger(user=people.dispatcher, period=_period())
    (limits,) = selectors.time_limit_supervision(user=people.dispatcher, period=_period())
    formulas = selectors.supervision_formulas()
    assert set(formulas["ledger"]) == set(ledger) - {"unit", "unit_name"}
    assert set(formulas["limits"]) == set(limits) - {"unit", "unit_name"}
    assert set(formulas["results"]) == {"not_accepted"}
    assert selectors.card_ledger.__module__ == "hotline.sla.selectors"  # the sla door
    assert supervision.formulas() == formulas  # … opens on analytics' one definition


def test_figures_by_hand_and_each_district_its_own_subtree(city, people):
    assert selectors.card_ledger(user=people.dispatcher, period=_period()) == []  # nothing yet: no rows
    e1, e2 = dispatched_to(city, people, city.east), dispatched_to(city, people, city.east)
    w1 = dispatched_to(city, people, city.west)
    _card(e1, city.east, AlertKind.YELLOW)
    _card(e1, city.east, AlertKind.RED)
    _card(e2, city.east, AlertKind.YELLOW)
    _card(w1, city.west, AlertKind.WARNING)
    rows = {r["unit_name"]: r for r in selectors.card_ledger(user=people.dispatcher, period=_period())}
    assert (rows["东湖区"]["yellow"], rows["东湖区"]["red"], rows["东湖区"]["warnings"]) == (2, 1, 0)
    assert (rows["西湖区"]["yellow"], rows["西湖区"]["warnings"]) == (0, 1)
    east_rows = selectors.card_ledger(user=people.east_leader, period=_period())
    assert [r["unit_name"] for r in east_rows] == ["东湖区"]
    limits = {
        r["unit_name"]: r for r in selectors.time_limit_supervision(user=people.east_leader, period=_period())
    }
    assert set(limits) == {"东湖区"} and limits["东湖区"]["received"] == 2
    assert limits["东湖区"]["avg_hours_to_sign"] is None  # nothing signed yet: "—", not 0


def test_the_page_shows_each_tables_formulas(city, people):
    client = Client()
    client.force_login(people.dispatcher)
    for tab, keys in (
        ("ledger", ["warnings", "yellow", "red", "late_reports"]),
        ("limits", ["received", "signed_late", "replied_late"]),
        ("results", ["not_accepted"]),
    ):
        html = client.get("/supervision/", {"tab": tab}).content.decode()
        assert 'data-testid="supervision-formulas"' in html, tab
        for key in keys:
            assert f'data-measure="{key}"' in html, (tab, key)
    html = client.get("/supervision/", {"tab": "ledger"}).content.decode()
    assert "统计期内该单位被亮的黄牌数" in html
