"""ACD-3 seat features against a scripted engine: auto answer (offers to such a seat carry the intercom headers),
the agent-ID announcement the caller hears on answer ("1001号话务员为您服务" from clips), and a transfer to an IVR
flow and back (the agent waits on hold; the flow's `back` node returns the caller, or the queue when the agent
has gone)."""

from __future__ import annotations

import queue as queues
from pathlib import Path
from typing import Any

import pytest

from hotline.common.errors import ServiceError
from hotline.orgs.models import User
from hotline.telephony import seat, services
from hotline.telephony.controller import CallController
from hotline.telephony.engine import Ev, MediaEvent
from hotline.telephony.models import Agent, Call, CallControl, IvrStep, Number, Queue
from hotline.telephony.states import AgentEvent, AgentState

from .test_ivr import FakeVoice


class Engine:
    """Scripted: events fed in order; every command recorded with its keyword arguments."""

    name = "node1"

    def __init__(self) -> None:
        self.events: queues.Queue[MediaEvent] = queues.Queue()
        self.commands: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, op: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> None:
            self.commands.append((op, args, kwargs))

        return record

    def next_event(self, timeout: float) -> MediaEvent | None:
        try:
            return self.events.get_nowait()
        except queues.Empty:
            return None

    def ops(self, op: str) -> list[tuple[tuple[Any, ...], dict[str, Any]]]:
        return [(args, kwargs) for name, args, kwargs in self.commands if name == op]


@pytest.fixture
def hotline(db: Any, settings: Any, tmp_path: Path) -> dict[str, Any]:
    settings.VAR_DIR = tmp_path
    settings.HOTLINE_TTS_ENGINE = "tests.telephony.test_ivr.FakeVoice"
    FakeVoice.rendered = []
    q = Queue.objects.create(code="general", name="综合")
    Number.objects.create(number="12345", name="热线", queue=q)
    user = User.objects.create(username="seat-1001")
    agent = services.agent_create(
        agent_id="1001", password="secret1", extension="1001", skills=[q], user=user, actor=None
    )
    services.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
    services.agent_event(agent_pk=agent.pk, event=AgentEvent.READY)
    return {"queue": q, "agent": agent, "user": user}


def answered_call(engine: Engine, caller: str = "13800000001") -> tuple[CallController, str]:
    """A call offered to the ready agent and answered; the controller and the agent's leg."""
    ctrl = CallController(engine, registrar="127.0.0.1:5060")
    leg = f"in-{caller}"
    engine.events.put(
        MediaEvent(Ev.INCOMING, leg=leg, node="node1", data={"caller": caller, "dialed": "12345"})
    )
    engine.events.put(MediaEvent(Ev.ANSWERED, leg=leg, node="node1"))
    for _ in range(3):
        ctrl.run_once(0)
    (agent_leg, _uri), _kwargs = engine.ops("call_out")[-1]
    engine.events.put(MediaEvent(Ev.ANSWERED, leg=agent_leg, node="node1"))
    ctrl.run_once(0)
    return ctrl, agent_leg


def free_agent(agent: Agent, caller: str) -> None:
    services.call_end(call=Call.objects.get(caller=caller))  # the agent to wrap-up, then ready again
    services.agent_event(agent_pk=agent.pk, event=AgentEvent.WRAP_UP_DONE)


@pytest.mark.django_db(transaction=True)
def test_offers_to_an_auto_answer_seat_carry_the_intercom_headers(hotline: dict[str, Any]) -> None:
    engine = Engine()
    ctrl, _leg = answered_call(engine)
    ctrl.close()
    assert engine.ops("call_out")[0][1].get("headers") is None  # a manual seat rings as before
    Agent.objects.filter(pk=hotline["agent"].pk).update(auto_answer=True)
    free_agent(hotline["agent"], "13800000001")
    engine = Engine()
    ctrl, _leg = answered_call(engine, "13800000002")
    ctrl.close()
    assert engine.ops("call_out")[0][1]["headers"] == seat.AUTO_ANSWER_HEADERS
    assert "answer-after=0" in seat.AUTO_ANSWER_HEADERS["Call-Info"]


@pytest.mark.django_db(transaction=True)
def test_the_caller_hears_the_agent_id_when_the_agent_answers(hotline: dict[str, Any], settings: Any) -> None:
    engine = Engine()
    ctrl, agent_leg = answered_call(engine)
    ctrl.close()
    bridged = [name for name, *_ in engine.commands].index("bridge")
    played = [
        i
        for i, (name, args, _kw) in enumerate(engine.commands)
        if name == "play" and args[0] == "in-13800000001"
    ]
    assert played and played[-1] > bridged  # after the bridge (which stops any prompt), to the caller only
    assert [t for t in FakeVoice.rendered if t in ("一", "零", seat.ANNOUNCE_TAIL)] == [
        "一",
        "零",
        seat.ANNOUNCE_TAIL,
    ]
    assert not [args for args, _kw in engine.ops("play") if args[0] == agent_leg]

    settings.HOTLINE_AGENT_ID_ANNOUNCEMENT = False
    free_agent(hotline["agent"], "13800000001")
    engine = Engine()
    ctrl, _leg = answered_call(engine, "13800000002")
    ctrl.close()
    assert not [args for args, _kw in engine.ops("play") if args[0] == "in-13800000002"]


def publish_verify_flow() -> None:
    admin = User.objects.create(username="ivr-back-admin", is_superuser=True)
    flow = services.ivr_flow_create(code="verify", name="密码验证", actor=admin)
    graph = {
        "start": "ask",
        "nodes": [
            {
                "id": "ask",
                "type": "collect",
                "prompt": "请输入六位查询密码。",
                "digits": 6,
                "timeout": 5,
                "retries": 0,
                "var": "pin",
                "next": "back",
                "fallback": "back",
                "invalid": "back",
            },
            {"id": "back", "type": "back"},
        ],
    }
    assert services.ivr_draft_save(flow=flow, graph=graph, actor=admin)[1] == []
    services.ivr_publish(flow=flow, actor=admin)


@pytest.mark.django_db(transaction=True)
def test_transfer_to_the_ivr_and_back_to_the_same_agent(hotline: dict[str, Any]) -> None:
    publish_verify_flow()
    agent, user = hotline["agent"], hotline["user"]
    engine = Engine()
    ctrl, agent_leg = answered_call(engine)
    try:
        with pytest.raises(ServiceError) as unknown:
            services.agent_call_action(
                agent=agent, action="transfer", actor=user, target_kind="ivr", target="nope"
            )
        assert "target" in unknown.value.field_errors
        services.agent_call_action(
            agent=agent, action="transfer", actor=user, target_kind="ivr", target="verify"
        )
        ctrl.run_once(0)  # the command (sent after commit) reaches the controller
        assert (("in-13800000001", agent_leg), {}) in engine.ops("unbridge")
        assert ((agent_leg, "hold.wav"), {}) in engine.ops("park")
        assert Agent.objects.get(pk=agent.pk).state == AgentState.HOLD
        engine.events.put(
            MediaEvent(Ev.DIGITS, leg="in-13800000001", data={"digits": "246810", "reason": "max"})
        )
        ctrl.run_once(0)
    finally:
        ctrl.close()
    assert engine.ops("bridge")[-1][0] == ("in-13800000001", agent_leg)
    assert Agent.objects.get(pk=agent.pk).state == AgentState.TALKING
    call = Call.objects.get(caller="13800000001")
    assert call.status == "talking" and call.agent_id == agent.pk
    assert list(IvrStep.objects.filter(call=call).values_list("node", "event", "digits")) == [
        ("ask", "enter", ""),
        ("ask", "keys", "246810"),
        ("back", "enter", ""),
    ]
    assert list(CallControl.objects.filter(call=call).values_list("kind", "target")) == [
        ("ivr_transfer", "ivr:verify"),
        ("ivr_back", ""),
    ]


@pytest.mark.django_db(transaction=True)
def test_back_goes_to_the_queue_when_the_agent_hung_up_meanwhile(hotline: dict[str, Any]) -> None:
    publish_verify_flow()
    agent, user = hotline["agent"], hotline["user"]
    engine = Engine()
    ctrl, agent_leg = answered_call(engine)
    try:
        services.agent_call_action(
            agent=agent, action="transfer", actor=user, target_kind="ivr", target="verify"
        )
        ctrl.run_once(0)
        engine.events.put(MediaEvent(Ev.HUNGUP, leg=agent_leg, data={"code": 200, "reason": "BYE"}))
        ctrl.run_once(0)
        assert Agent.objects.get(pk=agent.pk).state == AgentState.WRAP_UP
        engine.events.put(
            MediaEvent(Ev.DIGITS, leg="in-13800000001", data={"digits": "", "reason": "timeout"})
        )
        ctrl.run_once(0)
    finally:
        ctrl.close()
    call = Call.objects.get(caller="13800000001")
    assert call.status == "queued" and call.priority >= 5  # ahead of new calls: it had reached a person
    assert ("in-13800000001",) not in [args for args, _kw in engine.ops("hangup")]
