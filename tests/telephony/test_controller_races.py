"""The call controller against a scripted engine (events fed in order, commands recorded): races a loaded machine
produces that the end-to-end tests rarely hit."""

from __future__ import annotations

import queue
from typing import Any

import pytest

from hotline.telephony import services
from hotline.telephony.controller import CallController
from hotline.telephony.engine import Ev, MediaEvent
from hotline.telephony.models import Agent, Call, Number, Queue
from hotline.telephony.states import AgentEvent, AgentState


class ScriptedEngine:
    name = "node1"

    def __init__(self) -> None:
        self.events: queue.Queue[MediaEvent] = queue.Queue()
        self.commands: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, op: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> None:
            self.commands.append((op, args))

        return record

    def next_event(self, timeout: float) -> MediaEvent | None:
        try:
            return self.events.get_nowait()
        except queue.Empty:
            return None

    def ops(self, op: str) -> list[tuple[Any, ...]]:
        return [args for name, args in self.commands if name == op]


@pytest.mark.django_db(transaction=True)
def test_an_answer_crossing_the_ring_timeout_cancel_sends_the_call_back_to_the_queue() -> None:
    """The agent's phone answers just as the ring timeout cancels it (a loaded machine: the 200 OK crosses the
    CANCEL). Before, the leg was bridged, then its hang-up was taken for the agent ending the call: the caller was
    hung up on. Now the call goes back to the head of the queue and the agent is set not ready."""
    q = Queue.objects.create(code="general", name="综合")
    Number.objects.create(number="12345", name="热线", queue=q)
    agent = services.agent_create(
        agent_id="1001", password="secret1", extension="1001", skills=[q], actor=None
    )
    services.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
    services.agent_event(agent_pk=agent.pk, event=AgentEvent.READY)
    engine = ScriptedEngine()
    clock = [1000.0]
    ctrl = CallController(engine, registrar="127.0.0.1:5060", ring_timeout=20, now=lambda: clock[0])
    try:
        engine.events.put(MediaEvent(Ev.INCOMING, leg="in-1", node="node1", data={"caller": "13800000001",
                                                                                  "dialed": "12345"}))  # fmt: skip
        ctrl.run_once(0)
        engine.events.put(MediaEvent(Ev.ANSWERED, leg="in-1", node="node1"))
        ctrl.run_once(0)  # queued; the next tick offers it
        ctrl.run_once(0)
        (agent_leg, _uri), *_ = engine.ops("call_out")
        assert Agent.objects.get(pk=agent.pk).state == AgentState.RINGING
        clock[0] += 21  # the ring timeout
        ctrl.run_once(0)
        assert (agent_leg,) in engine.ops("hangup")
        engine.events.put(
            MediaEvent(Ev.ANSWERED, leg=agent_leg, node="node1")
        )  # the 200 OK crossed the CANCEL
        ctrl.run_once(0)
        engine.events.put(
            MediaEvent(Ev.HUNGUP, leg=agent_leg, node="node1", data={"code": 200, "reason": "OK"})
        )
        ctrl.run_once(0)
    finally:
        ctrl.close()
    assert not engine.ops("bridge")
    assert ("in-1",) not in engine.ops("hangup")  # the caller is not hung up on
    call = Call.objects.get(caller="13800000001")
    assert call.status == "queued" and call.answered_at is None
    assert Agent.objects.get(pk=agent.pk).state == AgentState.NOT_READY
