"""WX-1 progress notices as WeChat template messages, set up in the browser: the monitor opens 市民文案, gives the
progress notice a template id and its field mapping (refused first for a placeholder the notice lacks), and after
a WeChat request moves on finds the template messages WeChat accepted — and the one an unsubscribed follower's
account refused (43004) — in the list under the WeChat texts. WeChat is the loopback stand-in of its API."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from hotline.cases import services as case_services
from hotline.cases.lifecycle import Action
from hotline.cases.models import AssignmentRole
from hotline.intake.defaults import seed_channel_templates
from hotline.intake.models import WeChatNoticeTemplate, WeChatTemplateSend
from hotline.notify.models import MessageTemplate
from tests.conftest import fresh
from tests.e2e.test_case_loop_browser import Desk
from tests.intake.test_wechat_channel import APP_ID, OPENID, Follower
from tests.intake.test_wechat_channel import account as account  # noqa: F401 (fixture)
from tests.intake.test_wechat_templates import FIELDS, SECRET, TEMPLATE_ID, _wechat_case
from tests.intake.wechat_standin import StandIn, wechat_api

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def api(account: Any) -> Iterator[StandIn]:
    with wechat_api(APP_ID, SECRET) as standin:
        account.api_base_url = standin.url
        account.set_app_secret(SECRET)
        account.save()
        standin.templates = {TEMPLATE_ID: {"first", "keyword1", "keyword2", "thing3", "remark"}}
        cache.clear()
        yield standin


def test_monitor_sets_the_progress_template_and_sees_what_wechat_answered(
    browser, live_server, city, people, screenshot_dir, api
):
    seed_channel_templates(MessageTemplate)  # transactional tests flush what the migrations seeded
    desk = Desk(browser, live_server.url, people.monitor.username, screenshot_dir)
    page = desk.page
    page.get_by_test_id("nav-channels").click()
    page.get_by_role("link", name="市民文案").click()
    form = page.get_by_test_id("wechat-template-wechat_progress")
    form.get_by_label("模板ID").fill(TEMPLATE_ID)
    form.get_by_label("字段对应（每行：字段名=内容）").fill("keyword1={number}\nkeyword2={password}")
    form.get_by_role("button", name="保存模板消息").click()
    form = page.get_by_test_id("wechat-template-wechat_progress")
    expect(form.get_by_test_id("error-fields")).to_contain_text("{password}")
    form.get_by_label("字段对应（每行：字段名=内容）").fill(FIELDS)
    form.get_by_role("button", name="保存模板消息").click()
    expect(page.get_by_test_id("texts-flash")).to_be_visible()
    form = page.get_by_test_id("wechat-template-wechat_progress")
    expect(form.get_by_test_id("template-active")).to_be_visible()
    expect(form.get_by_label("字段对应（每行：字段名=内容）")).to_have_value(FIELDS)
    assert WeChatNoticeTemplate.objects.get().template_id == TEMPLATE_ID

    case = _wechat_case(Follower(safe=True))
    case_services.case_take_intake_action(  # committed: the notice goes out after it
        case=fresh(case), actor=people.agent, action=Action.SUBMIT, expected_version=None
    )
    assert [m["data"]["keyword1"]["value"] for m in api.templates_sent] == [case.number]
    api.unsubscribed.add(OPENID)  # the follower leaves the account
    case_services.case_dispatch(
        case=fresh(case),
        actor=people.dispatcher,
        expected_version=None,
        targets=[case_services.Target(city.east, AssignmentRole.MAIN)],
    )
    assert WeChatTemplateSend.objects.filter(status="unsubscribed").count() == 1
    page.reload()
    sends = page.get_by_test_id("template-sends")
    expect(sends.locator("tr", has_text="已发送")).to_contain_text(case.number)
    expect(sends.locator("tr", has_text="用户未关注")).to_contain_text("43004")
    desk.shot("texts-02-wechat-template")
    desk.context.close()
