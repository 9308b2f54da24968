"""The cross-tab builder in the browser: build, drill down, save, re-run, export (issue 15, RPT-1)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from hotline.analytics.models import ReportSchedule, SavedReport
from tests.analytics.reports_fixture import build
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def test_build_drill_save_rerun_and_export(browser, live_server, city, people, screenshot_dir):
    month = build(city, people)
    desk = Desk(browser, live_server.url, "dispatcher", screenshot_dir)
    page = desk.page
    page.get_by_role("link", name="统计报表").click()
    form = page.get_by_test_id("report-form")
    form.get_by_label("行", exact=True).select_option(label="诉求类型")
    form.get_by_label("列", exact=True).select_option(label="所属区县")
    form.get_by_label("统计周期").select_option("custom")
    form.get_by_label("开始日期").fill("2026-11-01")
    form.get_by_label("结束日期").fill("2026-12-31")
    form.get_by_label("受理量").check()
    page.get_by_test_id("report-run").click()
    table = page.get_by_test_id("report-table")
    assert table.locator("tr[data-row=total] td").all_inner_texts() == ["4", "1", "5"]
    desk.shot("30-crosstab")

    # drill down: 投诉 × 东湖区 lists its three cases in the case search
    complaint = table.locator("tr", has=page.get_by_role("rowheader", name="投诉"))
    complaint.get_by_test_id("cell-link").first.click()
    page.wait_for_load_state("networkidle")
    for case in (month.a, month.b, month.g):
        assert page.get_by_role("link", name=case.number).count() >= 1
    assert page.get_by_role("link", name=month.d.number).count() == 0
    page.go_back()

    # save, shared with the unit, then re-run it from the list with one click
    save = page.get_by_test_id("report-save-form")
    save.get_by_label("报表名称").fill("类型×区县月报")
    save.get_by_label("共享给本单位").check()
    save.get_by_role("button", name="保存报表").click()
    page.wait_for_load_state("networkidle")
    report = SavedReport.objects.get(name="类型×区县月报")
    assert report.shared and report.owner == people.dispatcher
    page.get_by_role("link", name="统计报表").click()
    page.get_by_test_id("saved-reports").get_by_role("link", name="类型×区县月报").click()
    assert page.get_by_role("heading", name="类型×区县月报").is_visible()
    assert page.get_by_test_id("report-table").locator("tr[data-row=total] td").all_inner_texts() == [
        "4",
        "1",
        "5",
    ]

    # export
    with page.expect_download() as download:
        page.get_by_test_id("report-export").click()
    path = download.value.path()
    assert path is not None
    sheet = load_workbook(BytesIO(Path(path).read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "类型×区县月报"
    assert ["合计", 4, 1, 5] in [list(r[:4]) for r in rows]

    # schedule the saved report and a call report to be e-mailed weekly (RPT-1), then remove one
    people.dispatcher.email = "office@example.test"
    people.dispatcher.save(update_fields=["email"])
    page.get_by_role("link", name="统计报表").click()
    page.get_by_test_id("schedules-link").click()
    form = page.get_by_test_id("schedule-form")
    form.get_by_label("报表", exact=True).select_option(label="类型×区县月报")
    form.get_by_label("频率").select_option("weekly")
    form.get_by_label("发送时刻").select_option(label="8:00")
    form.get_by_label("收件人（可多选）").select_option(str(people.dispatcher.pk))
    page.get_by_test_id("schedule-save").click()
    form.get_by_label("报表", exact=True).select_option(label="综合话务量")
    form.get_by_label("收件人（可多选）").select_option(str(people.dispatcher.pk))
    page.get_by_test_id("schedule-save").click()
    listed = page.get_by_test_id("schedules")
    expect(listed).to_contain_text("类型×区县月报")
    expect(listed).to_contain_text("综合话务量")
    expect(listed.locator("tr", has_text="类型×区县月报")).to_contain_text("每周（上周一至周日） 8:00")
    desk.shot("31-schedules")
    listed.locator("tr", has_text="综合话务量").get_by_role("button", name="删除").click()
    expect(listed).not_to_contain_text("综合话务量")
    assert ReportSchedule.objects.get().report == report
    desk.close()
