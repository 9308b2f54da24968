"""INT-6 in the browser: a citizen on a phone (390 px wide) gets a code by SMS and sets a new query password on the
portal; the agent's case page only sends the code."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from hotline.common.crypto import check_code
from hotline.notify.models import Outbox
from tests.conftest import fresh, submitted_case
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def _code() -> str:
    body = Outbox.objects.filter(template="query_password_code").latest("id").body
    match = re.search(r"验证码(\d{6})", body)
    assert match, body
    return match.group(1)


def test_citizen_resets_the_query_password_on_a_phone(browser, live_server, city, people, screenshot_dir):
    cache.clear()
    case = submitted_case(city, people)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN")
    page = context.new_page()
    page.goto(f"{live_server.url}/portal/query-password/")
    expect(page.get_by_role("heading", name="找回查询密码")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    code_form = page.get_by_test_id("portal-code-form")
    code_form.get_by_label("工单编号").fill(case.number)
    code_form.get_by_label("受理时登记的手机号码或电子邮箱").fill("13812345678")
    code_form.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_test_id("portal-code-sent")).to_be_visible()
    reset_form = page.get_by_test_id("portal-reset-form")
    assert reset_form.get_by_label("工单编号").input_value() == case.number
    reset_form.get_by_label("验证码").fill("12ab")
    reset_form.get_by_role("button", name="重置查询密码").click()
    expect(page.get_by_test_id("error-code")).to_contain_text("6位数字")
    reset_form.get_by_label("验证码").fill(_code())
    reset_form.get_by_role("button", name="重置查询密码").click()
    password = page.get_by_test_id("new-password").inner_text()
    assert check_code(password, fresh(case).query_password)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(screenshot_dir / "portal-query-password-390.png"), full_page=True)
    context.close()

    # The agent can only have a code sent (for another caller: one code a minute per case); the page never shows
    # the code or a password.
    other = submitted_case(city, people, citizen_phone="13912345678")
    agent = Desk(browser, live_server.url, "agent", screenshot_dir)
    agent.page.goto(f"{live_server.url}/cases/{other.pk}/")
    agent.page.get_by_test_id("send-reset-code").click()
    expect(agent.page.locator("[role=alert]").first).to_contain_text("139****5678")
    assert Outbox.objects.filter(template="query_password_code").count() == 2
    assert _code() not in agent.page.content()
    agent.close()
