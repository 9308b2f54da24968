"""Agent-state event to browser (issue 13): N agent screens (default 500) each hold the call bar's SSE stream
(`/telephony/events/`, the signed-in agent's own channel) on the uvicorn push server, as in production
(scripts/serve-push.sh's command); agent-state events (ready ⇄ not ready, through `services.agent_event`: the
state row, its log row, commit, Redis publish) are made at a steady rate and timed until the agent's own stream
shows them. Target: p99 < 100 ms.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench HOTLINE_PUSH_REDIS=redis://127.0.0.1:6379/7 \\
        nice -n 10 python -m bench.agent_push_bench [--screens 500] [--rate 50] [--seconds 30]

Prints event → screen latency p50/p95/p99/max, streams opened, events lost, the CPU seconds of uvicorn, of this
process (the events and the 500 readers) and of the PostgreSQL backend serving the events, and the load average. The bench's seats and their
staff accounts (`push-bench-NNN`, no usable password) are made once and kept for the next run.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore
from django.core.management import call_command
from django.db import connection

from bench import require_postgresql
from bench.chat_bench import _cpu_seconds, _free_port, _pct
from bench.sse import SseStream
from hotline.orgs.models import Unit, User
from hotline.telephony import services
from hotline.telephony.models import Agent, Queue
from hotline.telephony.states import AgentEvent, AgentState

ROOT = Path(__file__).resolve().parent.parent
TARGET_P99_MS = 100.0
PG_CPU: list[float] = []  # the events' PostgreSQL backend, CPU seconds during the run


def _seats(n: int) -> list[tuple[Agent, str]]:
    """N seats bound to staff accounts, each with a signed-in session (its cookie)."""
    queue, _created = Queue.objects.get_or_create(code="push-bench", defaults={"name": "push bench"})
    unit = Unit.objects.order_by("pk").first()
    out = []
    for i in range(n):
        username = f"push-bench-{i:03d}"
        user = User.objects.filter(username=username).first()
        if user is None:  # bench fixtures: no password to hash (500 PBKDF2 hashes would take minutes)
            user = User(username=username, full_name=f"坐席{i}", unit=unit)
            user.set_unusable_password()
            user.save()
        agent = Agent.objects.filter(agent_id=f"9{i:03d}").first()
        if agent is None:
            agent = Agent.objects.create(agent_id=f"9{i:03d}", extension=f"9{i:03d}", password="!", user=user)
            agent.skills.add(queue)
        elif agent.user_id != user.pk:  # a seat another bench made with this ID: bound to the bench's account
            Agent.objects.filter(pk=agent.pk).update(user=user)
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[-1]
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        if agent.state == AgentState.LOGGED_OUT:
            services.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
        out.append((Agent.objects.get(pk=agent.pk), str(session.session_key)))
    return out


class Screen(SseStream):
    """One agent's call bar stream; every agent-state message is timed."""

    def __init__(self, port: int, cookie: str) -> None:
        super().__init__(port, "/telephony/events/", cookie=f"{settings.SESSION_COOKIE_NAME}={cookie}")
        self.states: list[tuple[float, str]] = []

    def on_data(self, data: dict[str, Any], received_at: float) -> None:
        if data.get("type") == "agent_state":
            self.states.append((received_at, str(data.get("state"))))


def _events(seats: list[tuple[Agent, str]], order: list[int], rate: float, seconds: float) -> list[Any]:
    """Ready ⇄ not ready at `rate` per second, round robin over the screens that opened (a thread of its own)."""
    sent: list[Any] = []
    pid = backend_pid()
    pg0 = _postgres_cpu([pid])
    state = {i: seats[i][0].state for i in order}
    total = int(rate * seconds)
    start = time.monotonic()
    try:
        for n in range(total):
            delay = start + n / rate - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            i = order[n % len(order)]
            agent = seats[i][0]
            going_ready = state[i] != AgentState.READY
            t0 = time.time()
            services.agent_event(
                agent_pk=agent.pk,
                event=AgentEvent.READY if going_ready else AgentEvent.NOT_READY,
                reason="" if going_ready else "break",
            )
            state[i] = AgentState.READY if going_ready else AgentState.NOT_READY
            sent.append((i, t0, state[i], time.time()))  # the last: committed and published
        PG_CPU.append(_postgres_cpu([pid]) - pg0)
    finally:
        connection.close()
    return sent


async def _drive(args: argparse.Namespace, port: int, seats: list[tuple[Agent, str]]) -> dict[str, Any]:
    screens = [Screen(port, cookie) for _agent, cookie in seats]
    tasks = [asyncio.create_task(s.run()) for s in screens]
    deadline = time.monotonic() + args.open_seconds
    while time.monotonic() < deadline and not all(s.opened.is_set() for s in screens):
        await asyncio.sleep(0.2)
    opened = [i for i, s in enumerate(screens) if s.opened.is_set()]
    print(f"screens open: {len(opened)} / {len(screens)} (within {args.open_seconds:.0f} s)", flush=True)
    if 0 < len(opened) < len(screens):
        print("status lines of the others:", {s.status for s in screens if not s.opened.is_set()})
    if not opened:
        print("first status lines:", {s.status for s in screens})
        return {"opened": 0, "sent": 0, "lost": 0, "latency": [], "delivery": [], "elapsed": 0.0}
    await asyncio.sleep(1.0)
    for s in screens:
        s.states.clear()
    start = time.monotonic()
    result: list[Any] = []
    thread = threading.Thread(
        target=lambda: result.extend(_events(seats, opened, args.rate, args.seconds)), daemon=True
    )
    thread.start()
    while thread.is_alive():
        await asyncio.sleep(0.1)
    elapsed = time.monotonic() - start
    await asyncio.sleep(2.0)  # the last events in flight
    seen = {i: list(s.states) for i, s in enumerate(screens)}
    cursor = dict.fromkeys(seen, 0)
    latency, delivery, lost = [], [], 0
    for i, t0, state, published in result:  # the k-th event of an agent is the k-th state its screen shows
        k = cursor[i]
        if k < len(seen[i]) and seen[i][k][1] == state:
            latency.append((seen[i][k][0] - t0) * 1000)
            delivery.append((seen[i][k][0] - published) * 1000)
            cursor[i] = k + 1
        else:
            lost += 1
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "opened": len(opened),
        "sent": len(result),
        "lost": lost,
        "latency": latency,
        "delivery": delivery,
        "elapsed": elapsed,
    }


def backend_pid() -> int:
    """The PostgreSQL server process of this thread's connection (its CPU is the database work done for us)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def _postgres_cpu(pids: list[int]) -> float:
    """CPU seconds of the given PostgreSQL server processes (not the whole shared server)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--screens", type=int, default=500)
    parser.add_argument("--rate", type=float, default=50.0, help="agent-state events per second, all agents")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--open-seconds", type=float, default=60.0)
    parser.add_argument("--port", type=int, default=0, help="uvicorn's port (default: any free one)")
    args = parser.parse_args()
    require_postgresql()
    if not settings.HOTLINE_PUSH_REDIS:
        raise SystemExit("set HOTLINE_PUSH_REDIS (e.g. redis://127.0.0.1:6379/7): uvicorn is another process")
    call_command("migrate", verbosity=0)
    seats = _seats(args.screens)
    env = {**os.environ, "HOTLINE_WEB_LOG_LEVEL": "warning", "DJANGO_DEBUG": "0"}
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    bin_dir = Path(sys.executable).parent
    port = args.port or _free_port()
    push = subprocess.Popen(
        [str(bin_dir / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1", "--port", str(port),
         "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env={**env, "DATABASE_CONN_MAX_AGE": "0", "HOTLINE_WARM_UP": "0"},
    )  # fmt: skip
    try:
        import urllib.error
        import urllib.request

        end = time.monotonic() + 120
        while time.monotonic() < end:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=30)
                break
            except urllib.error.HTTPError:
                break
            except OSError:
                time.sleep(0.5)
        cpu0 = _cpu_seconds(push.pid)
        self0 = resource.getrusage(resource.RUSAGE_SELF)
        result = asyncio.run(_drive(args, port, seats))
        cpu1 = _cpu_seconds(push.pid)
        self1 = resource.getrusage(resource.RUSAGE_SELF)
    finally:
        push.send_signal(signal.SIGTERM)
        try:
            push.wait(timeout=30)
        except subprocess.TimeoutExpired:
            push.kill()
    load = os.getloadavg()
    lat = result["latency"]
    print(f"agent screens {args.screens}; open {result['opened']}; events {result['sent']} at {args.rate:.0f}/s "
          f"over {result['elapsed']:.1f} s; not seen on the screen: {result['lost']}")  # fmt: skip
    if lat:
        p99 = _pct(lat, 99)
        met = p99 < TARGET_P99_MS and not result["lost"] and result["opened"] == args.screens
        print(f"agent-state event → screen ms: p50 {_pct(lat, 50):.1f}  p95 {_pct(lat, 95):.1f}  p99 {p99:.1f}  "
              f"max {max(lat):.1f}   target p99 < {TARGET_P99_MS:.0f} ms with {args.screens} screens: "
              f"{'met' if met else 'MISSED'}")  # fmt: skip
    if result["delivery"]:
        d = result["delivery"]
        print(f"  of which published → screen (Redis, uvicorn, the reader): p50 {_pct(d, 50):.1f}  p99 "
              f"{_pct(d, 99):.1f} ms; the rest is the state change's transaction (row lock, log row, commit)")  # fmt: skip
    print(f"CPU s uvicorn (streams): {cpu1 - cpu0:.1f}; PostgreSQL (the events' backend): {sum(PG_CPU):.1f}; "
          f"bench (events + readers): {self1.ru_utime - self0.ru_utime + self1.ru_stime - self0.ru_stime:.1f}")  # fmt: skip
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
