"""市民文案 in the browser: a monitor finds the WeChat welcome among every citizen text, is refused an unknown
placeholder, saves a new text (marked changed), and restores the default."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hotline.intake import texts
from hotline.intake.defaults import seed_channel_templates
from hotline.notify.models import MessageTemplate
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def test_monitor_edits_a_citizen_text_with_placeholder_checks(
    browser, live_server, city, people, screenshot_dir
):
    seed_channel_templates(MessageTemplate)  # transactional tests flush what the migrations seeded
    desk = Desk(browser, live_server.url, people.monitor.username, screenshot_dir)
    page = desk.page
    page.get_by_test_id("nav-channels").click()
    page.get_by_role("link", name="市民文案").click()
    for group in ("sms", "wechat", "chat", "email", "phone"):
        expect(page.get_by_test_id(f"group-{group}")).to_be_visible()
    form = page.get_by_test_id("text-wechat_type_chosen")
    form.get_by_label("正文").fill("请描述您的“{type}”，{name}您好。")
    form.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("texts-error")).to_be_visible()
    form = page.get_by_test_id("text-wechat_type_chosen")
    expect(form.get_by_test_id("error-body")).to_contain_text("{name}")
    form.get_by_label("正文").fill("请描述您的“{type}”：时间、地点和经过。")
    form.get_by_role("button", name="保存").click()
    expect(page.get_by_test_id("texts-flash")).to_be_visible()
    form = page.get_by_test_id("text-wechat_type_chosen")
    expect(form.get_by_test_id("changed")).to_be_visible()
    assert texts.text("wechat_type_chosen", {"type": "求助"}) == "请描述您的“求助”：时间、地点和经过。"
    desk.shot("texts-01-edited")
    form.get_by_role("button", name="恢复默认").click()
    form = page.get_by_test_id("text-wechat_type_chosen")
    expect(form.get_by_test_id("changed")).to_have_count(0)
    assert (
        MessageTemplate.objects.get(code="wechat_type_chosen").body
        == texts.DEFAULTS["wechat_type_chosen"].body
    )
    desk.context.close()
