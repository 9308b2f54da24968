"""Online chat in Chromium: an agent watches the chat queue (desktop), a citizen on a phone (390 px) opens a chat
from the portal; the waiting session appears on the agent's queue without a reload, the agent accepts, and they
exchange lines live (pushed over SSE both ways); the agent registers a case from the chat and the citizen ends
it: the transcript is on the case's timeline. No CSP errors on either page."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from hotline.cases.lifecycle import Action
from hotline.cases.models import Case
from hotline.intake.defaults import seed_channel_templates
from hotline.intake.models import ChatSession
from hotline.notify.models import MessageTemplate
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def test_citizen_on_a_phone_and_an_agent_chat_live(
    browser: Any, live_server: Any, city: Any, people: Any, screenshot_dir: Any
) -> None:
    cache.clear()
    seed_channel_templates(MessageTemplate)
    errors: list[str] = []
    desk = Desk(browser, live_server.url, "agent", screenshot_dir)
    agent = desk.page
    agent.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    agent.get_by_test_id("nav-chat").click()
    expect(agent.get_by_test_id("chat-waiting-count")).to_have_text("0")

    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    citizen = context.new_page()
    citizen.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    citizen.goto(f"{live_server.url}/portal/")
    citizen.get_by_test_id("portal-go-chat").click()
    citizen.get_by_test_id("chat-start").click()
    expect(citizen.get_by_test_id("chat-line").first).to_contain_text("欢迎使用12345在线客服")
    expect(citizen.get_by_test_id("chat-state")).to_contain_text("排队")
    citizen.get_by_test_id("chat-input").fill("幸福社区3栋门口的路灯坏了，晚上很黑。")
    citizen.get_by_test_id("chat-send").click()
    expect(citizen.locator("[data-author=citizen]")).to_have_count(1)
    assert citizen.evaluate("document.documentElement.scrollWidth") <= 390

    # The queue learns of the new session over SSE (no reload); the agent accepts it.
    expect(agent.get_by_test_id("chat-waiting-count")).to_have_text("1", timeout=10_000)
    agent.get_by_test_id("chat-accept").click()
    expect(agent.locator("[data-author=citizen]")).to_contain_text("路灯坏了")
    expect(citizen.get_by_test_id("chat-state")).to_contain_text("客服已接入", timeout=10_000)
    expect(citizen.locator("[data-author=system]").last).to_contain_text("agent号为您服务")

    agent.get_by_test_id("chat-input").fill("您好，请问是几号楼？")
    agent.get_by_test_id("chat-send").click()
    expect(citizen.locator("[data-author=agent]")).to_contain_text("您好，请问是几号楼？", timeout=10_000)
    citizen.get_by_test_id("chat-input").fill("3栋，东门口。")
    citizen.get_by_test_id("chat-send").click()
    expect(agent.locator("[data-author=citizen]").last).to_contain_text("3栋，东门口。", timeout=10_000)
    desk.shot("chat-01-agent")
    citizen.screenshot(path=str(screenshot_dir / "chat-02-citizen-390.png"), full_page=True)

    # A case from the chat; the citizen is told its number, then ends the chat.
    agent.get_by_label("诉求类型").select_option(label="求助")
    agent.get_by_label("标题").fill("路灯坏了")
    agent.get_by_label("联系电话").fill("13600004444")
    agent.get_by_test_id("chat-make-case").click()
    expect(agent.get_by_test_id("chat-case")).to_contain_text("会话结束后记录存入工单")
    number = ChatSession.objects.get().case.number  # type: ignore[union-attr]
    expect(citizen.locator("[data-author=system]").last).to_contain_text(number, timeout=10_000)
    citizen.get_by_test_id("chat-end").click()
    expect(citizen.get_by_test_id("chat-state")).to_contain_text("会话已结束")
    expect(citizen.get_by_test_id("chat-input")).to_be_disabled()
    expect(agent.get_by_test_id("chat-state")).to_contain_text("会话已结束", timeout=10_000)
    event = Case.objects.get(number=number).events.get(action=Action.CITIZEN_MESSAGE)
    assert "3栋，东门口。" in event.opinion and "您好，请问是几号楼？" in event.opinion
    assert not [e for e in errors if "Content Security Policy" in e or "Refused" in e], errors
    context.close()
    desk.context.close()
