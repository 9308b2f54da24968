"""最新公告 in the browser: a dispatcher writes a public announcement, a leader of the office approves it, and a
citizen on a phone (390 px) sees it on the portal's home page and opens it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hotline.bulletins.models import BulletinKind
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def test_public_announcement_reviewed_then_on_the_portal_at_390px(
    browser, live_server, people, screenshot_dir
):
    BulletinKind.objects.get_or_create(
        name="通知公告"
    )  # seeded by a migration; a flushing test may have emptied it
    dispatcher = Desk(browser, live_server.url, "dispatcher", screenshot_dir)
    page = dispatcher.page
    page.goto(f"{live_server.url}/bulletins/new/")
    page.get_by_label("类型").select_option(label="通知公告")
    page.get_by_label("标题").fill("元旦假期12345热线服务安排")
    page.get_by_label("正文").fill("元旦假期热线24小时服务，网上诉求、微信、短信照常受理。")
    page.get_by_test_id("bulletin-public").check()
    page.get_by_test_id("bulletin-send").click()
    expect(page.get_by_test_id("bulletin-public-info")).to_be_visible()
    expect(page.locator("body")).to_contain_text("待审核")

    citizen = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    phone = citizen.new_page()
    phone.goto(f"{live_server.url}/portal/")
    expect(phone.get_by_test_id("portal-announcements")).to_contain_text("暂无公告")  # not before review

    leader = Desk(browser, live_server.url, "leader", screenshot_dir)
    leader.page.goto(f"{live_server.url}/bulletins/review/")
    leader.page.get_by_role("link", name="元旦假期12345热线服务安排").click()
    leader.page.get_by_test_id("bulletin-approve").click()
    expect(leader.page.locator("body")).to_contain_text("已发布")

    phone.reload()
    link = phone.get_by_test_id("portal-announcement")
    expect(link).to_have_text("元旦假期12345热线服务安排")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    phone.screenshot(path=str(screenshot_dir / "portal-announcements-390.png"), full_page=True)
    link.click()
    expect(phone.get_by_test_id("announcement-body")).to_contain_text("网上诉求、微信、短信照常受理")
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    citizen.close()
