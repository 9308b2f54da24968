"""The ACD decision: caller priority, then longest wait; longest-idle (or fewest-calls) agent with the skill."""

from __future__ import annotations

from hotline.telephony import acd
from hotline.telephony.acd import Assignment, QueueRule, ReadyAgent, WaitingCall


def test_longest_idle_agent_with_the_skill_gets_the_call() -> None:
    agents = [
        ReadyAgent(1, frozenset({1}), idle_since=100.0),
        ReadyAgent(2, frozenset({1}), idle_since=50.0),  # idle longest
        ReadyAgent(3, frozenset({2}), idle_since=10.0),  # idle even longer but lacks the skill
    ]
    out = acd.assign(calls=[WaitingCall("a", 1, enqueued_at=200.0)], agents=agents, rules={})
    assert out == [Assignment("a", 2)]


def test_priority_caller_first_then_longest_waiting() -> None:
    agents = [ReadyAgent(1, frozenset({1}), 0.0)]
    calls = [
        WaitingCall("old", 1, enqueued_at=10.0),
        WaitingCall("vip", 1, enqueued_at=90.0, priority=2),
        WaitingCall("new", 1, enqueued_at=50.0),
    ]
    assert acd.assign(calls=calls, agents=agents, rules={}) == [Assignment("vip", 1)]
    assert [c.call_id for c in acd.call_order(calls)] == ["vip", "old", "new"]
    assert acd.position(call_id="new", calls=calls) == 3


def test_each_agent_gets_one_call_and_calls_without_agents_wait() -> None:
    agents = [ReadyAgent(1, frozenset({1, 2}), 5.0), ReadyAgent(2, frozenset({1}), 1.0)]
    calls = [WaitingCall("x", 1, 1.0), WaitingCall("y", 1, 2.0), WaitingCall("z", 2, 0.5)]
    # z (queue 2) waited longest: it takes the only agent with skill 2 (agent 1); x gets agent 2; y waits.
    assert acd.assign(calls=calls, agents=agents, rules={}) == [Assignment("z", 1), Assignment("x", 2)]


def test_fewest_calls_strategy() -> None:
    agents = [
        ReadyAgent(1, frozenset({1}), 1.0, calls_today=9),
        ReadyAgent(2, frozenset({1}), 5.0, calls_today=2),
    ]
    rules = {1: QueueRule(1, acd.FEWEST_CALLS)}
    assert acd.assign(calls=[WaitingCall("a", 1, 0.0)], agents=agents, rules=rules) == [Assignment("a", 2)]
    assert acd.assign(calls=[WaitingCall("a", 1, 0.0)], agents=agents, rules={}) == [Assignment("a", 1)]


def test_overflow_after_max_wait() -> None:
    rules = {1: QueueRule(1, max_wait_seconds=60, overflow_queue_id=2), 2: QueueRule(2, max_wait_seconds=30)}
    calls = [
        WaitingCall("a", 1, 0.0),
        WaitingCall("b", 1, 50.0),
        WaitingCall("c", 2, 0.0),
        WaitingCall("d", 3, 0.0),
    ]
    out = acd.overflows(calls=calls, rules=rules, now=60.0)
    assert out == [acd.Overflow("a", 2), acd.Overflow("c", None)]
