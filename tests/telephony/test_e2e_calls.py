"""End to end with real processes on 127.0.0.1 (see `e2e.py`): the default path (IVR-6), an agent who does
not answer, a blacklisted caller, a caller who gives up, the wait limit's voicemail, hold / retrieve / hang-up
from the call bar."""

from __future__ import annotations

import wave
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from hotline.citizens.models import BlacklistEntry, BlacklistTreatment
from hotline.common import clock
from hotline.common.errors import ServiceError
from hotline.telephony import seat, services
from hotline.telephony.models import Agent, AgentStateLog, Call, CallLeg, MissedCall, QueueLog, Recording
from hotline.telephony.states import AgentEvent, AgentState

from .e2e import BASE, PROXY, controller_var_dir, finished, listen, pump, setup_hotline
from .sip_tools import goertzel_share, sipp_citizen, tone

ANNOUNCED_HZ = 1900.0


@pytest.mark.django_db(transaction=True)
def test_default_path_reaches_the_longest_idle_agent_recorded_with_cdr(
    sip_env: dict[str, Any], controller: Any
):
    queue, (agent,) = setup_hotline("1001")
    # The agent-ID announcement ("一零零一号话务员为您服务") from recorded clips that are a 1900 Hz tone, 1.5 s in all:
    # told apart from both parties' audio in the recording.
    clips = Path(controller_var_dir()) / "telephony" / "clips"
    clips.mkdir(parents=True, exist_ok=True)
    for text, seconds in (("一", 0.25), ("零", 0.25), (seat.ANNOUNCE_TAIL, 0.5)):
        tone(clips / f"{text}.wav", ANNOUNCED_HZ, seconds)
    pushed, stop = listen(agent)
    sipp = sipp_citizen(
        work=sip_env["work"],
        proxy=PROXY,
        number="12345",
        caller="13800138000",
        sip_port=BASE + 20,
        media_port=BASE + 1840,
        talk_ms=5000,
    )
    try:
        pump(controller, sip_env["phones"], lambda user: "accept", finished({"caller": "13800138000"}), 40)
        assert sipp.wait(timeout=60) == 0, "the citizen's call did not go as scripted"
    finally:
        stop.set()
        if sipp.poll() is None:
            sipp.kill()
    call = Call.objects.get(caller="13800138000")
    assert (call.disposition, call.agent_id, call.dialed) == ("answered", agent.pk, "12345")
    assert call.time_to_person_ms is not None and 0 < call.time_to_person_ms < 10_000  # IVR-6: no menu
    legs = list(CallLeg.objects.filter(call=call).order_by("started_at"))
    assert [(leg.role, leg.direction) for leg in legs] == [("citizen", "in"), ("agent", "out")]
    assert all(leg.ended_at and leg.answered_at for leg in legs)
    assert legs[0].billsec >= 3 and legs[1].remote == f"sip:1001@{PROXY}"
    assert list(QueueLog.objects.filter(call=call).values_list("event", flat=True)) == [
        "enqueue",
        "offer",
        "connect",
    ]
    moves = list(AgentStateLog.objects.filter(agent=agent, call=call).values_list("from_state", "to_state"))
    assert moves == [("ready", "ringing"), ("ringing", "talking"), ("talking", "wrap_up")]
    assert Agent.objects.get(pk=agent.pk).state == AgentState.WRAP_UP
    # The recording: indexed, on disk under HOTLINE_VAR_DIR, and the agent's voice (700 Hz) is in it.
    rec = Recording.objects.get(call=call)
    path = Path(controller_var_dir()) / rec.path
    assert path.exists() and rec.size_bytes == path.stat().st_size and rec.duration_ms > 2000
    with wave.open(str(path)) as w:
        rate, raw = w.getframerate(), w.readframes(w.getnframes())
    samples = list(memoryview(raw).cast("h"))
    window = samples[rate : rate * 2]
    assert goertzel_share(window, rate, 700.0) > 0.2, "agent's audio missing from the recording"
    # The announcement the caller heard when the agent answered is in the recording, at its start, and only there.
    assert goertzel_share(samples[rate // 10 : rate], rate, ANNOUNCED_HZ) > 0.1, "announcement not recorded"
    assert goertzel_share(samples[rate * 19 // 10 :], rate, ANNOUNCED_HZ) < 0.02
    # Screen pop: the agent's workbench was told who is calling and which call it is.
    ringing = [m for m in pushed if m.get("type") == "ringing"]
    # (a seat bound to no user account sees the number masked, like any screen for a role that sees masks: ORG-4)
    assert ringing and ringing[0]["caller"] == "138****8000" and ringing[0]["call_id"] == call.call_id


@pytest.mark.django_db(transaction=True)
def test_agent_who_does_not_answer_goes_not_ready_and_the_next_agent_gets_the_call(
    sip_env: dict[str, Any], controller: Any
):
    queue, (first, second) = setup_hotline("1001", "1002")
    sipp = sipp_citizen(
        work=sip_env["work"],
        proxy=PROXY,
        number="12345",
        caller="13900001111",
        sip_port=BASE + 21,
        media_port=BASE + 1860,
        talk_ms=4000,
    )
    try:
        # 1001 (idle longest) rejects; 1002 answers.
        pump(
            controller,
            sip_env["phones"],
            lambda user: "hangup" if user == "1001" else "accept",
            finished({"caller": "13900001111"}),
            40,
        )
        assert sipp.wait(timeout=60) == 0
    finally:
        if sipp.poll() is None:
            sipp.kill()
    call = Call.objects.get(caller="13900001111")
    assert (call.disposition, call.agent_id) == ("answered", second.pk)
    events = list(QueueLog.objects.filter(call=call).values_list("event", "agent__agent_id"))
    assert events == [
        ("enqueue", None),
        ("offer", "1001"),
        ("no_answer", "1001"),
        ("offer", "1002"),
        ("connect", "1002"),
    ]
    first = Agent.objects.get(pk=first.pk)
    assert (first.state, first.state_reason) == (AgentState.NOT_READY, "no_answer")
    assert Agent.objects.get(pk=second.pk).state == AgentState.WRAP_UP
    assert CallLeg.objects.filter(
        call=call, agent=first, answered_at__isnull=True, sip_code__gte=400
    ).exists()


@pytest.mark.django_db(transaction=True)
def test_blacklisted_caller_hears_the_announcement_and_reaches_no_agent(
    sip_env: dict[str, Any], controller: Any
):
    queue, (agent,) = setup_hotline("1001")
    now = clock.now()
    BlacklistEntry.objects.create(
        number="13900000666",
        reason="恶意骚扰",
        treatment=BlacklistTreatment.ANNOUNCEMENT,
        created_at=now,
        updated_at=now,
    )
    sipp = sipp_citizen(
        work=sip_env["work"],
        proxy=PROXY,
        number="12345",
        caller="13900000666",
        sip_port=BASE + 22,
        media_port=BASE + 1880,
        talk_ms=20000,
    )
    try:
        pump(controller, sip_env["phones"], lambda user: "accept", finished({"caller": "13900000666"}), 30)
    finally:
        if sipp.poll() is None:
            sipp.kill()
            sipp.wait(timeout=30)
    call = Call.objects.get(caller="13900000666")
    assert (call.disposition, call.blacklist_treatment, call.agent_id) == (
        "blacklisted",
        "announcement",
        None,
    )
    assert not QueueLog.objects.filter(call=call).exists()
    assert Agent.objects.get(pk=agent.pk).state == AgentState.READY


@pytest.mark.django_db(transaction=True)
def test_caller_who_gives_up_in_the_queue_lands_on_the_callback_list(
    sip_env: dict[str, Any], controller: Any
):
    queue, (agent,) = setup_hotline("1001")
    services.agent_event(agent_pk=agent.pk, event=AgentEvent.NOT_READY, reason="meal")  # nobody free
    sipp = sipp_citizen(
        work=sip_env["work"],
        proxy=PROXY,
        number="12345",
        caller="13700001234",
        sip_port=BASE + 23,
        media_port=BASE + 1900,
        talk_ms=2500,
    )
    try:
        pump(controller, sip_env["phones"], lambda user: "accept", finished({"caller": "13700001234"}), 30)
        assert sipp.wait(timeout=60) == 0
    finally:
        if sipp.poll() is None:
            sipp.kill()
    call = Call.objects.get(caller="13700001234")
    assert (call.disposition, call.agent_id, call.answered_at) == ("abandoned", None, None)
    log = list(QueueLog.objects.filter(call=call).values_list("event", "wait_ms"))
    assert [e for e, _ in log] == ["enqueue", "abandon"] and log[1][1] >= 2000
    missed = MissedCall.objects.get(call=call)
    assert (missed.number, missed.reason, missed.status) == ("13700001234", "abandoned", "open")
    assert missed.due_at > call.ended_at


@pytest.mark.django_db(transaction=True)
def test_wait_limit_sends_the_caller_to_voicemail_recorded_and_on_the_callback_list(
    sip_env: dict[str, Any], controller: Any
):
    queue, (agent,) = setup_hotline("1001")
    queue.max_wait_seconds = 1  # no overflow queue: voicemail
    queue.save()
    services.agent_event(agent_pk=agent.pk, event=AgentEvent.NOT_READY, reason="meeting")
    sipp = sipp_citizen(
        work=sip_env["work"],
        proxy=PROXY,
        number="12345",
        caller="13600005678",
        sip_port=BASE + 24,
        media_port=BASE + 1920,
        talk_ms=9000,
    )
    try:
        pump(controller, sip_env["phones"], lambda user: "accept", finished({"caller": "13600005678"}), 40)
        assert sipp.wait(timeout=60) == 0
    finally:
        if sipp.poll() is None:
            sipp.kill()
    call = Call.objects.get(caller="13600005678")
    assert (call.disposition, call.agent_id) == ("voicemail", None)
    assert list(QueueLog.objects.filter(call=call).values_list("event", flat=True)) == ["enqueue", "overflow"]
    missed = MissedCall.objects.get(call=call)
    assert missed.reason == "voicemail" and missed.recording is not None
    message = Path(controller_var_dir()) / missed.recording.path
    assert message.exists() and missed.recording.duration_ms > 1000


@pytest.mark.django_db(transaction=True)
def test_agent_holds_retrieves_and_hangs_up_from_the_call_bar(sip_env: dict[str, Any], controller: Any):
    queue, (agent,) = setup_hotline("1001")
    sipp = sipp_citizen(
        work=sip_env["work"],
        proxy=PROXY,
        number="12345",
        caller="13500009999",
        sip_port=BASE + 25,
        media_port=BASE + 1940,
        script="citizen_hung_up_on.xml",
    )

    def state_is(state: str) -> Callable[[], bool]:
        return lambda: Agent.objects.get(pk=agent.pk).state == state

    try:
        phones = sip_env["phones"]
        pump(controller, phones, lambda user: "accept", state_is(AgentState.TALKING), 20)
        services.agent_call_action(agent=agent, action="hold", actor=None)
        pump(controller, phones, lambda user: "accept", state_is(AgentState.HOLD), 5)
        with pytest.raises(ServiceError):
            services.agent_call_action(agent=agent, action="hold", actor=None)  # already on hold
        services.agent_call_action(agent=agent, action="retrieve", actor=None)
        pump(controller, phones, lambda user: "accept", state_is(AgentState.TALKING), 5)
        services.agent_call_action(agent=agent, action="hangup", actor=None)
        pump(controller, phones, lambda user: "accept", finished({"caller": "13500009999"}), 15)
        assert sipp.wait(timeout=60) == 0, "the citizen did not get the hotline's BYE"
    finally:
        if sipp.poll() is None:
            sipp.kill()
    call = Call.objects.get(caller="13500009999")
    assert call.disposition == "answered"
    moves = list(AgentStateLog.objects.filter(agent=agent, call=call).values_list("to_state", flat=True))
    assert moves == ["ringing", "talking", "hold", "talking", "wrap_up"]
    assert all(leg.ended_at for leg in CallLeg.objects.filter(call=call))


@pytest.mark.django_db(transaction=True)
def test_controller_restart_mid_call_closes_the_call_and_releases_the_agent(
    sip_env: dict[str, Any], controller: Any
):
    from hotline.telephony.adapters.pjsua_node import PjsuaNodeEngine
    from hotline.telephony.controller import CallController

    queue, (agent,) = setup_hotline("1001")
    sipp = sipp_citizen(
        work=sip_env["work"],
        proxy=PROXY,
        number="12345",
        caller="13500007777",
        sip_port=BASE + 33,
        media_port=BASE + 2100,
        script="citizen_hung_up_on.xml",
    )
    phones = sip_env["phones"]
    restarted = None
    try:
        pump(
            controller,
            phones,
            lambda user: "accept",
            lambda: Agent.objects.get(pk=agent.pk).state == "talking",
            20,
        )
        controller.close()  # the platform's controller dies mid-call (the media node keeps the legs)
        controller.engine.close()
        restarted = CallController(
            PjsuaNodeEngine(name="node1", port=BASE + 11), registrar=PROXY, ring_timeout=8
        )
        restarted.recover()  # what serve_forever does first
        call = Call.objects.get(caller="13500007777")
        assert call.status == "ended" and call.disposition == "answered"
        assert Agent.objects.get(pk=agent.pk).state == AgentState.WRAP_UP  # not stuck in talking
        # The node reports the legs it still holds; the new controller hangs them up: the caller gets a BYE.
        pump(restarted, phones, lambda user: "accept", lambda: sipp.poll() is not None, 20)
        assert sipp.wait(timeout=60) == 0
    finally:
        if sipp.poll() is None:
            sipp.kill()
        if restarted is not None:
            restarted.close()
            restarted.engine.close()
    legs = CallLeg.objects.filter(call=call)
    assert legs.count() == 2 and not legs.filter(ended_at__isnull=True).exists()
    assert set(legs.values_list("hangup_cause", flat=True)) == {"controller_restart"}
    assert Recording.objects.filter(call=call, ended_at__isnull=False).exists()
