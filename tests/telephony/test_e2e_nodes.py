"""Scale-out and faults, end to end: two pjsua2 media nodes behind Kamailio's dispatcher (their own Kamailio and
phones, away from the shared environment's ports). Calls are spread over both nodes; one node is killed in the
middle of a call: that call's CDR is closed and its agent is not left "talking", the other node's call goes on,
and the next call goes to the surviving node."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hotline.telephony.models import Agent, Call, CallLeg
from hotline.telephony.states import AgentState

from .e2e import BASE, pump, setup_hotline, state_is
from .sip_tools import Baresip, missing, sipp_citizen

BASE2 = BASE + 200
PROXY2 = f"127.0.0.1:{BASE2}"


@pytest.fixture(scope="module")
def two_nodes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    absent = missing()
    if absent:
        pytest.skip(f"telephony binaries absent: {', '.join(absent)}")
    from hotline.telephony.runtime import Stack

    keep = os.environ.get("HOTLINE_TEST_TEL_DIR")
    work = Path(keep) / "nodes" if keep else tmp_path_factory.mktemp("tel2")
    stack = Stack(
        work_dir=work,
        sip_port=BASE2,
        node_sip_port=BASE2 + 10,
        ctl_port=BASE2 + 11,
        rtp_port=BASE2 + 1400,
        nodes=2,
    )
    phones: dict[str, Baresip] = {}
    try:
        stack.start()
        for i, (user, freq) in enumerate((("1001", 700.0), ("1002", 1000.0))):
            phones[user] = Baresip(
                user=user,
                work=work,
                registrar=PROXY2,
                sip_port=BASE2 + 40 + 4 * i,
                ctrl_port=BASE2 + 42 + 4 * i,
                rtp=BASE2 + 1000 + 100 * i,
                freq=freq,
            )
        deadline = time.monotonic() + 30
        while not all(p.registered() for p in phones.values()):
            assert time.monotonic() < deadline, "phones did not register"
            time.sleep(0.2)
        yield {"work": work, "stack": stack, "phones": phones}
    finally:
        for phone in phones.values():
            phone.stop()
        stack.stop()


@pytest.fixture
def pool_controller(two_nodes: dict[str, Any], settings: Any, tmp_path: Path) -> Iterator[Any]:
    from hotline.telephony.adapters.pjsua_node import PjsuaNodeEngine
    from hotline.telephony.adapters.pool import NodePool
    from hotline.telephony.controller import CallController

    settings.VAR_DIR = tmp_path
    stack = two_nodes["stack"]
    pool = NodePool([PjsuaNodeEngine(name=n, port=stack.node_ctl_port(n)) for n in stack.node_names()])
    ctrl = CallController(pool, registrar=PROXY2, ring_timeout=8)
    deadline = time.monotonic() + 30
    while not ctrl.node_ready.is_set():
        assert time.monotonic() < deadline, "media nodes not registered"
        ctrl.run_once(0.05)
    yield ctrl
    ctrl.close()
    pool.close()


def citizen(env: dict[str, Any], caller: str, i: int, script: str = "citizen_hung_up_on.xml") -> Any:
    return sipp_citizen(
        work=env["work"],
        proxy=PROXY2,
        number="12345",
        caller=caller,
        sip_port=BASE2 + 20 + i,
        media_port=BASE2 + 2200 + 20 * i,
        script=script,
        keys="",
        talk_ms=8000,
    )


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
