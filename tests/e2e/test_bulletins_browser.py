"""BUL-1 in the browser: a dispatcher sends a bulletin to several units, a leader of the office approves it, a
unit handler reads it, and the dispatcher sees who has not read it yet."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hotline.bulletins.models import BulletinKind
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def test_send_review_read_and_who_has_not_read(browser, live_server, city, people, screenshot_dir):
    BulletinKind.objects.get_or_create(
        name="紧急通知"
    )  # seeded by a migration; a flushing test may have emptied it
    dispatcher = Desk(browser, live_server.url, "dispatcher", screenshot_dir)
    page = dispatcher.page
    page.goto(f"{live_server.url}/bulletins/new/")
    page.get_by_label("类型").select_option(label="紧急通知")
    page.get_by_label("标题").fill("寒潮预警：请做好供暖投诉应对")
    page.get_by_label("正文").fill("各单位：明日起寒潮来袭，请安排专人值守供暖类诉求。")
    page.get_by_test_id("bulletin-units").select_option(
        label=[city.tax.name, city.housing.name, city.east.name, city.west.name]
    )
    page.get_by_test_id("bulletin-send").click()
    expect(page.get_by_test_id("bulletin-subject")).to_have_text("寒潮预警：请做好供暖投诉应对")
    expect(page.locator("body")).to_contain_text("待审核")
    dispatcher.shot("bulletins-01-pending")

    leader = Desk(browser, live_server.url, "leader", screenshot_dir)
    leader.page.goto(f"{live_server.url}/bulletins/review/")
    leader.page.get_by_role("link", name="寒潮预警：请做好供暖投诉应对").click()
    leader.page.get_by_test_id("bulletin-approve").click()
    expect(leader.page.locator("body")).to_contain_text("已发布")

    handler = Desk(browser, live_server.url, "tax", screenshot_dir)
    handler.page.goto(f"{live_server.url}/bulletins/")
    row = handler.page.get_by_test_id("bulletin-row").first
    expect(row).to_contain_text("未读")
    row.get_by_role("link").click()
    expect(handler.page.get_by_test_id("bulletin-body")).to_contain_text("寒潮来袭")

    page.reload()
    expect(page.get_by_test_id("read-list")).to_contain_text("tax")
    expect(page.get_by_test_id("unread-list")).to_contain_text("housing")
    expect(page.get_by_test_id("unread-list")).not_to_contain_text("tax")
    dispatcher.shot("bulletins-02-read-status")
