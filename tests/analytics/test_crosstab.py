"""The cross-tab engine on a hand-built month (tests/analytics/reports_fixture.py); every figure worked out by
hand from what the fixture writes."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from hotline.analytics.crosstab import engine
from hotline.analytics.crosstab import grouped as g
from hotline.common import clock
from hotline.common.errors import NotFound
from hotline.common.models import DictKind
from tests.analytics.reports_fixture import PERIOD, RUN_AT, build
from tests.conftest import dict_item


def table_of(user, **params):
    with clock.frozen_now(RUN_AT):
        spec = engine.parse({**PERIOD, **params}, user=user)
        return engine.run(spec)


def cells(table):
    """{row label: [cell values]} and the column labels."""
    return {r.label: [c.value for c in r.cells] for r in table.rows}, [c.label for c in table.columns]


def counts(table):
    return {r.label: [(c.numerator, c.denominator) for c in r.cells] for r in table.rows}


@pytest.fixture
def month(city, people):
    return build(city, people)


def test_intake_type_by_district_and_by_month(month, people):
    rows, cols = cells(
        table_of(people.dispatcher, rows="case_type", cols="district", measure="intake_volume")
    )
    # A, B, G complaints in 东湖区; C consultation in 西湖区, D consultation in 东湖区; E draft and F (October) out
    assert cols == ["东湖区", "西湖区", "合计"]
    assert rows == {"咨询": [1, 1, 2], "投诉": [3, 0, 3], "合计": [4, 1, 5]}
    rows, cols = cells(table_of(people.dispatcher, rows="case_type", cols="month", measure="intake_volume"))
    assert cols == ["2026-11", "2026-12", "合计"]
    assert rows == {"咨询": [2, 0, 2], "投诉": [2, 1, 3], "合计": [4, 1, 5]}
    rows, _ = cells(table_of(people.dispatcher, rows="channel", measure="intake_volume"))
    assert rows == {"电话": [4], "网站": [1], "合计": [5]}


def test_sub_units_roll_up_below_the_filtered_area_and_the_handling_unit(month, city, people):
    rows, _ = cells(table_of(people.dispatcher, rows="area", measure="intake_volume"))
    assert rows == {"东湖区": [4], "西湖区": [1], "合计": [5]}
    rows, _ = cells(table_of(people.dispatcher, rows="area", measure="intake_volume", area=city.east.pk))
    assert rows == {"梨园街道": [3], "关山街道": [1], "合计": [4]}  # A, D, G at 幸福社区 (梨园); B at 关山
    rows, _ = cells(table_of(people.dispatcher, rows="unit", measure="intake_volume"))
    assert rows == {
        "东湖区": [2],
        "西湖区": [1],
        "（未填）": [2],
        "合计": [5],
    }  # D answered, G not dispatched


def test_unit_efficiency_with_a_reopened_case(month, city, people):
    table = table_of(
        people.dispatcher,
        rows="unit",
        measure=["on_time_sign_for", "on_time_completion", "redo_rate", "average_handling_hours"],
    )
    rows, cols = cells(table)
    assert cols == ["按时签收率", "按期办结率", "重办率", "平均办理时长"]
    # sign-for: A in time, B a day late, C (west) never signed and past its deadline
    # completion: A reported again at T0+4d (due T0+5d) on time; B at T0+3d (due T0+2d) late
    # redo: A and B called back, A redone once; handling: A 96 h (reopened: T0 → last report), B 72 h
    assert rows["东湖区"] == [50.0, 50.0, 50.0, 84.0]
    assert rows["西湖区"] == [0.0, None, None, None]
    assert rows["合计"] == [33.3, 50.0, 50.0, 84.0]
    assert counts(table)["合计"][:3] == [(1, 3), (1, 2), (1, 2)]
    assert counts(table)["合计"][3] == (168 * 3600, 2)


def test_satisfaction_extensions_and_first_contact_resolution_of_consultations(month, city, people):
    rows, _ = cells(table_of(people.dispatcher, rows="unit", measure=["satisfaction", "extensions"]))
    assert rows["东湖区"] == [66.7, 1]  # A dissatisfied then satisfied, B satisfied: 2 of 3 callbacks
    consult = dict_item(DictKind.CASE_TYPE, "consult")
    table = table_of(
        people.dispatcher, rows="bureau", measure="first_contact_resolution", case_type=consult.pk
    )
    rows, _ = cells(table)
    assert rows == {"市税务局": [0.0], "市住建局": [100.0], "合计": [50.0]}


def test_every_grouped_total_equals_its_measure(month, people):
    """The grouped forms and measures.py cannot drift: the grand total of each is the measure's own figure."""
    with clock.frozen_now(RUN_AT):
        spec = engine.parse(
            {**PERIOD, "rows": "case_type", "measure": [x.key for x in g.GROUPED]}, user=people.dispatcher
        )
        table = engine.run(spec)
        total = table.rows[-1]
        for col, cell in zip(table.columns, total.cells, strict=True):
            figure = col.measure.measure.compute(spec.scope)
            expected_den = figure.denominator if figure.denominator is not None else figure.value
            assert (cell.value, cell.denominator) == (figure.value, expected_den), col.measure.key
    assert len(g.GROUPED) <= engine.MAX_MEASURES


def test_a_unit_leader_sees_its_subtree_only(month, city, people):
    rows, _ = cells(table_of(people.east_leader, rows="case_type", measure="intake_volume"))
    assert rows == {"投诉": [2], "合计": [2]}  # A and B were given to 东湖区; G was never dispatched
    with pytest.raises(NotFound):
        table_of(people.east_leader, rows="case_type", measure="intake_volume", unit=city.west.pk)
    rows, _ = cells(table_of(people.east_leader, rows="unit", measure="on_time_sign_for"))
    assert rows == {"东湖区（本级）": [50.0], "合计": [50.0]}


def test_a_cell_clicks_through_to_exactly_its_cases(month, city, people, client):
    table = table_of(people.dispatcher, rows="case_type", cols="district", measure="intake_volume")
    complaint_east = next(r for r in table.rows if r.label == "投诉").cells[0]
    client.force_login(people.dispatcher)
    with clock.frozen_now(RUN_AT):
        html = client.get(complaint_east.url).content.decode()
    found = set(re.findall(r"\b20\d{12}\b", html))
    assert found == {month.a.number, month.b.number, month.g.number}
    by_month = table_of(people.dispatcher, rows="case_type", cols="month", measure="intake_volume")
    december = next(r for r in by_month.rows if r.label == "投诉").cells[1]
    with clock.frozen_now(RUN_AT):
        html = client.get(december.url).content.decode()
    assert set(re.findall(r"\b20\d{12}\b", html)) == {month.g.number}
    # the leader's scope (cases given to the subtree) is in the link too
    leader = table_of(people.east_leader, rows="area", measure="intake_volume")
    client.force_login(people.east_leader)
    with clock.frozen_now(RUN_AT):
        html = client.get(leader.rows[-1].cells[0].url).content.decode()
    assert set(re.findall(r"\b20\d{12}\b", html)) == {month.a.number, month.b.number}
    # figures over assignments or clocks have no case list that the search reproduces: no link, not a wrong one
    efficiency = table_of(people.dispatcher, rows="unit", measure="on_time_completion")
    assert all(c.url == "" for r in efficiency.rows for c in r.cells)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"rows": "nope", "measure": "intake_volume"}, "rows"),
        ({"rows": "case_type"}, "measure"),
        ({"rows": "case_type", "measure": "nope"}, "measure"),
        ({"rows": "case_type", "cols": "case_type", "measure": "intake_volume"}, "cols"),
        ({"rows": "case_type", "cols": "month", "measure": ["intake_volume", "satisfaction"]}, "measure"),
        ({"rows": "case_type", "measure": "intake_volume", "from": "yesterday"}, "from"),
        ({"rows": "case_type", "measure": "intake_volume", "bureau": "x"}, "bureau"),
        ({"rows": "case_type", "measure": "intake_volume", "case_type": 987654}, "case_type"),
        ({"rows": "case_type", "measure": "intake_volume", "status": "bogus"}, "status"),
    ],
)
def test_bad_parameters_are_400_with_field_errors(city, people, api, params, field):
    api.force_authenticate(people.dispatcher)
    response = api.get(reverse("analytics-crosstab-api"), {"period": "month", **params})
    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_the_api_answers_the_same_table_and_404_outside_the_subtree(month, city, people, api):
    api.force_authenticate(people.east_leader)
    with clock.frozen_now(RUN_AT):
        body = api.get(
            reverse("analytics-crosstab-api"), {**PERIOD, "rows": "case_type", "measure": "intake_volume"}
        ).json()
        assert [(r["name"], r["cells"][0]["value"]) for r in body["rows"]] == [("投诉", 2), ("合计", 2)]
        assert (
            api.get(
                reverse("analytics-crosstab-api"),
                {**PERIOD, "rows": "case_type", "measure": "intake_volume", "unit": city.west.pk},
            ).status_code
            == 404
        )
        # first-contact resolution has no unit side: a unit leader cannot ask for it
        bad = api.get(
            reverse("analytics-crosstab-api"),
            {**PERIOD, "rows": "case_type", "measure": "first_contact_resolution"},
        )
        assert bad.status_code == 400 and "measure" in bad.json()["errors"]
    api.force_authenticate(people.east)  # a handler, not a reader of figures
    assert (
        api.get(
            reverse("analytics-crosstab-api"), {"rows": "case_type", "measure": "intake_volume"}
        ).status_code
        == 403
    )
