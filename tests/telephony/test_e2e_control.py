"""Agent call control and supervisor modes end to end (see `e2e.py`): blind transfer to another agent, consult →
three-way conference → the first agent leaves, consult → transfer to an outside number, a supervisor's listen /
whisper / barge. Who hears whom is checked on what each leg hears (the media node's taps), by each phone's own
tone: 1001 700 Hz, 1002 1000 Hz, 1003 1300 Hz, 1009 (supervisor) 1700 Hz."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hotline.common.errors import ServiceError
from hotline.common.models import AuditLog
from hotline.orgs.models import User
from hotline.telephony import services
from hotline.telephony.models import Agent, Call, CallControl, CallLeg
from hotline.telephony.states import AgentState

from .e2e import BASE, PROXY, finished, heard, pump, run_for, setup_hotline, state_is, stop_tap, tap
from .sip_tools import sipp_citizen

ACCEPT = "accept"
ON = 0.2  # a party's tone is heard: its share of the energy in some second
OFF = 0.05  # not heard


def citizen_call(
    env: dict[str, Any], caller: str, port: int, media: int, script: str = "citizen_hung_up_on.xml"
):
    return sipp_citizen(
        work=env["work"],
        proxy=PROXY,
        number="12345",
        caller=caller,
        sip_port=BASE + port,
        media_port=BASE + media,
        script=script,
        talk_ms=60000,
        keys="",
    )


def leg_of(call: Call, **filters: Any) -> str:
    return (
        CallLeg.objects.filter(call=call, **filters)
        .order_by("started_at")
        .values_list("leg_id", flat=True)[0]
    )


@pytest.mark.django_db(transaction=True)
def test_blind_transfer_to_another_agent(sip_env: dict[str, Any], controller: Any, tmp_path: Path):
    queue, (first, second) = setup_hotline("1001", "1002")
    phones = sip_env["phones"]
    sipp = citizen_call(sip_env, "13900000101", 29, 2020)
    try:
        pump(controller, phones, lambda u: ACCEPT, state_is(first, AgentState.TALKING), 20)
        call = Call.objects.get(caller="13900000101")
        citizen = leg_of(call, role="citizen")
        tap(controller, citizen, tmp_path / "before.wav")
        run_for(controller, phones, 3)
        services.agent_call_action(
            agent=first, action="transfer", actor=None, target_kind="agent", target="1002"
        )
        pump(controller, phones, lambda u: ACCEPT, state_is(second, AgentState.TALKING), 20)
        before = stop_tap(controller, phones, tmp_path / "before.wav")
        tap(controller, citizen, tmp_path / "after.wav")
        run_for(controller, phones, 3)
        after = stop_tap(controller, phones, tmp_path / "after.wav")
        services.agent_call_action(agent=second, action="hangup", actor=None)
        pump(controller, phones, lambda u: ACCEPT, finished({"caller": "13900000101"}), 20)
        assert sipp.wait(timeout=60) == 0
    finally:
        if sipp.poll() is None:
            sipp.kill()
    assert heard(before, 700.0) > ON and heard(before, 1000.0) < OFF  # the caller heard the first agent
    assert heard(after, 1000.0) > ON and heard(after, 700.0) < OFF  # then only the second
    call = Call.objects.get(pk=call.pk)
    assert (call.disposition, call.agent_id) == ("answered", second.pk)
    legs = list(
        CallLeg.objects.filter(call=call)
        .order_by("started_at")
        .values_list("role", "purpose", "agent__agent_id")
    )
    assert legs == [("citizen", "", None), ("agent", "", "1001"), ("agent", "transfer", "1002")]
    assert all(CallLeg.objects.filter(call=call).values_list("ended_at", flat=True))
    assert list(CallControl.objects.filter(call=call).values_list("kind", "target")) == [
        ("blind_transfer", "agent:1002")
    ]
    assert Agent.objects.get(pk=first.pk).state == Agent.objects.get(pk=second.pk).state == AgentState.WRAP_UP


@pytest.mark.django_db(transaction=True)
def test_consult_then_conference_then_the_first_agent_leaves(
    sip_env: dict[str, Any], controller: Any, tmp_path: Path
):
    queue, (first, second) = setup_hotline("1001", "1002")
    phones = sip_env["phones"]
    sipp = citizen_call(sip_env, "13900000102", 30, 2040)
    try:
        pump(controller, phones, lambda u: ACCEPT, state_is(first, AgentState.TALKING), 20)
        call = Call.objects.get(caller="13900000102")
        services.agent_call_action(
            agent=first, action="consult", actor=None, target_kind="agent", target="1002"
        )
        pump(controller, phones, lambda u: ACCEPT, state_is(second, AgentState.TALKING), 20)
        citizen, consulted = leg_of(call, role="citizen"), leg_of(call, purpose="consult")
        tap(controller, citizen, tmp_path / "c-consult.wav")
        tap(controller, consulted, tmp_path / "b-consult.wav")
        run_for(controller, phones, 3)
        c_consult = stop_tap(controller, phones, tmp_path / "c-consult.wav")
        b_consult = stop_tap(controller, phones, tmp_path / "b-consult.wav")
        services.agent_call_action(agent=first, action="conference", actor=None)
        pump(
            controller,
            phones,
            lambda u: ACCEPT,
            lambda: CallLeg.objects.filter(leg_id=consulted, purpose="conference").exists(),
            10,
        )
        tap(controller, citizen, tmp_path / "c-conf.wav")
        run_for(controller, phones, 3)
        c_conf = stop_tap(controller, phones, tmp_path / "c-conf.wav")
        services.agent_call_action(agent=first, action="hangup", actor=None)  # leaves the conference
        pump(controller, phones, lambda u: ACCEPT, state_is(first, AgentState.WRAP_UP), 15)
        assert Call.objects.get(pk=call.pk).status == "talking"  # the caller is still with the second agent
        tap(controller, citizen, tmp_path / "c-left.wav")
        run_for(controller, phones, 2)
        c_left = stop_tap(controller, phones, tmp_path / "c-left.wav")
        services.agent_call_action(agent=second, action="hangup", actor=None)
        pump(controller, phones, lambda u: ACCEPT, finished({"caller": "13900000102"}), 20)
        assert sipp.wait(timeout=60) == 0
    finally:
        if sipp.poll() is None:
            sipp.kill()
    # Consulting: the caller hears neither agent (music), the consulted agent hears the first.
    assert heard(c_consult, 700.0) < OFF and heard(c_consult, 1000.0) < OFF
    assert heard(b_consult, 700.0) > ON
    # Conference: the caller hears both; after the first left, only the second.
    assert heard(c_conf, 700.0) > ON / 2 and heard(c_conf, 1000.0) > ON / 2
    assert heard(c_left, 1000.0) > ON and heard(c_left, 700.0) < OFF
    call = Call.objects.get(pk=call.pk)
    assert (call.disposition, call.agent_id) == ("answered", second.pk)
    assert list(CallControl.objects.filter(call=call).values_list("kind", flat=True)) == [
        "consult",
        "conference",
    ]
    assert CallLeg.objects.get(leg_id=consulted).purpose == "conference"


@pytest.mark.django_db(transaction=True)
def test_consult_an_outside_number_then_transfer_to_it(
    sip_env: dict[str, Any], controller: Any, tmp_path: Path
):
    queue, (first,) = setup_hotline("1001")
    phones = sip_env["phones"]
    sipp = citizen_call(sip_env, "13900000103", 31, 2060)
    try:
        pump(controller, phones, lambda u: ACCEPT, state_is(first, AgentState.TALKING), 20)
        call = Call.objects.get(caller="13900000103")
        with pytest.raises(ServiceError):
            services.agent_call_action(
                agent=first, action="consult", actor=None, target_kind="number", target="12ab"
            )
        services.agent_call_action(
            agent=first, action="consult", actor=None, target_kind="number", target="1003"
        )
        pump(
            controller,
            phones,
            lambda u: ACCEPT,
            lambda: CallLeg.objects.filter(call=call, role="external", answered_at__isnull=False).exists(),
            20,
        )
        services.agent_call_action(agent=first, action="consult_transfer", actor=None)
        pump(controller, phones, lambda u: ACCEPT, state_is(first, AgentState.WRAP_UP), 15)
        tap(controller, leg_of(call, role="citizen"), tmp_path / "c-outside.wav")
        run_for(controller, phones, 3)
        c_outside = stop_tap(controller, phones, tmp_path / "c-outside.wav")
        phones["1003"].cmd("hangup")  # the outside party ends the call
        pump(controller, phones, lambda u: ACCEPT, finished({"caller": "13900000103"}), 20)
        assert sipp.wait(timeout=60) == 0
    finally:
        if sipp.poll() is None:
            sipp.kill()
    assert heard(c_outside, 1300.0) > ON and heard(c_outside, 700.0) < OFF
    legs = list(
        CallLeg.objects.filter(call=call).order_by("started_at").values_list("role", "purpose", "remote")
    )
    assert legs[2] == ("external", "transfer", f"sip:1003@{PROXY}")
    assert list(CallControl.objects.filter(call=call).values_list("kind", flat=True)) == [
        "consult",
        "consult_transfer",
    ]


@pytest.mark.django_db(transaction=True)
def test_supervisor_listens_whispers_and_barges_in_audited(
    sip_env: dict[str, Any], controller: Any, tmp_path: Path
):
    queue, (agent,) = setup_hotline("1001")
    supervisor = User.objects.create(username="banzhang", is_superuser=True)
    services.agent_create(agent_id="9001", password="secret1", extension="1009", user=supervisor, actor=None)
    phones = sip_env["phones"]
    sipp = citizen_call(sip_env, "13900000104", 32, 2080)
    taps: dict[str, list[int]] = {}

    def phase(name: str, mode: str) -> None:
        services.call_monitor(call_id=call.call_id, mode=mode, actor=supervisor)
        pump(
            controller,
            phones,
            lambda u: ACCEPT,
            lambda: CallLeg.objects.filter(call=call, role="supervisor", answered_at__isnull=False).exists(),
            20,
        )
        run_for(controller, phones, 1)  # the mode applied
        paths = {who: tmp_path / f"{name}-{who}.wav" for who in ("citizen", "agent", "sup")}
        tap(controller, leg_of(call, role="citizen"), paths["citizen"])
        tap(controller, leg_of(call, role="agent"), paths["agent"])
        tap(controller, leg_of(call, role="supervisor"), paths["sup"])
        run_for(controller, phones, 3)
        for who, path in paths.items():
            taps[f"{name}-{who}"] = stop_tap(controller, phones, path)

    try:
        pump(controller, phones, lambda u: ACCEPT, state_is(agent, AgentState.TALKING), 20)
        call = Call.objects.get(caller="13900000104")
        phase("listen", "listen")
        phase("whisper", "whisper")
        phase("barge", "barge")
        services.call_monitor(call_id=call.call_id, mode="end", actor=supervisor)
        pump(
            controller,
            phones,
            lambda u: ACCEPT,
            lambda: not CallLeg.objects.filter(call=call, role="supervisor", ended_at__isnull=True).exists(),
            15,
        )
        services.agent_call_action(agent=agent, action="hangup", actor=None)
        pump(controller, phones, lambda u: ACCEPT, finished({"caller": "13900000104"}), 20)
        assert sipp.wait(timeout=60) == 0
    finally:
        if sipp.poll() is None:
            sipp.kill()
    sup = 1700.0
    assert heard(taps["listen-sup"], 700.0) > ON  # the supervisor hears the agent
    assert heard(taps["listen-agent"], sup) < OFF and heard(taps["listen-citizen"], sup) < OFF
    assert heard(taps["whisper-agent"], sup) > ON and heard(taps["whisper-citizen"], sup) < OFF
    assert heard(taps["barge-citizen"], sup) > ON and heard(taps["barge-agent"], sup) > ON
    kinds = list(CallControl.objects.filter(call=call).values_list("kind", "actor_id"))
    assert kinds == [(k, supervisor.pk) for k in ("listen", "whisper", "barge", "monitor_end")]
    audited = list(
        AuditLog.objects.filter(actor=supervisor).order_by("at", "id").values_list("summary", flat=True)
    )
    assert [s.split()[0] for s in audited] == [
        "monitor_listen",
        "monitor_whisper",
        "monitor_barge",
        "monitor_end",
    ]
    assert Agent.objects.get(agent_id="9001").state == AgentState.LOGGED_OUT  # never offered a call


@pytest.mark.django_db(transaction=True)
def test_supervisor_intercepts_a_call_then_force_releases_another(
    sip_env: dict[str, Any], controller: Any, tmp_path: Path
):
    """Intercept: the supervisor's phone takes the call over (the caller hears the supervisor, not the agent,
    who goes to wrap-up); force release: the supervisor ends a call, the CDR is closed and the agent freed."""
    queue, (agent,) = setup_hotline("1001")
    supervisor = User.objects.create(username="banzhang2", is_superuser=True)
    services.agent_create(agent_id="9002", password="secret1", extension="1009", user=supervisor, actor=None)
    phones = sip_env["phones"]
    sipp = citizen_call(sip_env, "13900000105", 35, 2140)
    try:
        pump(controller, phones, lambda u: ACCEPT, state_is(agent, AgentState.TALKING), 20)
        call = Call.objects.get(caller="13900000105")
        services.call_monitor(call_id=call.call_id, mode="intercept", actor=supervisor)
        pump(controller, phones, lambda u: ACCEPT, state_is(agent, AgentState.WRAP_UP), 20)
        tap(controller, leg_of(call, role="citizen"), tmp_path / "intercepted.wav")
        run_for(controller, phones, 3)
        intercepted = stop_tap(controller, phones, tmp_path / "intercepted.wav")
        assert Call.objects.get(pk=call.pk).status == "talking"
        phones["1009"].cmd("hangup")  # the supervisor ends the call
        pump(controller, phones, lambda u: ACCEPT, finished({"caller": "13900000105"}), 20)
        assert sipp.wait(timeout=60) == 0
    finally:
        if sipp.poll() is None:
            sipp.kill()
    assert heard(intercepted, 1700.0) > ON and heard(intercepted, 700.0) < OFF
    legs = list(
        CallLeg.objects.filter(call=call)
        .order_by("started_at")
        .values_list("role", "purpose", "hangup_cause")
    )
    assert legs[1] == ("agent", "", "intercepted")
    assert legs[2][:2] == ("supervisor", "intercept")
    assert all(CallLeg.objects.filter(call=call).values_list("ended_at", flat=True))
    assert list(CallControl.objects.filter(call=call).values_list("kind", flat=True)) == ["intercept"]
    assert Call.objects.get(pk=call.pk).disposition == "answered"

    services.agent_force_state(agent_id="1001", target="ready", actor=supervisor)
    sipp = citizen_call(sip_env, "13900000106", 36, 2160)
    try:
        pump(controller, phones, lambda u: ACCEPT, state_is(agent, AgentState.TALKING), 20)
        second = Call.objects.get(caller="13900000106")
        services.call_force_release(call_id=second.call_id, actor=supervisor)
        pump(controller, phones, lambda u: ACCEPT, finished({"caller": "13900000106"}), 20)
        assert sipp.wait(timeout=60) == 0  # the caller got our BYE
    finally:
        if sipp.poll() is None:
            sipp.kill()
    assert Agent.objects.get(pk=agent.pk).state == AgentState.WRAP_UP
    assert all(CallLeg.objects.filter(call=second).values_list("ended_at", flat=True))
    assert list(CallControl.objects.filter(call=second).values_list("kind", flat=True)) == ["force_release"]
    audited = list(
        AuditLog.objects.filter(actor=supervisor).order_by("at", "id").values_list("summary", flat=True)
    )
    assert [s.split()[0] for s in audited] == ["monitor_intercept", "force_ready", "force_release"]
