"""WEB-1 in Chromium on a phone (390 px): a citizen gets an SMS code through the button (htmx), submits a request
with a photo, gets the case number and query password, later looks it up and rates the result (CLS-2)."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from hotline.cases.models import Callback, Case, CaseStatus, Channel
from hotline.intake.defaults import seed_channel_templates
from hotline.notify.models import MessageTemplate, Outbox
from hotline.notify.services import delivery_text
from tests.intake.conftest import carry_to_callback
from tests.intake.test_mail_imap import PNG

pytestmark = pytest.mark.django_db(transaction=True)


def _code(phone: str) -> str:
    body = delivery_text(Outbox.objects.filter(template="channel_login_code", address=phone).latest("id"))
    match = re.search(r"验证码(\d{6})", body)
    assert match, body
    return match.group(1)


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # no sideways scrolling


def test_citizen_submits_on_a_phone_and_rates_the_result(
    browser, live_server, city, people, screenshot_dir, tmp_path
):
    cache.clear()
    seed_channel_templates(MessageTemplate)
    photo = tmp_path / "路灯.png"
    photo.write_bytes(PNG)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.goto(f"{live_server.url}/portal/")
    _fits(page)
    page.get_by_test_id("portal-go-submit").click()
    expect(page.get_by_role("heading", name="我要反映")).to_be_visible()
    _fits(page)
    form = page.get_by_test_id("portal-submit-form")
    form.get_by_label("诉求类型").select_option("complaint")
    form.get_by_label("标题").fill("路灯坏了")
    form.get_by_label("诉求内容").fill(
        "梨园街道幸福社区3栋门口的路灯坏了一个多月，晚上很黑，老人出行不便，请尽快维修。"
    )
    form.get_by_label("事发地点").fill("幸福社区3栋")
    form.get_by_label("现场照片（选填，最多9张）").set_input_files(str(photo))
    form.get_by_label("手机号码").fill("13600001111")
    form.get_by_test_id("send-code").click()
    expect(page.get_by_test_id("code-status")).to_contain_text("验证码已发送")
    form.get_by_label("短信验证码").fill(_code("13600001111"))
    page.screenshot(path=str(screenshot_dir / "portal-submit-390.png"), full_page=True)
    form.get_by_role("button", name="提交诉求").click()
    expect(page.get_by_test_id("portal-submitted")).to_be_visible()
    _fits(page)
    number = page.get_by_test_id("case-number").inner_text()
    password = page.get_by_test_id("query-password").inner_text()
    case = Case.objects.get(number=number)
    assert case.channel == Channel.WEB and case.attachments.count() == 1 and re.fullmatch(r"\d{8}", password)
    page.screenshot(path=str(screenshot_dir / "portal-submitted-390.png"), full_page=True)
    context.close()

    carry_to_callback(case, city, people)
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    page.goto(f"{live_server.url}/portal/case/")
    lookup = page.get_by_test_id("portal-lookup-form")
    lookup.get_by_label("工单编号").fill(number)
    lookup.get_by_label("查询密码").fill(password)
    lookup.get_by_role("button", name="查询").click()
    expect(page.get_by_test_id("current-stage")).to_have_text("回访评价")
    expect(page.get_by_test_id("case-reply")).to_contain_text("已安排清理完毕")
    _fits(page)
    rating = page.get_by_test_id("portal-rating-form")
    rating.get_by_label("非常满意").check()
    rating.get_by_role("button", name="提交评价").click()
    expect(page.get_by_test_id("case-rating")).to_have_text("非常满意")
    expect(page.get_by_test_id("case-status")).to_have_text("已办结")
    page.screenshot(path=str(screenshot_dir / "portal-rated-390.png"), full_page=True)
    assert Case.objects.get(pk=case.pk).status == CaseStatus.CLOSED
    assert Callback.objects.get(case=case).actor_id is None
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    context.close()
