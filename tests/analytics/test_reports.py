"""Saved cross-tab reports (save, share with the unit, re-run, 404 for others), the presets of STAT-2, the Excel
export and the A4 print."""

from __future__ import annotations

from io import BytesIO
from urllib.parse import urlencode

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from hotline.analytics.models import SavedReport
from hotline.analytics.reports import presets
from hotline.common import clock
from hotline.common.models import AuditLog
from hotline.orgs.models import Role
from tests.analytics.reports_fixture import PERIOD, RUN_AT, build
from tests.factories import user

QUERY = urlencode({**PERIOD, "rows": "case_type", "cols": "district", "measure": "intake_volume"})


@pytest.fixture
def month(city, people):
    return build(city, people)


def save(client, name, *, shared=False, query=QUERY):
    data = {"name": name, "query": query, **({"shared": "on"} if shared else {})}
    return client.post(reverse("analytics:report-save"), data)


def test_save_share_rerun_and_another_unit_gets_404(month, city, people, client):
    colleague = user("east_leader2", city.east, Role.UNIT_LEADER)
    client.force_login(people.east_leader)
    with clock.frozen_now(RUN_AT):
        response = save(client, "东湖区投诉月报", shared=True)
        assert response.status_code == 302
        shared = SavedReport.objects.get(name="东湖区投诉月报")
        private = SavedReport.objects.get(pk=save(client, "我的草稿").url.rstrip("/").split("/")[-1])
    assert shared.unit == city.east and shared.params["rows"] == ["case_type"]
    assert AuditLog.objects.filter(object_type="analytics.savedreport", object_id=str(shared.pk)).exists()
    client.force_login(colleague)
    with clock.frozen_now(RUN_AT):
        page = client.get(reverse("analytics:report-run", args=[shared.pk]))
        assert page.status_code == 200
        html = page.content.decode()
        assert "东湖区投诉月报" in html and 'data-testid="report-table"' in html
        assert client.get(reverse("analytics:report-run", args=[private.pk])).status_code == 404
        # only the owner deletes
        assert client.post(reverse("analytics:report-delete", args=[shared.pk])).status_code == 404
    client.force_login(people.liyuan_leader)  # another unit (a sub-unit, even): not shared with it
    assert client.get(reverse("analytics:report-run", args=[shared.pk])).status_code == 404
    client.force_login(people.east_leader)
    assert client.post(reverse("analytics:report-delete", args=[private.pk])).status_code == 302
    assert not SavedReport.objects.filter(pk=private.pk).exists()


def test_a_saved_report_is_rescoped_to_whoever_runs_it(month, city, people, client):
    """A report shared in the office and run by an office user covers the centre; parameters that name a unit
    outside the runner's subtree are 404, never the other unit's figures."""
    client.force_login(people.dispatcher)
    with clock.frozen_now(RUN_AT):
        save(client, "西湖区", shared=True, query=QUERY + f"&unit={city.west.pk}")
        report = SavedReport.objects.get(name="西湖区")
        assert client.get(reverse("analytics:report-run", args=[report.pk])).status_code == 200
    # a unit leader cannot save a report over another unit
    client.force_login(people.east_leader)
    assert save(client, "偷看", query=QUERY + f"&unit={city.west.pk}").status_code == 404
    assert save(client, "", query=QUERY).status_code == 400
    assert save(client, "坏参数", query="rows=nope").status_code == 400


def test_the_builder_page_runs_and_reports_bad_parameters_as_400(month, city, people, client):
    client.force_login(people.dispatcher)
    with clock.frozen_now(RUN_AT):
        page = client.get(reverse("analytics:reports") + "?" + QUERY)
        assert page.status_code == 200
        html = page.content.decode()
        assert 'data-testid="cell-link"' in html and "东湖区" in html
        bad = client.get(reverse("analytics:reports"), {"rows": "nope", "measure": "intake_volume"})
        assert bad.status_code == 400 and 'data-field="rows"' in bad.content.decode()
        assert (
            client.get(
                reverse("analytics:reports"), {"rows": "case_type", "measure": "intake_volume", "unit": "x"}
            ).status_code
            == 400
        )
        assert client.get(reverse("analytics:reports")).status_code == 200  # the empty builder
    client.force_login(people.east_leader)
    query = QUERY + f"&unit={city.west.pk}"
    assert client.get(reverse("analytics:reports") + "?" + query).status_code == 404
    client.force_login(people.east)
    assert client.get(reverse("analytics:reports")).status_code == 403


def test_every_preset_runs(month, people, client):
    client.force_login(people.dispatcher)
    keys = [p.key for p in presets.presets()]
    assert {
        "by_type",
        "by_bureau",
        "by_area",
        "by_channel",
        "by_status",
        "extensions",
        "unit_efficiency",
    } <= set(keys)
    assert "consult_fcr_by_bureau" in keys
    with clock.frozen_now(RUN_AT):
        for preset in presets.presets():
            query = urlencode({**preset.params, **PERIOD}, doseq=True)
            response = client.get(reverse("analytics:reports") + "?" + query)
            assert response.status_code == 200, preset.key
    client.force_login(people.east_leader)
    page = client.get(reverse("analytics:reports")).content.decode()
    assert 'data-preset="unit_efficiency"' in page and 'data-preset="consult_fcr_by_bureau"' not in page


def test_excel_export_states_the_filter_and_formats_numbers(month, city, people, client):
    client.force_login(people.dispatcher)
    query = urlencode(
        {
            **PERIOD,
            "rows": "unit",
            "measure": ["on_time_sign_for", "average_handling_hours", "extensions"],
            "channel": "phone",
        },
        doseq=True,
    )
    with clock.frozen_now(RUN_AT):
        response = client.get(reverse("analytics:reports") + "?" + query + "&export=xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(BytesIO(response.content)).active
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    flat = " ".join(str(c) for row in values for c in row if c is not None)
    assert "2026-11-01 — 2026-12-31" in flat and "来源渠道" in flat and "电话" in flat
    assert month.a.number not in flat and month.a.citizen_phone not in flat
    header = next(i for i, row in enumerate(values) if row[0] == "承办单位（下一级单位）")
    east = next(i for i, row in enumerate(values) if row[0] == "东湖区")
    # phone only: A (in time) and B is web: east has 1 of 1 signed in time; A took 96 h; B's extension not counted
    assert values[east][1:4] == [1.0, 96.0, 0]
    rows = list(sheet.iter_rows(min_row=east + 1, max_row=east + 1))[0]
    assert (
        rows[1].number_format == "0.0%"
        and rows[2].number_format == "0.0"
        and rows[3].number_format == "#,##0"
    )
    assert values[header][1:4] == ["按时签收率", "平均办理时长", "延期申请数"]
    assert str(sheet.page_setup.paperSize) == sheet.PAPERSIZE_A4 == "9"
    log = AuditLog.objects.get(object_type="analytics.crosstab")
    assert log.actor == people.dispatcher and log.changes["filter"]["channel"] == "phone"


def test_print_layout_is_a4_without_links(month, people, client):
    client.force_login(people.dispatcher)
    with clock.frozen_now(RUN_AT):
        html = client.get(reverse("analytics:reports") + "?" + QUERY + "&print=1").content.decode()
    assert "print.css" in html and 'data-testid="report-table"' in html
    assert 'data-testid="cell-link"' not in html and "统计区间" in html
