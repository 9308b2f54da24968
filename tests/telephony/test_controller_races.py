"""The call controller against a scripted engine (events fed in order, commands recorded): races a loaded machine
produces that the end-to-end tests rarely hit."""

from __future__ import annotations

import queue
from typing import Any

import pytest

from hotline.telephony import services
from hotline.telephony.controller import CallController
from hotline.telephony.engine import Ev, MediaEvent
from hotline.telephony.models import Agent, AgentStateLog, Call, CallLeg, Number, Queue, QueueLog
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


def _hotline_with_agents(*extensions: str) -> list[Agent]:
    q = Queue.objects.create(code="general", name="综合")
    Number.objects.create(number="12345", name="热线", queue=q)
    agents = []
    for ext in extensions:
        agent = services.agent_create(agent_id=ext, password="secret1", extension=ext, skills=[q], actor=None)
        services.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
        agents.append(services.agent_event(agent_pk=agent.pk, event=AgentEvent.READY))
    return agents


def _incoming(leg: str, caller: str) -> MediaEvent:
    return MediaEvent(Ev.INCOMING, leg=leg, node="node1", data={"caller": caller, "dialed": "12345"})


@pytest.mark.django_db(transaction=True)
def test_a_pass_is_one_transaction_and_the_engine_hears_of_it_only_after_commit() -> None:
    """Group commit: several events in one pass, one transaction; the media commands they produce are sent after
    the commit (so nothing a caller experiences lacks its CDR), in the order they were made."""
    _hotline_with_agents("1001", "1002")
    engine = ScriptedEngine()
    ctrl = CallController(engine, registrar="127.0.0.1:5060", ring_timeout=20)
    sent_when_committed: list[int] = []
    real_answer = engine.__getattr__("answer")

    def answer(leg: str) -> None:  # what the database holds when the engine is told to answer
        sent_when_committed.append(Call.objects.count())
        real_answer(leg)

    engine.answer = answer  # type: ignore[method-assign]
    try:
        engine.events.put(_incoming("in-1", "13800000001"))
        engine.events.put(_incoming("in-2", "13800000002"))
        ctrl.run_once(0)  # both in one pass
        assert sent_when_committed == [2, 2]  # both calls' rows committed before either was answered
        engine.events.put(MediaEvent(Ev.ANSWERED, leg="in-1", node="node1"))
        engine.events.put(MediaEvent(Ev.ANSWERED, leg="in-2", node="node1"))
        ctrl.run_once(0)  # queued, and the ACD offers both to the two agents in the same pass
        assert len(engine.ops("call_out")) == 2
        assert Call.objects.filter(status="ringing").count() == 2
        assert QueueLog.objects.filter(event="offer").count() == 2  # the log rows written behind, committed
    finally:
        ctrl.close()


@pytest.mark.django_db(transaction=True)
def test_one_bad_event_in_a_pass_does_not_take_the_others_down(monkeypatch: pytest.MonkeyPatch) -> None:
    """An event that fails rolls its pass back; the pass is replayed one event per transaction: the other call is
    handled, the failed one's rows are not half-written."""
    _hotline_with_agents("1001")
    engine = ScriptedEngine()
    ctrl = CallController(engine, registrar="127.0.0.1:5060", ring_timeout=20)
    from hotline.telephony import controller as controller_module

    lookup = controller_module.citizen_for_number

    def failing(number: str) -> Any:
        if number == "13800000002":
            raise RuntimeError("the citizens' lookup failed")
        return lookup(number)

    monkeypatch.setattr(controller_module, "citizen_for_number", failing)
    try:
        engine.events.put(_incoming("in-1", "13800000001"))
        engine.events.put(_incoming("in-2", "13800000002"))
        ctrl.run_once(0)
    finally:
        ctrl.close()
    assert engine.ops("answer") == [("in-1",)]  # the good call answered once, the bad one not at all
    assert list(Call.objects.values_list("caller", flat=True)) == ["13800000001"]


@pytest.mark.django_db(transaction=True)
def test_a_controller_killed_mid_pass_loses_no_cdr(monkeypatch: pytest.MonkeyPatch) -> None:
    """Crash safety of the group commit: calls talking (their passes committed), then the process dies in the
    middle of a pass (SystemExit raised inside it, as a kill would). Nothing of that pass reached the engine; a
    new controller's `recover` finds every CDR of the earlier calls, closes it (answered, legs ended), takes the
    agents out of talking, and the queue-log / agent-state rows written behind with the committed passes are
    there. The media node's leg the dead pass never answered is hung up when the node reports in."""
    agents = _hotline_with_agents("1001", "1002")
    engine = ScriptedEngine()
    ctrl = CallController(engine, registrar="127.0.0.1:5060", ring_timeout=20)
    for n in (1, 2):
        engine.events.put(_incoming(f"in-{n}", f"1380000000{n}"))
        engine.events.put(MediaEvent(Ev.ANSWERED, leg=f"in-{n}", node="node1"))
    ctrl.run_once(0)
    ctrl.run_once(0)  # the ACD offers both
    for leg, _uri in engine.ops("call_out"):
        engine.events.put(MediaEvent(Ev.ANSWERED, leg=leg, node="node1"))
    ctrl.run_once(0)
    assert set(Agent.objects.values_list("state", flat=True)) == {AgentState.TALKING}
    sent_before = len(engine.commands)

    from hotline.telephony import controller as controller_module

    def killed(number: str) -> Any:
        raise SystemExit("killed")

    monkeypatch.setattr(controller_module, "citizen_for_number", killed)
    engine.events.put(_incoming("in-3", "13800000003"))
    engine.events.put(MediaEvent(Ev.HUNGUP, leg="in-1", node="node1", data={"code": 200}))
    with pytest.raises(SystemExit):
        ctrl.run_once(0)
    assert len(engine.commands) == sent_before  # the dead pass told the engine nothing
    assert not Call.objects.filter(caller="13800000003").exists()  # and wrote nothing half-way
    monkeypatch.undo()

    engine2 = ScriptedEngine()
    restarted = CallController(engine2, registrar="127.0.0.1:5060", ring_timeout=20)
    try:
        restarted.recover()
        engine2.events.put(
            MediaEvent(Ev.NODE_UP, node="node1", data={"legs": ["in-1", "in-2", "in-3"], "registered": {}})
        )
        restarted.run_once(0)
    finally:
        restarted.close()
        ctrl.close()
    calls = Call.objects.filter(caller__in=("13800000001", "13800000002"))
    assert calls.count() == 2
    assert all(c.status == "ended" and c.disposition == "answered" and c.answered_at for c in calls)
    assert not CallLeg.objects.filter(ended_at__isnull=True).exists()
    assert {a.state for a in Agent.objects.filter(pk__in=[a.pk for a in agents])} == {AgentState.WRAP_UP}
    assert QueueLog.objects.filter(event="connect").count() == 2
    assert AgentStateLog.objects.filter(to_state=AgentState.TALKING).count() == 2
    assert {args for args in engine2.ops("hangup")} == {("in-1",), ("in-2",), ("in-3",)}


@pytest.mark.django_db(transaction=True)
def test_an_agents_own_state_change_does_not_wait_for_the_wal_flush_but_a_call_pass_does() -> None:
    """The ready / not-ready change made on its own commits asynchronously on PostgreSQL (its push is not held up
    by the disk); the same change inside a call's transaction (the controller's pass) commits with it,
    synchronously (a CDR is never at risk)."""
    from django.db import connection, transaction

    (agent,) = _hotline_with_agents("1001")
    statements: list[str] = []

    def spy(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(spy):
        services.agent_event(agent_pk=agent.pk, event=AgentEvent.NOT_READY, reason="break")
    on_its_own = any("synchronous_commit" in sql for sql in statements)
    statements.clear()
    with connection.execute_wrapper(spy), transaction.atomic():
        services.agent_event(agent_pk=agent.pk, event=AgentEvent.READY)
    assert on_its_own == (connection.vendor == "postgresql")
    assert not any("synchronous_commit" in sql for sql in statements)
    assert Agent.objects.get(pk=agent.pk).state == AgentState.READY
