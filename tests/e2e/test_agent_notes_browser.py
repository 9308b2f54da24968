"""SPV-1 in the browser: a supervisor sends a message from the live board and it appears on the agent's call bar
(pushed) until the agent marks it read; the agent asks for help from the bar, the supervisor sees the request
on the board (pushed), takes it, and the agent's bar says it was handled.

Push races: each page's stream is waited open (`tests/e2e/sse.py`) before anything is pushed to it."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from hotline.telephony import services
from hotline.telephony.models import AgentNote, Number, Queue
from tests.e2e.sse import track_streams, wait_stream_open
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def test_supervisor_message_and_agent_help_request_round_trip(
    browser: Any, live_server: Any, settings: Any, city: Any, people: Any, screenshot_dir: Any
) -> None:
    settings.HOTLINE_TELEPHONY = "on"
    queue = Queue.objects.create(code="general", name="综合")
    Number.objects.create(number="12345", name="热线", queue=queue)
    services.agent_create(
        agent_id="1001", password="secret1", extension="1001", skills=[queue], user=people.agent, actor=None
    )
    agent = Desk(browser, live_server.url, "agent", screenshot_dir)
    track_streams(agent.context)
    agent.page.reload()
    bar = agent.page.get_by_test_id("callbar")
    bar.get_by_test_id("callbar-password").fill("secret1")
    bar.get_by_test_id("callbar-login").click()
    expect(agent.page.get_by_test_id("callbar-state")).to_contain_text("示忙")
    wait_stream_open(agent.page)  # the bar listens on the agent's channel from here on

    supervisor = Desk(browser, live_server.url, "monitor", screenshot_dir)
    track_streams(supervisor.context)
    board = supervisor.page
    board.goto(f"{live_server.url}/telephony/monitor/")
    row = board.get_by_test_id("monitor-agent-1001")
    expect(row).to_be_visible()
    row.get_by_label("发给坐席的消息").fill("请注意语速，耐心解释")
    row.get_by_test_id("monitor-message-send").click()

    message = agent.page.get_by_test_id("callbar-message")
    expect(message).to_contain_text("请注意语速，耐心解释", timeout=15_000)  # pushed, no reload
    agent.shot("notes-01-message")
    message.get_by_test_id("callbar-message-read").click()
    expect(message).to_have_count(0)
    assert AgentNote.objects.get(kind="message").handled_by == people.agent

    # The agent asks for help; the board (its stream open) shows the request without a reload.
    wait_stream_open(board)
    expect(board.get_by_test_id("monitor-help-1001")).to_have_count(0)
    agent.page.get_by_label("求助内容").fill("市民情绪激动")
    agent.page.get_by_test_id("callbar-help-send").click()
    expect(agent.page.get_by_test_id("callbar-help-pending")).to_be_visible()
    expect(agent.page.get_by_test_id("callbar-help-handled")).to_have_count(0)
    request = board.get_by_test_id("monitor-help-1001")
    expect(request).to_contain_text("市民情绪激动", timeout=15_000)
    supervisor.shot("notes-02-help-on-board")
    request.get_by_test_id("monitor-help-done").click()
    expect(board.get_by_test_id("monitor-help-1001")).to_have_count(0)

    # Pushed back to the agent: the bar says a supervisor took it, and help may be asked again.
    expect(agent.page.get_by_test_id("callbar-help-handled")).to_contain_text("已处理求助", timeout=15_000)
    expect(agent.page.get_by_test_id("callbar-help-pending")).to_have_count(0)
    expect(agent.page.get_by_test_id("callbar-help-send")).to_be_visible()
    agent.shot("notes-03-help-handled")
    note = AgentNote.objects.get(kind="help")
    assert note.handled_by == people.monitor and note.text == "市民情绪激动"
    agent.close()
    supervisor.close()
