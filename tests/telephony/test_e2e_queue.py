"""Queue announcements and the place-keeping callback end to end (see `e2e.py`), with SIPp citizens sending
RFC 2833 DTMF: callers waiting hear how many are ahead and the expected wait (spoken from clips) every few
seconds; the first caller presses 1 and is hung up on, keeping its place: when an agent becomes ready, that
caller is called back (agent's phone first, then the caller's phone: a baresip registered as the caller's
mobile number) before the second caller, who waited on the line, is offered to the agent."""

from __future__ import annotations

import time
import wave
from pathlib import Path
from typing import Any

import pytest

from hotline.telephony import announce, services
from hotline.telephony.models import Agent, Call, CallLeg, QueueCallback, QueueLog
from hotline.telephony.states import AgentEvent, AgentState

from .e2e import BASE, PROXY, pump, setup_hotline, state_is
from .sip_tools import Baresip, sipp_citizen

FIRST, SECOND = "13900000301", "13900000302"


@pytest.fixture
def first_callers_phone(sip_env: dict[str, Any]) -> Any:
    phone = Baresip(
        user=FIRST,
        work=sip_env["work"],
        registrar=PROXY,
        sip_port=BASE + 64,
        ctrl_port=BASE + 66,
        rtp=BASE + 3040,
        freq=500.0,
    )
    deadline = time.monotonic() + 30
    while not phone.registered():
        assert time.monotonic() < deadline, "the caller's phone did not register"
        time.sleep(0.2)
    yield phone
    phone.stop()


def test_numbers_are_read_from_clips() -> None:
    assert announce.number_words(0) == ["零"]
    assert announce.number_words(12) == ["十", "二"]
    assert announce.number_words(105) == ["一", "百", "零", "五"]
    assert announce.number_words(2020) == ["两", "千", "零", "二", "十"]
    parts = announce.queue_position(3, 360, "1")
    assert parts[:5] == ["您前面还有", "三", "位", "预计等待", "六"] and "一" in parts[-2:]


@pytest.mark.django_db(transaction=True)
def test_position_announcements_and_place_keeping_callback(
    sip_env: dict[str, Any], controller: Any, first_callers_phone: Any
):
    queue, (agent,) = setup_hotline("1001")
    queue.announce_seconds, queue.callback_key = 3, "1"
    queue.save()
    services.agent_event(agent_pk=agent.pk, event=AgentEvent.NOT_READY, reason="break")
    phones = {**sip_env["phones"], "first": first_callers_phone}
    work = sip_env["work"]
    first = sipp_citizen(
        work=work, proxy=PROXY, number="12345", caller=FIRST, sip_port=BASE + 37, media_port=BASE + 2180,
        script="citizen_keys_hung_up_on.xml", keys="1", keys_after_ms=7000,
    )  # fmt: skip
    second = None
    try:
        pump(
            controller,
            phones,
            lambda u: "accept",
            lambda: Call.objects.filter(caller=FIRST, status="queued").exists(),
            20,
        )
        second = sipp_citizen(
            work=work, proxy=PROXY, number="12345", caller=SECOND, sip_port=BASE + 38, media_port=BASE + 2200,
            script="citizen_hung_up_on.xml", keys="", timeout_s=240,
        )  # fmt: skip
        first_call = Call.objects.get(caller=FIRST, direction="in")
        # The first caller presses 1: the place is kept, the call ends (not abandoned, not a missed call).
        pump(
            controller,
            phones,
            lambda u: "accept",
            lambda: Call.objects.get(pk=first_call.pk).status == "ended",
            40,
        )
        assert first.wait(timeout=60) == 0  # it got our BYE after the confirmation
        second_call = Call.objects.get(caller=SECOND)

        def second_told_twice() -> bool:
            return QueueLog.objects.filter(call=second_call, event="announce").count() >= 2

        pump(controller, phones, lambda u: "accept", second_told_twice, 30)
        # The agent becomes ready: the kept place comes first, through the agent's phone.
        services.agent_event(agent_pk=agent.pk, event=AgentEvent.READY)
        pump(
            controller, phones, lambda u: "accept",
            lambda: Call.objects.filter(direction="out", caller=FIRST, status="talking").exists(), 30,
        )  # fmt: skip
        assert Call.objects.get(pk=second_call.pk).status == "queued"  # still waiting on the line
        services.agent_call_action(agent=Agent.objects.get(pk=agent.pk), action="hangup", actor=None)
        pump(controller, phones, lambda u: "accept", state_is(agent, AgentState.WRAP_UP), 20)
        services.agent_event(agent_pk=agent.pk, event=AgentEvent.WRAP_UP_DONE)
        pump(controller, phones, lambda u: "accept", state_is(agent, AgentState.TALKING), 30)
        assert Agent.objects.get(pk=agent.pk).current_call_id == second_call.pk
        services.agent_call_action(agent=Agent.objects.get(pk=agent.pk), action="hangup", actor=None)
        pump(
            controller,
            phones,
            lambda u: "accept",
            lambda: Call.objects.get(pk=second_call.pk).status == "ended",
            20,
        )
        assert second.wait(timeout=60) == 0
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.kill()

    first_call = Call.objects.get(pk=first_call.pk)
    assert first_call.disposition == "kept_place"
    assert not hasattr(first_call, "missed") or first_call.missed is None
    told_first = list(
        QueueLog.objects.filter(call=first_call, event="announce").values_list("position", "expected_seconds")
    )
    told_second = list(
        QueueLog.objects.filter(call=second_call, event="announce").values_list(
            "position", "expected_seconds"
        )
    )
    # One agent signed in, no talk time yet (180 s assumed): nobody ahead → 3 min; one ahead → 6 min. The second
    # caller still has one ahead after the first hung up (its place is kept).
    assert told_first and set(told_first) == {(0, 180)}
    assert len(told_second) >= 2 and set(told_second) == {(1, 360)}
    events = list(QueueLog.objects.filter(call=first_call).values_list("event", flat=True))
    assert events[0] == "enqueue" and "keep_place" in events and events[-1] == "callback"
    entry = QueueCallback.objects.get(call=first_call)
    back = Call.objects.get(direction="out", caller=FIRST)
    assert (entry.status, entry.callback_call_id, entry.attempts) == ("done", back.pk, 1)
    assert (back.disposition, back.agent_id, back.queue_id) == ("answered", agent.pk, queue.pk)
    legs = list(CallLeg.objects.filter(call=back).order_by("started_at").values_list("role", "purpose"))
    assert legs == [("agent", "outbound"), ("citizen", "outbound")]
    assert back.answered_at < Call.objects.get(pk=second_call.pk).answered_at  # the kept place came first
    spoken = sorted(Path(controller_var()).glob("telephony/tts/say-*.wav"))
    assert spoken
    with wave.open(str(spoken[0])) as w:
        assert w.getnframes() / w.getframerate() > 2.0  # whole sentences, built from the clips


def controller_var() -> str:
    from django.conf import settings

    return str(settings.VAR_DIR)
