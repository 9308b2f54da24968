"""The whole path in one chained test, with real processes (see `e2e.py`) and the agent's browser: a SIPp citizen
calls 12345, presses 1 in the IVR menu, waits in the complaints queue; agent 1002's baresip phone rings and answers;
the agent's workbench (Chromium) shows the call on the call bar, opens intake with the screen pop (the caller has
no citizen record, yet their earlier call is listed) and the call id attached, registers the request; then blind
transfers the caller to agent 1001 from the call bar; 1001 hangs up. Afterwards the CDR legs, the queue log, the
IVR steps, the recording (a WAV on disk) and the call's link to the case all exist, and 1002's bar is in wrap-up.

The controller runs on the test's thread (`pump`) between the browser steps; the browser only waits while
nothing on the line has a deadline (the call is bridged, the citizen waits to be hung up on). Every push the
browser must see is sent after its stream is open (`tests/e2e/sse.py`)."""

from __future__ import annotations

import datetime as dt
import wave
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from hotline.common import clock
from hotline.telephony import services
from hotline.telephony.models import Agent, Call, CallCase, CallControl, CallLeg, QueueLog, Recording
from hotline.telephony.states import AgentState
from tests.conftest import CONTENT
from tests.e2e.conftest import browser, screenshot_dir  # noqa: F401 (fixtures)
from tests.e2e.sse import track_streams, wait_stream_open
from tests.e2e.test_case_loop_browser import Desk

from .e2e import BASE, MEDIA_BASE, PROXY, controller_var_dir, finished, pump, state_is
from .sip_tools import sipp_citizen
from .test_e2e_ivr import hotline_with_menu, steps

CALLER = "13900000301"


@pytest.mark.django_db(transaction=True)
def test_ivr_queue_answer_screen_pop_transfer_hang_up_and_the_records(
    sip_env: dict[str, Any],
    controller: Any,
    browser: Any,  # noqa: F811
    live_server: Any,
    settings: Any,
    city: Any,
    people: Any,
    screenshot_dir: Any,  # noqa: F811
) -> None:
    settings.HOTLINE_TELEPHONY = "on"
    queues, agents = hotline_with_menu()
    Agent.objects.filter(pk=agents["1002"].pk).update(user=people.agent)
    phones = sip_env["phones"]
    # An earlier call from this number, abandoned; no citizen record: the screen pop lists it (by number).
    earlier = services.call_arrive(
        call_id="earlier-1", leg_id="in-e1", caller=CALLER, dialed="12345", node="n"
    )
    services.call_enqueue(call=earlier, queue=queues["general"])
    with clock.frozen_now(clock.now() + dt.timedelta(seconds=30)):
        services.call_end(call=earlier)

    desk = Desk(browser, live_server.url, "agent", screenshot_dir)
    track_streams(desk.context)
    page = desk.page
    page.reload()
    expect(page.get_by_test_id("callbar-state")).to_have_text("空闲")
    wait_stream_open(page)

    sipp = sipp_citizen(
        work=sip_env["work"],
        proxy=PROXY,
        number="12345",
        caller=CALLER,
        sip_port=BASE + 21,
        media_port=MEDIA_BASE + 20,
        script="citizen_keys_hung_up_on.xml",
        keys="1",
        keys_after_ms=1500,
        timeout_s=300,
    )
    try:
        # IVR menu (key 1) → complaints queue → 1002's phone rings and answers (bridged, recorded).
        pump(controller, phones, lambda user: "accept", state_is(agents["1002"], AgentState.TALKING), 40)
        call = Call.objects.exclude(call_id="earlier-1").get(caller=CALLER)

        # The workbench: the bar shows the call (pushed), the intake opens with the screen pop and the call id.
        expect(page.get_by_test_id("callbar-state")).to_have_text("通话", timeout=15_000)
        expect(page.get_by_test_id("callbar-caller")).to_contain_text(CALLER)
        desk.shot("path-01-talking")
        page.get_by_test_id("callbar-intake").click()
        page.wait_for_url(f"**/cases/new/?citizen_phone={CALLER}&call_id={call.call_id}")
        expect(page.get_by_test_id("intake-call-id")).to_contain_text(call.call_id)
        card = page.get_by_test_id("caller-card")
        expect(card.get_by_test_id("citizen-new")).to_be_visible()
        expect(card.get_by_test_id("pop-history")).to_contain_text("排队放弃")  # the earlier call
        desk.shot("path-02-screen-pop")
        page.get_by_label("诉求类型").select_option(label="投诉")
        page.get_by_label("职能局").select_option(label="市住建局")
        page.get_by_label("事发地所属区域").select_option(label="　　幸福社区")
        page.get_by_label("事发地点").fill("幸福社区12栋楼下")
        page.get_by_label("诉求内容").fill(CONTENT)
        page.get_by_role("button", name="提交热线办（Alt+T）").click()
        number = page.get_by_test_id("case-number").inner_text()
        assert CallCase.objects.filter(call=call, case__number=number).exists()

        # Blind transfer to 1001 from the bar (on the case page now: its stream open before anything moves).
        expect(page.get_by_test_id("callbar-state")).to_have_text("通话")
        wait_stream_open(page)
        page.get_by_test_id("callbar-target").fill("1001")
        page.get_by_test_id("callbar-transfer-blind").click()
        pump(controller, phones, lambda user: "accept", state_is(agents["1001"], AgentState.TALKING), 30)
        expect(page.get_by_test_id("callbar-state")).to_have_text("话后处理", timeout=15_000)
        desk.shot("path-03-transferred")

        # 1001 hangs up: the citizen is hung up on, the call ends, the recording is closed.
        phones["1001"].cmd("hangup")
        pump(controller, phones, lambda user: "accept", finished({"call_id": call.call_id}), 30)
        assert sipp.wait(timeout=60) == 0, "the citizen's call did not go as scripted"
    finally:
        if sipp.poll() is None:
            sipp.kill()
        desk.close()

    call = Call.objects.get(pk=call.pk)
    assert (call.disposition, call.agent_id, call.queue_id) == (
        "answered",
        agents["1001"].pk,
        queues["complaints"].pk,
    )
    assert steps(call) == [
        ("hours", "enter", ""),
        ("menu", "enter", ""),
        ("menu", "keys", "1"),
        ("to_complaints", "enter", ""),
    ]
    legs = list(
        CallLeg.objects.filter(call=call)
        .order_by("started_at")
        .values_list("role", "purpose", "agent__agent_id")
    )
    assert legs == [("citizen", "", None), ("agent", "", "1002"), ("agent", "transfer", "1001")]
    assert all(CallLeg.objects.filter(call=call).values_list("ended_at", flat=True))
    assert list(CallControl.objects.filter(call=call).values_list("kind", "target")) == [
        ("blind_transfer", "agent:1001")
    ]
    events = list(QueueLog.objects.filter(call=call).order_by("at", "id").values_list("event", flat=True))
    assert events[:3] == ["enqueue", "offer", "connect"]
    recording = Recording.objects.get(call=call)
    path = Path(controller_var_dir()) / recording.path
    assert recording.ended_at is not None and path.exists() and recording.size_bytes > 8000
    with wave.open(str(path)) as w:
        assert w.getnframes() / w.getframerate() >= 1.0
    assert Agent.objects.get(pk=agents["1002"].pk).state == AgentState.WRAP_UP
