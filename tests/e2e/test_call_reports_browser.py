"""The login-details call report (签入签出明细, seed 3.8.1) in the browser: the office picks the report and the
day, the table pairs each sign-in with its sign-out (a supervisor's forced logout told apart, a session still
open shown as online), and the Excel export carries the same rows."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from hotline.common import clock
from hotline.telephony import services
from hotline.telephony.models import Queue
from hotline.telephony.states import AgentEvent
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)
DAY = dt.datetime(2026, 11, 24, tzinfo=ZoneInfo("Asia/Shanghai"))


def at(hh: int, mm: int) -> dt.datetime:
    return DAY.replace(hour=hh, minute=mm)


def test_office_reads_and_exports_the_login_details(
    browser: Any, live_server: Any, city: Any, people: Any, screenshot_dir: Any
) -> None:
    queue = Queue.objects.create(code="general", name="综合")
    seat = services.agent_create(
        agent_id="1001", password="secret1", extension="1001", skills=[queue], user=people.agent, actor=None
    )
    for moment, event in (
        (at(8, 0), AgentEvent.LOGIN),
        (at(8, 30), AgentEvent.LOGOUT),
        (at(9, 0), AgentEvent.LOGIN),
    ):
        with clock.frozen_now(moment):
            services.agent_event(agent_pk=seat.pk, event=event)
    with clock.frozen_now(at(11, 0)):
        services.agent_force_state(agent_id="1001", target="logout", actor=people.monitor)
    with clock.frozen_now(at(13, 0)):
        services.agent_event(agent_pk=seat.pk, event=AgentEvent.LOGIN)

    desk = Desk(browser, live_server.url, "dispatcher", screenshot_dir)
    page = desk.page
    page.goto(f"{live_server.url}/analytics/calls/")
    form = page.get_by_test_id("calls-form")
    form.get_by_label("报表").select_option(label="签入签出明细")
    form.get_by_label("开始日期").fill("2026-11-24")
    form.get_by_label("结束日期").fill("2026-11-24")
    form.get_by_role("button", name="统计").click()
    table = page.locator('[data-testid="calls-table"][data-report="logins"]')
    expect(table).to_be_visible()
    rows = table.locator("tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0)).to_contain_text("仍在线")  # newest first: the 13:00 session is still open
    expect(rows.nth(1)).to_contain_text("班长强制签出")
    expect(rows.nth(2)).to_contain_text("签出")
    for row in (rows.nth(0), rows.nth(1), rows.nth(2)):
        expect(row).to_contain_text("1001")
    expect(rows.nth(1)).to_contain_text("7200")  # 09:00–11:00
    expect(rows.nth(2)).to_contain_text("1800")  # 08:00–08:30
    desk.shot("calls-logins-01")

    with page.expect_download() as download_info:
        page.get_by_test_id("calls-export").click()
    book = load_workbook(BytesIO(Path(download_info.value.path()).read_bytes()))
    values = [[str(c) for c in row if c is not None] for row in book.active.iter_rows(values_only=True)]
    text = "\n".join(" ".join(v) for v in values)
    assert "班长强制签出" in text and "仍在线" in text and text.count("1001") >= 3
    desk.close()
