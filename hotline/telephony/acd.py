"""The ACD decision (ACD-1, ACD-2) as pure Python: which waiting call goes to which ready agent.

No database, no I/O: the call controller takes a snapshot (ready agents, waiting calls, queue settings), asks
`assign()` and acts on the answer, so the rule is tested and benchmarked on its own (`bench/acd_bench.py`).

Order of calls: higher caller priority first (VIP, sensitive), then the longest waiting. Choice of agent by the
queue's strategy: `longest_idle` (the agent ready for the longest time) or `fewest_calls` (the agent who has
taken the fewest calls today, ties by idle time). An agent serves a queue when the queue's skill group is among
the agent's skills.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

LONGEST_IDLE = "longest_idle"
FEWEST_CALLS = "fewest_calls"
STRATEGIES = (LONGEST_IDLE, FEWEST_CALLS)


@dataclass(frozen=True, slots=True)
class ReadyAgent:
    agent_id: int
    skills: frozenset[int]  # ids of the queues (skill groups) the agent serves
    idle_since: float  # epoch seconds the agent became ready
    calls_today: int = 0


@dataclass(frozen=True, slots=True)
class WaitingCall:
    call_id: str
    queue_id: int
    enqueued_at: float
    priority: int = 0  # higher first


@dataclass(frozen=True, slots=True)
class QueueRule:
    queue_id: int
    strategy: str = LONGEST_IDLE
    max_wait_seconds: int = 0  # 0: no limit
    overflow_queue_id: int | None = None  # None with a limit: to voicemail


@dataclass(frozen=True, slots=True)
class Assignment:
    call_id: str
    agent_id: int


@dataclass(frozen=True, slots=True)
class Overflow:
    call_id: str
    queue_id: int | None  # None: voicemail


def _by_idle(agent: ReadyAgent) -> tuple[float, int]:
    return (agent.idle_since, agent.agent_id)


def _by_calls(agent: ReadyAgent) -> tuple[int, float, int]:
    return (agent.calls_today, agent.idle_since, agent.agent_id)


def call_order(calls: Iterable[WaitingCall]) -> list[WaitingCall]:
    return sorted(calls, key=lambda c: (-c.priority, c.enqueued_at, c.call_id))


def assign(
    *, calls: Sequence[WaitingCall], agents: Sequence[ReadyAgent], rules: dict[int, QueueRule]
) -> list[Assignment]:
    """Every call that can be offered now, to whom. Each agent gets at most one call."""
    if not calls or not agents:
        return []
    wanted = {c.queue_id for c in calls}
    # Per queue, the ready agents serving it, best first by the queue's strategy.
    ranked: dict[int, list[ReadyAgent]] = {q: [] for q in wanted}
    for agent in agents:
        for skill in agent.skills:
            if skill in ranked:
                ranked[skill].append(agent)
    for queue_id, serving in ranked.items():
        rule = rules.get(queue_id)
        if rule is not None and rule.strategy == FEWEST_CALLS:
            serving.sort(key=_by_calls)
        else:
            serving.sort(key=_by_idle)
    cursor = dict.fromkeys(wanted, 0)
    taken: set[int] = set()
    out: list[Assignment] = []
    for call in call_order(calls):
        candidates, i = ranked[call.queue_id], cursor[call.queue_id]
        while i < len(candidates) and candidates[i].agent_id in taken:
            i += 1
        cursor[call.queue_id] = i
        if i < len(candidates):
            agent = candidates[i]
            taken.add(agent.agent_id)
            out.append(Assignment(call.call_id, agent.agent_id))
            cursor[call.queue_id] = i + 1
        if len(taken) == len(agents):
            break
    return out


def overflows(*, calls: Sequence[WaitingCall], rules: dict[int, QueueRule], now: float) -> list[Overflow]:
    """Calls that have waited longer than their queue allows, and where they go next."""
    out = []
    for call in calls:
        rule = rules.get(call.queue_id)
        if rule and rule.max_wait_seconds and now - call.enqueued_at >= rule.max_wait_seconds:
            out.append(Overflow(call.call_id, rule.overflow_queue_id))
    return out


def position(*, call_id: str, calls: Sequence[WaitingCall]) -> int:
    """1-based place of the call among those waiting in its queue (for the position announcement)."""
    mine = next(c for c in calls if c.call_id == call_id)
    same = [c for c in call_order(calls) if c.queue_id == mine.queue_id]
    return [c.call_id for c in same].index(call_id) + 1


def positions(calls: Iterable[WaitingCall]) -> dict[str, int]:
    """How many callers are ahead of each waiting call in its own queue (the order `assign` serves them in)."""
    by_queue: dict[int, list[WaitingCall]] = {}
    for call in calls:
        by_queue.setdefault(call.queue_id, []).append(call)
    ahead: dict[str, int] = {}
    for waiting in by_queue.values():
        for i, call in enumerate(sorted(waiting, key=lambda c: (-c.priority, c.enqueued_at, c.call_id))):
            ahead[call.call_id] = i
    return ahead


def expected_wait_seconds(ahead: int, *, handle_seconds: float, agents: int) -> int:
    """Expected wait before an agent takes the call: the callers ahead plus this one, served by `agents` agents
    each taking `handle_seconds` a call on average (at least one agent is assumed)."""
    return int((ahead + 1) * handle_seconds / max(1, agents))
