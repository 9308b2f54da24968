"""The measures page, its export and the JSON API: permissions, scoping, rendering, audit (issue 15)."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from zoneinfo import ZoneInfo

from django.urls import reverse
from openpyxl import load_workbook

from hotline.analytics.measures import MEASURES
from hotline.common import clock
from hotline.common.models import AuditLog
from tests.conftest import as_user, dispatched_to

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 25, 10, tzinfo=SH)
API = "/api/v1/analytics/measures/"


def figures(body) -> dict:
    return {row["key"]: row for row in body["measures"]}


def test_api_for_the_office_and_a_unit_leaders_subtree(city, people, api):
    with clock.frozen_now(NOW):
        dispatched_to(city, people, city.liyuan)
        dispatched_to(city, people, city.west)
        office = as_user(api, people.dispatcher).get(API, {"from": "2026-11-01", "to": "2026-11-30"})
        assert office.status_code == 200, office.content
        body = office.json()
        assert body["unit"] is None
        assert figures(body)["intake_volume"]["value"] == 2
        assert figures(body)["answer_rate"]["applicable"] is True
        # the office may pick any unit: the figures of its subtree
        east = as_user(api, people.dispatcher).get(API, {"period": "month", "unit": city.east.pk}).json()
        assert (east["unit"], figures(east)["intake_volume"]["value"]) == (city.east.pk, 1)
        # a unit leader sees its own subtree by default, never another's
        leader = as_user(api, people.east_leader).get(API, {"period": "week"}).json()
        assert leader["unit"] == city.east.pk
        assert figures(leader)["intake_volume"]["value"] == 1
        assert figures(leader)["answer_rate"]["applicable"] is False
        assert as_user(api, people.east_leader).get(API, {"unit": city.liyuan.pk}).status_code == 200
        assert as_user(api, people.east_leader).get(API, {"unit": city.west.pk}).status_code == 404
        assert as_user(api, people.east_leader).get(API, {"unit": 999999}).status_code == 404
        assert as_user(api, people.leader).get(API, {"unit": 2**70}).status_code in (400, 404)  # never 500
        assert as_user(api, people.leader).get(API, {"unit": -1}).status_code == 404


def test_api_refuses_handlers_and_answers_bad_input_with_field_errors(city, people, api):
    assert as_user(api, people.liyuan).get(API).status_code == 403
    assert as_user(api, people.agent).get(API).status_code == 403
    client = as_user(api, people.leader)
    for params, field in (
        ({"from": "2026-13-01"}, "from"),
        ({"from": "2026-11-30", "to": "2026-11-01"}, "from"),
        ({"period": "year"}, "period"),
        ({"unit": "east"}, "unit"),
        ({"to": "0001-01-01"}, "to"),
        ({"from": "9999-12-31", "to": "9999-12-31"}, "from"),
    ):
        response = client.get(API, params)
        assert response.status_code == 400, params
        assert field in response.json()["errors"]


def test_page_renders_with_formulas_and_links_for_a_leader(client, city, people):
    with clock.frozen_now(NOW):
        dispatched_to(city, people, city.east)
        client.force_login(people.leader)
        response = client.get(reverse("analytics:measures"), {"period": "month"})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-measure="satisfaction"' in html and "非常满意 + 满意 + 基本满意" in html
    assert 'data-measure="service_level_20"' in html
    assert f'href="{reverse("case-search")}?created_from=' in html  # the intake figure opens its cases


def test_page_is_refused_to_handlers_and_other_units_are_not_found(client, city, people):
    client.force_login(people.liyuan)
    assert client.get(reverse("analytics:measures")).status_code == 403
    client.force_login(people.east_leader)
    assert client.get(reverse("analytics:measures"), {"unit": city.west.pk}).status_code == 404
    assert client.get(reverse("analytics:measures"), {"unit": city.xingfu.pk}).status_code == 200
    bad = client.get(reverse("analytics:measures"), {"from": "yesterday"})
    assert bad.status_code == 200 and "日期格式" in bad.content.decode()


def test_export_holds_figures_only_and_is_audited(client, city, people):
    with clock.frozen_now(NOW):
        case = dispatched_to(city, people, city.east)
        client.force_login(people.dispatcher)
        response = client.get(reverse("analytics:measures"), {"period": "month", "export": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    text = " ".join(cells)
    assert "受理量" in text and "满意率" in text
    for personal in (case.citizen_phone, case.citizen_name, case.number, case.content[:10]):
        assert personal not in text
    log = AuditLog.objects.get(object_type="analytics.measures")
    assert log.actor == people.dispatcher and log.changes["rows"] == len(MEASURES)
    assert log.changes["filter"]["from"] == "2026-11-01"
