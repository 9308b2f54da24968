"""A simulated busy hour (issue 13): Poisson arrivals offered at 90 % of the agents' capacity (Erlang traffic),
exponential handle times (talk + after-call work), the real ACD (`acd.assign`) deciding on every arrival and every
agent becoming free, in simulated time. Prints:

- the share of calls answered within 15 s (GB/T 33358's figure), the mean wait, abandoned calls (when callers have
  a patience), per hour over several simulated busy hours, beside the Erlang C prediction for the same load (a
  cross-check of the simulation when callers wait without limit);
- the ACD decision as the busy hour makes it (the real waiting calls and ready agents at each event): p50 / p99 of
  wall and CPU time per decision, with the load average (wall times on a shared machine are upper bounds).

Pure Python, no database:  `nice -n 10 python -m bench.busy_hour_bench [--agents 100] [--load 0.9]
[--talk 210] [--wrap 30] [--hours 10] [--patience 0] [--groups 1]`. With `--groups 3` calls are spread over three
skill groups and each agent serves one or two of them (the Erlang C line then holds for one pooled group only).
"""

from __future__ import annotations

import argparse
import heapq
import math
import os
import random
import statistics
import sys
import time

from hotline.telephony import acd

SERVICE_SECONDS = 15.0
TARGET_DECISION_P99_MS = 5.0


def erlang_c(agents: int, traffic: float) -> float:
    """Probability that a call waits (Erlang C), computed stably through the Erlang B recursion."""
    b = 1.0
    for k in range(1, agents + 1):
        b = traffic * b / (k + traffic * b)
    rho = traffic / agents
    return b / (1 - rho + rho * b)


def erlang_c_service_level(agents: int, traffic: float, handle: float, t: float) -> float:
    return 1 - erlang_c(agents, traffic) * math.exp(-(agents - traffic) * t / handle)


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return (
        ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))] if ordered else float("nan")
    )


def simulate_hour(
    rng: random.Random, args: argparse.Namespace, decisions: list[tuple[float, float, int, int]]
) -> dict[str, float]:
    handle = args.talk + args.wrap
    traffic = args.load * args.agents
    rate = traffic / handle
    groups = list(range(1, args.groups + 1))
    rules = {q: acd.QueueRule(q) for q in groups}
    skills = [
        frozenset(rng.sample(groups, min(len(groups), rng.choice((1, 2)))))
        if len(groups) > 1
        else frozenset({1})
        for _ in range(args.agents)
    ]
    warm = args.warm_up
    horizon = warm + 3600.0
    # Events: (time, order, kind, payload). Kinds: arrive (call id), free (agent id), give_up (call id).
    events: list[tuple[float, int, str, int]] = []
    seq = 0

    def push(at: float, kind: str, payload: int) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (at, seq, kind, payload))

    t = rng.expovariate(rate)
    n_calls = 0
    while t < horizon:
        push(t, "arrive", n_calls)
        n_calls += 1
        t += rng.expovariate(rate)
    ready: dict[int, float] = {a: 0.0 for a in range(args.agents)}  # agent → ready since
    waiting: dict[int, acd.WaitingCall] = {}
    arrived_at: dict[int, float] = {}
    waits: list[float] = []
    abandoned = 0
    while events:
        now, _seq, kind, payload = heapq.heappop(events)
        if kind == "arrive":
            arrived_at[payload] = now
            waiting[payload] = acd.WaitingCall(str(payload), rng.choice(groups), now)
            if args.patience:
                push(now + rng.expovariate(1 / args.patience), "give_up", payload)
        elif kind == "give_up":
            if waiting.pop(payload, None) is not None and arrived_at[payload] >= warm:
                abandoned += 1
            continue
        else:
            ready[payload] = now
        if not waiting or not ready:
            continue
        agents = [acd.ReadyAgent(a, skills[a], since) for a, since in ready.items()]
        calls = list(waiting.values())
        c0, w0 = time.thread_time(), time.perf_counter()
        out = acd.assign(calls=calls, agents=agents, rules=rules)
        decisions.append(
            ((time.perf_counter() - w0) * 1000, (time.thread_time() - c0) * 1000, len(calls), len(agents))
        )
        for assignment in out:
            call_id = int(assignment.call_id)
            del waiting[call_id]
            del ready[assignment.agent_id]
            if arrived_at[call_id] >= warm and arrived_at[call_id] < horizon:
                waits.append(now - arrived_at[call_id])
            push(now + rng.expovariate(1 / handle), "free", assignment.agent_id)
    offered = sum(1 for at in arrived_at.values() if warm <= at < horizon)
    within = sum(1 for w in waits if w <= SERVICE_SECONDS)
    return {
        "offered": offered,
        "answered": len(waits),
        "within": within,
        "abandoned": abandoned,
        "mean_wait": statistics.mean(waits) if waits else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--agents", type=int, default=100)
    parser.add_argument("--load", type=float, default=0.9, help="offered traffic / agents (0.9 = 90 %%)")
    parser.add_argument("--talk", type=float, default=210.0, help="mean talk seconds")
    parser.add_argument("--wrap", type=float, default=30.0, help="mean after-call work seconds")
    parser.add_argument("--hours", type=int, default=10, help="simulated busy hours (independent)")
    parser.add_argument(
        "--patience", type=float, default=0.0, help="mean caller patience s (0: nobody hangs up)"
    )
    parser.add_argument("--groups", type=int, default=1)
    parser.add_argument(
        "--warm-up", type=float, default=1800.0, help="simulated seconds before the hour counts"
    )
    parser.add_argument("--seed", type=int, default=12345)
    args = parser.parse_args()
    handle = args.talk + args.wrap
    traffic = args.load * args.agents
    rng = random.Random(args.seed)
    decisions: list[tuple[float, float, int, int]] = []
    hours = []
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for _ in range(args.hours):
        hours.append(simulate_hour(rng, args, decisions))
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    print(
        f"busy hour: {args.agents} agents, offered {traffic:.1f} Erlang ({args.load:.0%} of capacity), "
        f"{traffic / handle * 3600:.0f} calls/h, handle {handle:.0f} s (talk {args.talk:.0f} + wrap {args.wrap:.0f}),"
        f" {args.groups} skill group(s), patience {'none' if not args.patience else f'{args.patience:.0f} s'}"
    )
    shares = [h["within"] / h["offered"] for h in hours if h["offered"]]
    offered = sum(h["offered"] for h in hours)
    print(
        f"answered within {SERVICE_SECONDS:.0f} s (share of offered calls): mean {statistics.mean(shares):.1%}, "
        f"worst hour {min(shares):.1%}, best {max(shares):.1%} over {args.hours} simulated hours "
        f"({offered} calls); mean wait {statistics.mean(h['mean_wait'] for h in hours):.1f} s; "
        f"abandoned {sum(h['abandoned'] for h in hours) / offered:.1%}"
    )
    if args.groups == 1:
        print(
            f"Erlang C for the same load: P(wait) {erlang_c(args.agents, traffic):.1%}, answered within "
            f"{SERVICE_SECONDS:.0f} s {erlang_c_service_level(args.agents, traffic, handle, SERVICE_SECONDS):.1%}"
            + (" (callers with a patience: not comparable)" if args.patience else "")
        )
    walls = [d[0] for d in decisions]
    cpus = [d[1] for d in decisions]
    print(
        f"ACD decisions in the busy hours: {len(decisions)} (waiting calls per decision: median "
        f"{statistics.median(d[2] for d in decisions):.0f}, max {max(d[2] for d in decisions)}; ready agents: "
        f"median {statistics.median(d[3] for d in decisions):.0f}, max {max(d[3] for d in decisions)})"
    )
    p99 = _pct(walls, 99)
    print(
        f"ACD decision wall ms: p50 {_pct(walls, 50):.3f}  p99 {p99:.3f}  max {max(walls):.3f};  CPU ms: p50 "
        f"{_pct(cpus, 50):.3f}  p99 {_pct(cpus, 99):.3f}   target p99 < {TARGET_DECISION_P99_MS:.0f} ms: "
        f"{'met' if p99 < TARGET_DECISION_P99_MS else 'MISSED'}"
    )
    load = os.getloadavg()
    print(
        f"simulation wall {wall:.1f} s, CPU {cpu:.1f} s; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} "
        f"({os.cpu_count()} cores); python {sys.version.split()[0]}"
    )


if __name__ == "__main__":
    main()
