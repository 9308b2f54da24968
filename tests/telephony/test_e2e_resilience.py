"""Faults end to end with the real processes (see `e2e.py`): Kamailio restarted in the middle of a call, and a media
node that dies and comes back, on their own stack (Kamailio, two pjsua2 media nodes behind its dispatcher, two
baresip agents: `e2e.start_two_nodes`, shared with the scale-out test).

- Kamailio restarted mid-call: the call keeps its media (what the caller hears is measured after the restart),
  the platform's state does not move (the call stays "talking"), the agent's hang-up from the phone goes through the
  new Kamailio and closes the CDR, registrations are read back (a new call rings the other agent's phone without it
  registering again).
- A media node killed and started again: its calls are closed (the answered one stays "answered", CDR legs
  `node_lost`; the queued one is "failed", not abandoned, with a `failed` queue-log row and a place on the callback
  list), the other node's waiting call keeps its place and is served, and the node is adopted again without
  restarting the controller: new calls land on it and reach an agent.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotline.telephony import services
from hotline.telephony.models import Agent, Call, CallLeg, MissedCall, QueueLog
from hotline.telephony.states import AgentEvent, AgentState

from .e2e import (
    heard,
    pump,
    run_for,
    run_pool_controller,
    setup_hotline,
    start_two_nodes,
    state_is,
    stop_tap,
    tap,
    two_nodes_citizen,
)

ACCEPT = "accept"
ON = 0.2  # a party's tone is heard: its share of the energy in some second


@pytest.fixture(scope="module")
def fault_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from start_two_nodes(tmp_path_factory, "faults")


@pytest.fixture
def fault_controller(fault_env: dict[str, Any], settings: Any, tmp_path: Path) -> Iterator[Any]:
    yield from run_pool_controller(fault_env, settings, tmp_path)


def citizen(
    env: dict[str, Any], caller: str, i: int, script: str = "citizen_hung_up_on.xml", talk_ms: int = 4000
) -> Any:
    return two_nodes_citizen(env, caller, i, script=script, talk_ms=talk_ms)


def node_of(caller: str) -> str:
    return CallLeg.objects.get(call__caller=caller, role="citizen").node


def status_of(caller: str) -> str:
    call = Call.objects.filter(caller=caller).first()
    return call.status if call else ""


def reap(sipps: list[Any]) -> None:
    for sipp in sipps:
        if sipp.poll() is None:
            sipp.kill()
            sipp.wait(timeout=10)


@pytest.mark.django_db(transaction=True)
def test_kamailio_restarted_mid_call(fault_env: dict[str, Any], fault_controller: Any, tmp_path: Path):
    ctrl, phones, stack = fault_controller, fault_env["phones"], fault_env["stack"]
    queue, (first, second) = setup_hotline("1001", "1002")
    services.agent_event(agent_pk=second.pk, event=AgentEvent.NOT_READY, reason="break")
    sipps = [citizen(fault_env, "13600000001", 0)]
    try:
        pump(ctrl, phones, lambda u: ACCEPT, state_is(first, AgentState.TALKING), 20)
        call = Call.objects.get(caller="13600000001")
        citizen_leg = CallLeg.objects.get(call=call, role="citizen").leg_id

        stack.restart_kamailio()

        # Media goes on: after the restart the caller still hears the agent's phone (its 700 Hz tone).
        tap(ctrl, citizen_leg, tmp_path / "after-restart.wav")
        run_for(ctrl, phones, 3)
        after = stop_tap(ctrl, phones, tmp_path / "after-restart.wav")
        assert heard(after, 700.0) > ON
        assert Call.objects.get(pk=call.pk).status == "talking"
        assert Agent.objects.get(pk=first.pk).state == AgentState.TALKING

        # The agent hangs up on the phone: the BYE crosses the new Kamailio (Record-Route, no state needed).
        phones["1001"].cmd("hangup")
        pump(ctrl, phones, lambda u: ACCEPT, lambda: status_of("13600000001") == "ended", 20)
        assert sipps[0].wait(timeout=30) == 0  # the caller got its BYE through the restarted proxy too
        call = Call.objects.get(pk=call.pk)
        assert call.disposition == "answered"
        assert not CallLeg.objects.filter(call=call, ended_at__isnull=True).exists()
        assert Agent.objects.get(pk=first.pk).state == AgentState.WRAP_UP

        # New calls work: the other agent's phone is reached through the registrations read back at start.
        services.agent_event(agent_pk=second.pk, event=AgentEvent.READY)
        sipps.append(citizen(fault_env, "13600000002", 1, script="citizen.xml"))
        pump(ctrl, phones, lambda u: ACCEPT, state_is(second, AgentState.TALKING), 30)
        pump(ctrl, phones, lambda u: ACCEPT, lambda: status_of("13600000002") == "ended", 40)
        assert Call.objects.get(caller="13600000002").disposition == "answered"
    finally:
        reap(sipps)


@pytest.mark.django_db(transaction=True)
def test_media_node_dies_and_is_adopted_again(fault_env: dict[str, Any], fault_controller: Any):
    ctrl, phones, stack = fault_controller, fault_env["phones"], fault_env["stack"]
    queue, (first, second) = setup_hotline("1001", "1002")
    services.agent_event(agent_pk=second.pk, event=AgentEvent.NOT_READY, reason="break")
    sipps: list[Any] = []
    try:
        # A: answered by 1001. B and C wait (nobody else is ready); the dispatcher alternates the nodes, so
        # whichever node holds A also holds one of the waiting calls.
        sipps.append(citizen(fault_env, "13600000011", 2))
        pump(ctrl, phones, lambda u: ACCEPT, state_is(first, AgentState.TALKING), 20)
        for i, caller in ((3, "13600000012"), (4, "13600000013")):
            sipps.append(citizen(fault_env, caller, i))
            pump(ctrl, phones, lambda u: ACCEPT, lambda c=caller: status_of(c) == "queued", 20)
        doomed = node_of("13600000011")
        lost_waiting = next(c for c in ("13600000012", "13600000013") if node_of(c) == doomed)
        kept_waiting = next(c for c in ("13600000012", "13600000013") if c != lost_waiting)

        stack.kill_node(doomed)
        pump(
            ctrl,
            phones,
            lambda u: ACCEPT,
            lambda: status_of("13600000011") == "ended" and status_of(lost_waiting) == "ended",
            20,
        )
        answered = Call.objects.get(caller="13600000011")
        assert answered.disposition == "answered"
        assert set(CallLeg.objects.filter(call=answered).values_list("hangup_cause", flat=True)) == {
            "node_lost"
        }
        assert Agent.objects.get(pk=first.pk).state == AgentState.WRAP_UP  # not left "talking"
        lost = Call.objects.get(caller=lost_waiting)
        assert lost.disposition == "failed"  # lost by the platform, not abandoned by the caller
        assert list(QueueLog.objects.filter(call=lost).values_list("event", flat=True).order_by("id"))[
            -1
        ] == ("failed")
        assert MissedCall.objects.filter(call=lost, reason="failed").exists()  # owed a call back
        assert not QueueLog.objects.filter(call=lost, event="abandon").exists()
        assert status_of(kept_waiting) == "queued"  # the other node's waiting call keeps its place

        # The node comes back: the controller (not restarted) adopts it again.
        stack.start_node(doomed)
        deadline = time.monotonic() + 30
        while doomed not in ctrl.engine.alive:
            assert time.monotonic() < deadline, "the restarted node was not adopted"
            ctrl.run_once(0.05)
        # The waiting call is served by the agent once wrap-up is done.
        services.agent_event(agent_pk=first.pk, event=AgentEvent.WRAP_UP_DONE)
        pump(ctrl, phones, lambda u: ACCEPT, lambda: status_of(kept_waiting) == "talking", 20)
        phones["1001"].cmd("hangup")
        pump(ctrl, phones, lambda u: ACCEPT, lambda: status_of(kept_waiting) == "ended", 20)

        # New calls land on both nodes again (Kamailio's probe re-activated the node) and reach agents.
        run_for(ctrl, phones, 5)  # two OPTIONS probe rounds
        services.agent_event(agent_pk=first.pk, event=AgentEvent.WRAP_UP_DONE)
        services.agent_event(agent_pk=second.pk, event=AgentEvent.READY)
        for i, caller in ((5, "13600000014"), (6, "13600000015")):
            sipps.append(citizen(fault_env, caller, i, script="citizen.xml"))
            pump(ctrl, phones, lambda u: ACCEPT, lambda c=caller: status_of(c) == "talking", 30)
        assert {node_of("13600000014"), node_of("13600000015")} == {"node1", "node2"}
        pump(
            ctrl,
            phones,
            lambda u: ACCEPT,
            lambda: status_of("13600000014") == status_of("13600000015") == "ended",
            40,
        )
        assert set(
            Call.objects.filter(caller__in=["13600000014", "13600000015"]).values_list(
                "disposition", flat=True
            )
        ) == {"answered"}
    finally:
        reap(sipps)
