"""Online chat: N concurrent sessions (default 500), each with the citizen's SSE stream open; agents' lines are
POSTed at a steady rate and timed until they arrive on the citizen's stream. Target: delivery p99 < 200 ms.

Servers started here as in production: gunicorn (config/gunicorn.conf.py, gthread) takes the POSTs, and the push
endpoints are served either by uvicorn (`--push asgi`, scripts/serve-push.sh's command) or by the same gunicorn
(`--push gthread`: each stream holds a gunicorn thread; the bench reports how many of the N streams it opened).
Publishers and streams meet in Redis (HOTLINE_PUSH_REDIS, required: the processes differ).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench HOTLINE_PUSH_REDIS=redis://127.0.0.1:6379/7 \\
        nice -n 10 python -m bench.chat_bench [--sessions 500] [--rate 50] [--seconds 30] [--push asgi|gthread]
        [--side agent|citizen] [--uvicorn-fast]

Prints delivery latency (POST sent → line received on the stream) and push latency (line committed → received),
p50/p95/p99, with the load average and the CPU seconds of the servers and of this client, and the peak of
PostgreSQL connections on the bench's database (sampled every 10 ms while the streams open and the lines go).
`--side citizen` posts the citizens' lines (each to its own session, by its token) instead of the agent's;
`--uvicorn-fast` runs uvicorn with `--loop uvloop --http httptools` (uvicorn[standard]). The stream opens' database
work is bounded by HOTLINE_PUSH_DB_SLOTS (passed on to uvicorn, default 8).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import secrets
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import Client

from bench import require_postgresql
from bench.sse import SseStream
from hotline.intake import chat
from hotline.intake.defaults import seed_channel_templates
from hotline.notify.models import MessageTemplate
from hotline.orgs.models import Role, Unit, User
from hotline.orgs.services import user_create

ROOT = Path(__file__).resolve().parent.parent
TARGET_P99_MS = 200.0


def _free_port() -> int:
    from tests.ports import free_port  # HOTLINE_TEST_PORTS keeps the servers in a given range

    return free_port()


def _wait_port(port: int, seconds: float = 300.0) -> None:
    """Until the server answers a page (gunicorn binds before its workers have warmed up)."""
    import urllib.request

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/portal/chat/", timeout=60) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"server on {port} did not start")


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its children that are still alive (the workers)."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
        pids += [int(p) for p in out]
    except OSError:
        pass
    for p in pids:
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
        except (OSError, IndexError, ValueError):
            pass
    return total


def _backends_cpu() -> dict[int, float]:
    """CPU seconds so far of every PostgreSQL backend on this database but the bench's own (same machine: /proc):
    the servers' connections (gunicorn keeps its threads' connections between requests)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND application_name <> %s",
            [SAMPLER_NAME],
        )
        return {pid: _cpu_seconds_of(pid) for (pid,) in cursor.fetchall()}


SAMPLER_NAME = "chat-bench-sampler"


class ConnectionSampler(threading.Thread):
    """Counts PostgreSQL connections every 10 ms on its own connection (not counted): those to the bench's database
    (the servers', the bench's own) and the server's whole count (every engineer's); keeps the peaks."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.stop = threading.Event()
        self.peak_db = 0
        self.peak_all = 0
        self.peak_opening = 0  # on the bench's database, until the streams are open (`mark`)
        self.opening = True
        self.max_connections = 0

    def run(self) -> None:
        import psycopg

        d = connection.settings_dict
        with psycopg.connect(
            dbname=d["NAME"], user=d["USER"], password=d["PASSWORD"] or None, host=d["HOST"] or None,
            port=d["PORT"] or None, autocommit=True, application_name=SAMPLER_NAME,
        ) as conn:  # fmt: skip
            self.max_connections = int(conn.execute("SHOW max_connections").fetchone()[0])  # type: ignore[index]
            sql = (
                "SELECT count(*) FILTER (WHERE datname = current_database()), "
                "count(*) FILTER (WHERE backend_type = 'client backend') "
                "FROM pg_stat_activity WHERE pid <> pg_backend_pid()"
            )
            while not self.stop.is_set():
                on_db, everyone = conn.execute(sql).fetchone()  # type: ignore[misc]
                self.peak_db = max(self.peak_db, on_db)
                if self.opening:
                    self.peak_opening = max(self.peak_opening, on_db)
                self.peak_all = max(self.peak_all, everyone)
                self.stop.wait(0.01)


def _cpu_seconds_of(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _agent() -> User:
    user = User.objects.filter(username="chat-bench-agent").first()
    if user is None:
        user = user_create(
            username="chat-bench-agent", password=secrets.token_urlsafe(12), full_name="bench",
            unit=Unit.objects.order_by("pk").first(), roles=[Role.AGENT],
        )  # fmt: skip
    return user


class Stream(SseStream):
    """One citizen's SSE stream; every chat line received is timed."""

    def __init__(self, port: int, path: str) -> None:
        super().__init__(port, path)
        self.received: dict[str, tuple[float, str]] = {}

    def on_data(self, data: dict[str, Any], received_at: float) -> None:
        if data.get("type") == "line":
            self.received[data["text"]] = (received_at, data["at"])


async def _post(port: int, path: str, body: str, cookie: str, csrf: str, pool: asyncio.Queue[Any]) -> int:
    conn = await pool.get()
    try:
        if conn is None:
            conn = await asyncio.open_connection("127.0.0.1", port)
        reader, writer = conn
        payload = body.encode()
        writer.write(
            (
                f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: sessionid={cookie}; csrftoken={csrf}\r\n"
                f"X-CSRFToken: {csrf}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n"
            ).encode()
            + payload
        )
        await writer.drain()
        status = int((await reader.readline()).split()[1])
        length = 0
        while (header := await reader.readline()) not in (b"\r\n", b""):
            if header.lower().startswith(b"content-length:"):
                length = int(header.split(b":")[1])
        await reader.readexactly(length)
        return status
    except (ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
        conn = None
        return 0
    except asyncio.CancelledError:
        conn = None  # half-read: never reused
        raise
    finally:
        await pool.put(conn)


async def _timed(post: Any) -> int:
    """A POST that gets no answer in 15 s counts as failed (under gthread the streams can hold every thread)."""
    try:
        return int(await asyncio.wait_for(post, 15.0))
    except TimeoutError:
        return 0


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q / 100 * (len(ordered) - 1))))]


async def _drive(args: argparse.Namespace, web_port: int, push_port: int, tokens: list[str], pks: list[int],
                 cookie: str, csrf: str, mark: Any) -> dict[str, Any]:  # fmt: skip
    streams = [Stream(push_port, f"/portal/chat/{t}/events/") for t in tokens]
    tasks = [asyncio.create_task(s.run()) for s in streams]
    deadline = time.monotonic() + args.open_seconds
    while time.monotonic() < deadline and not all(s.opened.is_set() for s in streams):
        await asyncio.sleep(0.2)
    opened = [i for i, s in enumerate(streams) if s.opened.is_set()]
    opening = time.monotonic() - (deadline - args.open_seconds)
    refused = Counter(s.status or "no answer" for s in streams if not s.opened.is_set())
    print(f"streams open: {len(opened)} / {len(streams)} in {opening:.1f} s (waited up to {args.open_seconds:.0f} s)"
          + (f"; not open: {dict(refused)}" if refused else ""), flush=True)  # fmt: skip
    await asyncio.sleep(1.0)  # the last stream's request finished
    await asyncio.to_thread(mark)  # the CPU figures count the lines from here, not the streams' opening
    pool: asyncio.Queue[Any] = asyncio.Queue()
    for _ in range(args.connections):
        pool.put_nowait(None)
    sent: dict[str, tuple[int, float]] = {}
    statuses: list[int] = []
    total = int(args.rate * args.seconds)
    interval = 1.0 / args.rate
    start = time.monotonic()
    pending = []
    for n in range(total):
        target = start + n * interval
        delay = target - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        i = opened[n % len(opened)] if opened else n % len(streams)
        text = f"bench line {n} session {i}"
        sent[text] = (i, time.time())
        path = f"/portal/chat/{tokens[i]}/send/" if args.side == "citizen" else f"/intake/chat/{pks[i]}/send/"
        pending.append(asyncio.create_task(_timed(_post(
            web_port, path, f"text={text.replace(' ', '+')}", cookie, csrf, pool
        ))))  # fmt: skip
    statuses = list(await asyncio.gather(*pending))
    await asyncio.sleep(2.0)  # the last lines in flight
    delivery, push = [], []
    lost = 0
    for text, (i, t0) in sent.items():
        got = streams[i].received.get(text)
        if got is None:
            lost += 1
            continue
        t1, at = got
        delivery.append((t1 - t0) * 1000)
        push.append((t1 - datetime.fromisoformat(at).timestamp()) * 1000)
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return {
        "opened": len(opened),
        "sent": total,
        "ok": sum(1 for s in statuses if s == 201),
        "lost": lost,
        "delivery": delivery,
        "push": push,
        "elapsed": time.monotonic() - start,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sessions", type=int, default=500)
    parser.add_argument(
        "--rate", type=float, default=50.0, help="agent lines per second, all sessions together"
    )
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--push", choices=["asgi", "gthread"], default="asgi")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections for the POSTs")
    parser.add_argument("--open-seconds", type=float, default=60.0)
    parser.add_argument(
        "--side", choices=["agent", "citizen"], default="agent", help="whose lines are posted"
    )
    parser.add_argument("--uvicorn-fast", action="store_true", help="uvicorn --loop uvloop --http httptools")
    args = parser.parse_args()
    require_postgresql()
    if not settings.HOTLINE_PUSH_REDIS:
        raise SystemExit(
            "set HOTLINE_PUSH_REDIS (e.g. redis://127.0.0.1:6379/7): the servers are other processes"
        )
    call_command("migrate", verbosity=0)
    seed_channel_templates(MessageTemplate)
    agent = _agent()
    tokens, pks = [], []
    for _ in range(args.sessions):
        session, token = chat.chat_open(channel="web", account="portal")
        chat.chat_accept(session=session, agent=agent)
        tokens.append(token)
        pks.append(session.pk)
    client = Client()
    client.force_login(agent)
    cookie = client.cookies["sessionid"].value
    csrf = secrets.token_hex(16)  # 32 characters: an unmasked CSRF secret, same in the cookie and the header

    env = {**os.environ, "HOTLINE_WEB_LOG_LEVEL": "warning", "DJANGO_DEBUG": "0"}
    if args.side == "citizen":
        # every line comes from 127.0.0.1: the per-address line throttle would stop them
        env["HOTLINE_CHAT_LINE_RATE"] = f"{int(args.rate * args.seconds) * 2}/hour"
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
    python = sys.executable
    bin_dir = Path(python).parent
    web_port = _free_port()
    procs = []
    web = subprocess.Popen(
        [str(bin_dir / "gunicorn"), "-c", "config/gunicorn.conf.py", "--bind", f"127.0.0.1:{web_port}",
         "--access-logfile", "/dev/null"],
        cwd=ROOT,
        env={**env, "HOTLINE_VAR_DIR": f"/tmp/chat-bench-{web_port}",
             "HOTLINE_WEB_WORKERS": os.environ.get("HOTLINE_WEB_WORKERS", "2"),
             "HOTLINE_WEB_THREADS": os.environ.get("HOTLINE_WEB_THREADS", "8")},
    )  # fmt: skip
    procs.append(web)
    push_port = web_port
    if args.push == "asgi":
        push_port = _free_port()
        fast = ["--loop", "uvloop", "--http", "httptools"] if args.uvicorn_fast else []
        push = subprocess.Popen(
            [str(bin_dir / "uvicorn"), "config.asgi:application", "--host", "127.0.0.1", "--port",
             str(push_port), "--no-access-log", "--log-level", "warning", *fast],
            cwd=ROOT, env={**env, "DATABASE_CONN_MAX_AGE": "0", "HOTLINE_WARM_UP": "0"},
        )  # fmt: skip
        procs.append(push)
    try:
        _wait_port(web_port)
        _wait_port(push_port)
        time.sleep(2.0)
        opening = {p.pid: _cpu_seconds(p.pid) for p in procs}
        cpu0: dict[int, float] = {}
        db0: dict[int, float] = {}
        self0 = [resource.getrusage(resource.RUSAGE_SELF)]

        sampler = ConnectionSampler()

        def mark() -> None:
            sampler.opening = False
            cpu0.update({p.pid: _cpu_seconds(p.pid) for p in procs})
            db0.update(_backends_cpu())
            connection.close()  # this thread's own
            self0[0] = resource.getrusage(resource.RUSAGE_SELF)

        sampler.start()
        try:
            result = asyncio.run(_drive(args, web_port, push_port, tokens, pks, cookie, csrf, mark))
        finally:
            sampler.stop.set()
            sampler.join(5)
        cpu1 = {p.pid: _cpu_seconds(p.pid) for p in procs}
        self1 = resource.getrusage(resource.RUSAGE_SELF)
        db1 = _backends_cpu()
    finally:
        for p in procs:
            p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
    load = os.getloadavg()
    d, pu = result["delivery"], result["push"]
    slots = os.environ.get("HOTLINE_PUSH_DB_SLOTS", str(settings.HOTLINE_PUSH_DB_SLOTS))
    print(f"push server: {args.push}{' (uvloop, httptools)' if args.uvicorn_fast else ''}; lines by the "
          f"{args.side}; sessions {args.sessions}; streams open {result['opened']}")  # fmt: skip
    print(f"PostgreSQL connections, peak: {sampler.peak_opening} on the bench's database while the streams opened "
          f"(stream-open slots {slots}), {sampler.peak_db} in the whole run; {sampler.peak_all} on the server "
          f"(every database; max_connections {sampler.max_connections})")  # fmt: skip
    print(f"lines sent {result['sent']} at {args.rate:.0f}/s over {result['elapsed']:.1f} s; "
          f"201 {result['ok']}; not delivered {result['lost']}")  # fmt: skip
    if d:
        print(f"delivery (POST → stream) ms: p50 {_pct(d, 50):.1f}  p95 {_pct(d, 95):.1f}  p99 {_pct(d, 99):.1f}"
              f"  max {max(d):.1f}  mean {statistics.mean(d):.1f}   target p99 < {TARGET_P99_MS:.0f} ms: "
              f"{'met' if _pct(d, 99) < TARGET_P99_MS and not result['lost'] else 'MISSED'}")  # fmt: skip
        print(
            f"push (commit → stream) ms:   p50 {_pct(pu, 50):.1f}  p95 {_pct(pu, 95):.1f}  p99 {_pct(pu, 99):.1f}"
        )
    names = ["gunicorn (POSTs" + (")" if args.push == "asgi" else " + streams)"), "uvicorn (streams)"]
    per = max(1, result["ok"])  # per line stored (201)
    for name, p in zip(names, procs, strict=False):
        used = cpu1[p.pid] - cpu0[p.pid]
        print(f"CPU s {name}: {used:.1f} ({used / per * 1000:.1f} ms per line)")
    db = sum(cpu - db0.get(pid, 0.0) for pid, cpu in db1.items())
    print(f"CPU s PostgreSQL backends (those open at the end): {db:.1f} ({db / per * 1000:.1f} ms per line)")
    print(
        f"CPU s bench client: {self1.ru_utime - self0[0].ru_utime + self1.ru_stime - self0[0].ru_stime:.1f}"
    )
    print(
        f"CPU s opening the {result['opened']} streams: "
        + ", ".join(
            f"{name.split()[0]} {cpu0[p.pid] - opening[p.pid]:.1f}"
            for name, p in zip(names, procs, strict=False)
        )
    )
    print(f"load average: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} ({os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
