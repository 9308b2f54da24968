"""Scale-out and faults, end to end: two pjsua2 media nodes behind Kamailio's dispatcher (their own Kamailio and
phones: `e2e.start_two_nodes`, shared with the fault tests). Calls are spread over both nodes; one node is killed in the
middle of a call: that call's CDR is closed and its agent is not left "talking", the other node's call goes on,
and the next call goes to the surviving node."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotline.telephony.models import Agent, Call, CallLeg
from hotline.telephony.states import AgentState

from .e2e import pump, run_pool_controller, setup_hotline, start_two_nodes, state_is, two_nodes_citizen


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    yield from start_two_nodes(tmp_path_factory, "nodes")


@pytest.fixture
def pool_controller(two_nodes: dict[str, Any], settings: Any, tmp_path: Path) -> Iterator[Any]:
    yield from run_pool_controller(two_nodes, settings, tmp_path)


def citizen(env: dict[str, Any], caller: str, i: int, script: str = "citizen_hung_up_on.xml") -> Any:
    return two_nodes_citizen(env, caller, i, script=script, talk_ms=8000)


def node_of(caller: str) -> str:
    return CallLeg.objects.get(call__caller=caller, role="citizen").node


@pytest.mark.django_db(transaction=True)
def test_calls_spread_over_two_nodes_and_a_killed_node_loses_only_its_call(
    two_nodes: dict[str, Any], pool_controller: Any
):
    queue, (first, second) = setup_hotline("1001", "1002")
    phones, stack = two_nodes["phones"], two_nodes["stack"]
    sipps = [citizen(two_nodes, "13700000001", 0)]
    try:
        pump(pool_controller, phones, lambda u: "accept", state_is(first, AgentState.TALKING), 20)
        sipps.append(citizen(two_nodes, "13700000002", 1))
        pump(pool_controller, phones, lambda u: "accept", state_is(second, AgentState.TALKING), 20)
        nodes = {node_of("13700000001"), node_of("13700000002")}
        assert nodes == {"node1", "node2"}, "dispatcher spreads calls round-robin"
        # The node holding the second call dies mid-call.
        doomed = node_of("13700000002")
        survivor = ({"node1", "node2"} - {doomed}).pop()
        stack.kill_node(doomed)
        lost = Call.objects.get(caller="13700000002")
        pump(
            pool_controller,
            phones,
            lambda u: "accept",
            lambda: Call.objects.get(pk=lost.pk).status == "ended",
            20,
        )
        assert Agent.objects.get(pk=second.pk).state == AgentState.WRAP_UP  # not stuck in talking
        assert not CallLeg.objects.filter(call=lost, ended_at__isnull=True).exists()
        assert set(CallLeg.objects.filter(call=lost).values_list("hangup_cause", flat=True)) == {"node_lost"}
        assert Call.objects.get(caller="13700000001").status == "talking"  # the other node's call goes on
        # The next call reaches an agent through the surviving node.
        from hotline.telephony import services
        from hotline.telephony.states import AgentEvent

        services.agent_event(agent_pk=second.pk, event=AgentEvent.WRAP_UP_DONE)
        sipps.append(citizen(two_nodes, "13700000003", 2, script="citizen.xml"))
        pump(
            pool_controller,
            phones,
            lambda u: "accept",
            lambda: Call.objects.filter(caller="13700000003", status="talking").exists(),
            40,
        )
        assert node_of("13700000003") == survivor
    finally:
        for sipp in sipps:
            if sipp.poll() is None:
                sipp.kill()
                sipp.wait(timeout=10)
