"""The big screen (MON-3) at 1920×1080: a case registered elsewhere is pushed to the open screen (SSE), and the
figures change without a reload; the charts are drawn by ECharts when the npm package is installed."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from hotline.analytics import bigscreen
from tests.conftest import dispatched_to, submitted_case
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db(transaction=True)


def test_big_screen_receives_a_pushed_update(
    browser: Any, live_server: Any, city: Any, people: Any, screenshot_dir: Any
) -> None:
    dispatched_to(city, people, city.liyuan)
    context = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("用户名").fill("leader")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url(f"{live_server.url}/")
    page.goto(f"{live_server.url}/analytics/screen/")
    today = page.get_by_test_id("screen-intake-today")
    expect(today).to_have_text("1")
    expect(page.get_by_test_id("screen-open")).to_have_text("1")
    expect(page.get_by_test_id("screen-live")).to_have_class("live on", timeout=10_000)  # the stream is open
    page.evaluate("window.__marker = 'not reloaded'")

    submitted_case(city, people)  # another desk registers a request: case_transitioned → notice → snapshot
    dispatched_to(city, people, city.west)
    expect(today).to_have_text("3", timeout=10_000)
    expect(page.get_by_test_id("screen-open")).to_have_text("3")
    assert page.evaluate("window.__marker") == "not reloaded"
    if bigscreen.echarts_available():
        expect(page.locator('[data-chart="ranking"] canvas')).to_have_count(1)
    page.screenshot(path=str(screenshot_dir / "bigscreen-01-pushed.png"))
    context.close()
