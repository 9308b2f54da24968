"""The supervisors' live board refreshes itself by push: an agent's state change and a call joining the queue
appear without a reload; force busy from the board moves the agent (and the board follows)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from hotline.telephony import services
from hotline.telephony.models import Agent, Number, Queue
from hotline.telephony.states import AgentEvent, AgentState
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def test_monitor_board_follows_agents_and_queues_by_push(
    browser: Any, live_server: Any, settings: Any, city: Any, people: Any, screenshot_dir: Any
) -> None:
    settings.HOTLINE_TELEPHONY = "on"
    queue = Queue.objects.create(code="general", name="综合")
    Number.objects.create(number="12345", name="热线", queue=queue)
    seat = services.agent_create(
        agent_id="1001", password="secret1", extension="1001", skills=[queue], actor=None
    )
    services.agent_event(agent_pk=seat.pk, event=AgentEvent.LOGIN)
    desk = Desk(browser, live_server.url, "monitor", screenshot_dir)
    page = desk.page
    page.goto(f"{live_server.url}/telephony/monitor/")
    row = page.get_by_test_id("monitor-agent-1001")
    expect(row.get_by_test_id("agent-state")).to_have_text("示忙")
    page.wait_for_timeout(500)  # the stream is open

    services.agent_event(agent_pk=seat.pk, event=AgentEvent.READY)  # no reload: pushed
    expect(row.get_by_test_id("agent-state")).to_have_text("空闲", timeout=10_000)
    call = services.call_arrive(
        call_id="mon-1", leg_id="in-1", caller="13812345678", dialed="12345", node="n"
    )
    services.call_enqueue(call=call, queue=queue)
    queue_row = page.get_by_test_id("monitor-queue-general")
    expect(queue_row.get_by_test_id("queue-waiting")).to_have_text("1", timeout=10_000)
    expect(page.get_by_test_id("monitor-call")).to_have_count(1)
    expect(page.get_by_test_id("monitor-call")).not_to_contain_text("13812345678")  # masked
    desk.shot("monitor-01-board")

    services.call_end(call=call)
    expect(queue_row.get_by_test_id("queue-waiting")).to_have_text("0", timeout=10_000)
    page.get_by_test_id("monitor-agent-1001").get_by_test_id("force-not-ready").click()
    expect(page.get_by_test_id("monitor-agent-1001").get_by_test_id("agent-reason")).to_have_text("班长置忙")
    assert Agent.objects.get(pk=seat.pk).state == AgentState.NOT_READY
    desk.context.close()
