"""The agent's workbench call bar: sign in with agent ID and password, go ready; a call rings the seat and the
bar (pushed over SSE) shows the caller with the intake link carrying the caller's number and the call id; the
request registered from there is linked to the call."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import expect

from hotline.telephony import services
from hotline.telephony.models import CallCase, Number, Queue
from hotline.telephony.states import AgentState
from tests.conftest import CONTENT
from tests.e2e.sse import track_streams, wait_stream_open
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def test_agent_signs_in_goes_ready_and_sees_the_ringing_call(
    browser: Any, live_server: Any, settings: Any, city: Any, people: Any, screenshot_dir: Any
) -> None:
    settings.HOTLINE_TELEPHONY = "on"
    queue = Queue.objects.create(code="general", name="综合")
    Number.objects.create(number="12345", name="热线", queue=queue)
    seat = services.agent_create(
        agent_id="1001", password="secret1", extension="1001", skills=[queue], user=people.agent, actor=None
    )
    desk = Desk(browser, live_server.url, "agent", screenshot_dir)
    page = desk.page
    bar = page.get_by_test_id("callbar")
    bar.get_by_test_id("callbar-password").fill("wrong1")
    bar.get_by_test_id("callbar-login").click()
    expect(page.get_by_test_id("callbar-error")).to_contain_text("工号或签入密码错误")
    page.get_by_test_id("callbar-password").fill("secret1")
    page.get_by_test_id("callbar-login").click()
    expect(page.get_by_test_id("callbar-state")).to_contain_text("示忙")
    page.get_by_test_id("callbar-ready").click()
    expect(page.get_by_test_id("callbar-state")).to_have_text("空闲")
    seat.refresh_from_db()
    assert seat.state == AgentState.READY

    # The ACD offers a call to this seat: the bar learns it over SSE, without a reload.
    call = services.call_arrive(
        call_id="b0a7c0de", leg_id="in-1", caller="13812345678", dialed="12345", node="n1"
    )
    call = services.call_enqueue(call=call, queue=queue)
    services.call_offer(call=call, agent_pk=seat.pk, leg_id="out-1", remote="sip:1001@127.0.0.1", node="n1")
    expect(page.get_by_test_id("callbar-caller")).to_contain_text("13812345678", timeout=10_000)
    expect(page.get_by_test_id("callbar-state")).to_have_text("振铃")
    desk.shot("callbar-01-ringing")
    page.get_by_test_id("callbar-intake").click()
    page.wait_for_url("**/cases/new/?citizen_phone=13812345678&call_id=b0a7c0de")
    assert page.get_by_label("联系电话").input_value() == "13812345678"

    # The agent registers the request while on the call: the case is linked to the call.
    page.get_by_label("诉求类型").select_option(label="投诉")
    page.get_by_label("职能局").select_option(label="市住建局")
    page.get_by_label("事发地所属区域").select_option(label="　　幸福社区")
    page.get_by_label("事发地点").fill("幸福社区12栋楼下")
    page.get_by_label("诉求内容").fill(CONTENT)
    page.get_by_role("button", name="提交热线办（Alt+T）").click()
    number = page.get_by_test_id("case-number").inner_text()
    assert CallCase.objects.filter(call=call, case__number=number).exists()
    desk.context.close()


def test_a_push_while_the_agent_types_a_transfer_target_keeps_what_is_typed(
    browser: Any, live_server: Any, settings: Any, city: Any, people: Any, screenshot_dir: Any
) -> None:
    """The bar is re-rendered whole on every push: a half-typed transfer target (and the chosen target kind) must
    survive it, still focused, and the agent's next keys go on from where they were."""
    settings.HOTLINE_TELEPHONY = "on"
    queue = Queue.objects.create(code="general", name="综合")
    Number.objects.create(number="12345", name="热线", queue=queue)
    seat, desk = _signed_in_seat(browser, live_server, people, screenshot_dir, queue)
    page = desk.page
    page.get_by_test_id("callbar-ready").click()
    expect(page.get_by_test_id("callbar-state")).to_have_text("空闲")
    wait_stream_open(page)

    # A call reaches the seat and is answered: the bar (pushed) shows the transfer form.
    call = services.call_arrive(
        call_id="c0ffee01", leg_id="in-1", caller="13812345678", dialed="12345", node="n1"
    )
    call = services.call_enqueue(call=call, queue=queue)
    services.call_offer(call=call, agent_pk=seat.pk, leg_id="out-1", remote="sip:1001@127.0.0.1", node="n1")
    services.call_connect(call=call, leg_id="out-1")
    target = page.get_by_test_id("callbar-target")
    expect(target).to_be_visible(timeout=10_000)
    expect(page.get_by_test_id("callbar-state")).to_have_text("通话")

    page.get_by_test_id("callbar-target-kind").select_option("queue")
    target.click()
    page.keyboard.type("gene")
    # A supervisor's message is pushed meanwhile: the bar is read again and swapped whole.
    services.supervisor_message(agent_id="1001", text="注意通话时长", actor=people.monitor)
    expect(page.get_by_test_id("callbar-message")).to_contain_text("注意通话时长", timeout=15_000)
    expect(target).to_have_value("gene")
    expect(target).to_be_focused()
    expect(page.get_by_test_id("callbar-target-kind")).to_have_value("queue")
    page.keyboard.type("ral")
    expect(target).to_have_value("general")
    desk.shot("callbar-02-typed-kept")
    desk.context.close()


def test_a_failed_re_read_is_tried_again_so_a_pushed_message_still_shows(
    browser: Any, live_server: Any, settings: Any, city: Any, people: Any, screenshot_dir: Any
) -> None:
    """A push makes the bar read itself again; when that read fails (a 5xx on a busy server), the bar must try
    again rather than show the old state until a next push that may never come."""
    settings.HOTLINE_TELEPHONY = "on"
    queue = Queue.objects.create(code="general", name="综合")
    _, desk = _signed_in_seat(browser, live_server, people, screenshot_dir, queue)
    page = desk.page
    wait_stream_open(page)

    bar_url = page.get_by_test_id("callbar").get_attribute("data-bar-url")
    failed: list[str] = []

    def fail_the_first_read(route: Any) -> None:
        if route.request.method == "GET" and not failed:
            failed.append(route.request.url)
            route.fulfill(status=500, body="busy")
            return
        route.continue_()

    page.route(f"**{bar_url}", fail_the_first_read)
    # One push, so one re-read: it fails, and only a retry can show the message.
    services.supervisor_message(agent_id="1001", text="请注意排队情况", actor=people.monitor)
    expect(page.get_by_test_id("callbar-message")).to_contain_text("请注意排队情况", timeout=15_000)
    assert len(failed) == 1
    desk.context.close()


def _signed_in_seat(
    browser: Any, live_server: Any, people: Any, screenshot_dir: Any, queue: Queue
) -> tuple[Any, Desk]:
    """Seat 1001 of the agent, signed in from the bar (not ready yet), with the page's streams tracked."""
    seat = services.agent_create(
        agent_id="1001", password="secret1", extension="1001", skills=[queue], user=people.agent, actor=None
    )
    desk = Desk(browser, live_server.url, "agent", screenshot_dir)
    track_streams(desk.context)
    page = desk.page
    page.reload()
    page.get_by_test_id("callbar-password").fill("secret1")
    page.get_by_test_id("callbar-login").click()
    expect(page.get_by_test_id("callbar-state")).to_contain_text("示忙")
    return seat, desk
