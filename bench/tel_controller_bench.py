"""The call controller's own capacity (issue 13: ≥ 20 new calls/s through IVR → queue → agent), without SIP.

`tel_scale_bench` runs the real processes, but on this 2-core machine its 70 pjsua2 media nodes (4 legs each: the
PyPI wheel's cap) burn the cores themselves. Here the controller of the platform runs on PostgreSQL exactly as in
production, and a scripted media engine in this process plays the world: citizens arrive at `--rate` per second,
the node answers them at once, the welcome prompt lasts `--prompt-ms`, an agent's phone answers `--ring-ms` after
the offer, the citizen talks `--hold` seconds and hangs up, the recording's file is reported. Everything else is
the controller's real code: CDR legs, queue log, agent-state log, ACD passes, wrap-up.

    nice -n 10 python -m bench.tel_controller_bench --calls 1000 --rate 20 --agents 150

Prints the arrival rate the controller kept up with, time to a person p50/p99 (from the CDR, so it includes any
backlog of events), database round trips per call, CPU seconds per call of the controller and of its
PostgreSQL backend, and the load.
"""

from __future__ import annotations

import argparse
import collections
import heapq
import itertools
import os
import re
import resource
import time
from typing import Any

from django.conf import settings
from django.db import connection

from bench import require_postgresql
from bench.agent_push_bench import _postgres_cpu, backend_pid
from bench.chat_bench import _pct
from bench.tel_scale_bench import prepare_agents
from hotline.telephony.engine import Ev, MediaEvent
from hotline.telephony.models import Call, CallLeg, QueueLog, Recording


class World:
    """A media engine whose far ends behave on a schedule (monotonic seconds)."""

    name = "node1"

    def __init__(self, *, prompt_s: float, ring_s: float, hold_s: float) -> None:
        self.prompt_s, self.ring_s, self.hold_s = prompt_s, ring_s, hold_s
        self.due: list[tuple[float, int, MediaEvent]] = []
        self.seq = itertools.count()
        self.citizen_of: dict[str, str] = {}  # an agent leg → the citizen leg it was bridged with
        self.up: set[str] = set()

    def at(self, delay: float, event: MediaEvent) -> None:
        heapq.heappush(self.due, (time.monotonic() + delay, next(self.seq), event))

    # ---- the port (what the controller asks)
    def answer(self, leg: str) -> None:
        self.up.add(leg)
        self.at(0, MediaEvent(Ev.ANSWERED, leg=leg, node=self.name))

    def play(self, leg: str, prompt: str, *, loop: bool = False, rec: str = "") -> None:
        self.at(self.prompt_s, MediaEvent(Ev.PLAY_DONE, leg=leg, node=self.name, data={"prompt": prompt}))

    def call_out(self, leg: str, uri: str, *, caller_id: str = "", near: str = "") -> None:
        self.up.add(leg)
        self.citizen_of[leg] = near
        self.at(self.ring_s, MediaEvent(Ev.ANSWERED, leg=leg, node=self.name))

    def bridge(self, leg_a: str, leg_b: str) -> None:  # the citizen talks, then hangs up
        self.at(self.hold_s, MediaEvent(Ev.HUNGUP, leg=leg_a, node=self.name, data={"code": 200}))

    def record(self, rec: str, path: str, legs: list[str]) -> None:
        pass

    def stop_record(self, rec: str) -> None:
        self.at(0.05, MediaEvent(Ev.RECORD_DONE, node=self.name, data={"rec": rec, "bytes": 64044}))

    def hangup(self, leg: str, *, code: int = 0) -> None:
        if leg in self.up:
            self.up.discard(leg)
            self.at(0, MediaEvent(Ev.HUNGUP, leg=leg, node=self.name, data={"code": 200}))

    def __getattr__(self, op: str) -> Any:  # park, stop_play, collect_digits …: nothing to simulate
        return lambda *args, **kwargs: None

    def next_event(self, timeout: float) -> MediaEvent | None:
        end = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            if self.due and self.due[0][0] <= now:
                return heapq.heappop(self.due)[2]
            if now >= end:
                return None
            time.sleep(min(end, self.due[0][0] if self.due else end) - now)

    def close(self) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=20.0)
    parser.add_argument("--agents", type=int, default=150)
    parser.add_argument("--prompt-ms", type=int, default=1000, help="the welcome prompt")
    parser.add_argument("--ring-ms", type=int, default=300)
    parser.add_argument("--hold", type=float, default=4.0)
    parser.add_argument("--wrap", type=int, default=1, help="after-call work seconds")
    parser.add_argument(
        "--statements", action="store_true", help="print every kind of statement with its count per call"
    )
    args = parser.parse_args()
    require_postgresql()
    from hotline.common.runtime import settle_after_startup
    from hotline.telephony.controller import CallController

    settings.VAR_DIR = "/tmp/tel-controller-bench"  # recordings' directories (no file is written here)
    prepare_agents(args.agents)
    world = World(prompt_s=args.prompt_ms / 1000, ring_s=args.ring_ms / 1000, hold_s=args.hold)
    ctrl = CallController(world, registrar="127.0.0.1:5060", ring_timeout=20, wrap_up_seconds=args.wrap)
    settle_after_startup()
    first_pk = (Call.objects.order_by("-pk").values_list("pk", flat=True).first() or 0) + 1
    pg_pid = backend_pid()
    pg0, self0 = _postgres_cpu([pg_pid]), resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.monotonic()
    offered = 0
    trips = [0]
    kinds: collections.Counter[str] = collections.Counter()

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        trips[0] += 1
        if args.statements:
            kinds[re.sub(r"\s+", " ", re.sub(r"\"s\d+_x\d+\"", "SP", sql))[:110]] += 1
        return execute(sql, params, many, context)

    with connection.execute_wrapper(count):
        while True:
            now = time.monotonic()
            while offered < args.calls and now - t0 >= offered / args.rate:  # open loop: arrivals on schedule
                world.at(0, MediaEvent(Ev.INCOMING, leg=f"in-{first_pk}-{offered}", node=world.name,
                                       data={"caller": f"1390{offered:07d}", "dialed": "12345"}))  # fmt: skip
                offered += 1
            ctrl.run_once(0.005)
            if offered == args.calls and not ctrl.by_leg and not ctrl.recordings:
                break
            if now - t0 > args.calls / args.rate + 120:
                print("gave up: calls still in progress")
                break
    elapsed = time.monotonic() - t0
    pg1, self1 = _postgres_cpu([pg_pid]), resource.getrusage(resource.RUSAGE_SELF)
    ctrl.close()
    calls = Call.objects.filter(pk__gte=first_pk)
    started = sorted(calls.values_list("started_at", flat=True))
    achieved = (len(started) - 1) / (started[-1] - started[0]).total_seconds() if len(started) > 1 else 0.0
    answered = calls.filter(disposition="answered")
    ttp = list(answered.values_list("time_to_person_ms", flat=True))
    open_legs = CallLeg.objects.filter(call__in=calls, ended_at__isnull=True).count()
    recorded = Recording.objects.filter(call__in=answered, ended_at__isnull=False).count()
    cpu = self1.ru_utime - self0.ru_utime + self1.ru_stime - self0.ru_stime
    n = max(1, len(started))
    load = os.getloadavg()
    print(f"offered {args.calls} calls at {args.rate:g}/s; {args.agents} agents; prompt {args.prompt_ms} ms, ring "
          f"{args.ring_ms} ms, talk {args.hold:g} s, wrap-up {args.wrap} s; run {elapsed:.1f} s")  # fmt: skip
    print(f"calls {len(started)}, answered {answered.count()}, recorded {recorded}, CDR legs left open {open_legs}, "
          f"queue-log rows {QueueLog.objects.filter(call__in=calls).count()}")  # fmt: skip
    print(
        f"arrivals taken in per second: {achieved:.1f} (target ≥ 20: {'met' if achieved >= 20 else 'not met'})"
    )
    if ttp:
        print(f"time to a person ms (prompt {args.prompt_ms} + ring {args.ring_ms} included): p50 "
              f"{_pct(ttp, 50):.0f}  p99 {_pct(ttp, 99):.0f}  max {max(ttp)}")  # fmt: skip
    print(
        f"database statements per call: {trips[0] / n:.1f} (BEGIN/COMMIT, which psycopg sends as well, not counted)"
    )
    for sql, k in kinds.most_common():
        print(f"  {k / n:5.2f}  {sql}")
    print(f"CPU per call: controller {1000 * cpu / n:.1f} ms, its PostgreSQL backend {1000 * (pg1 - pg0) / n:.1f} ms "
          f"(totals {cpu:.1f} s / {pg1 - pg0:.1f} s)")  # fmt: skip
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
