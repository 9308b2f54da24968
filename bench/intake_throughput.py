"""Intake throughput: case creates per second through the production server, and CPU-ms per create.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench python -m bench.intake_throughput \
        [--seconds 20] [--clients 8] [--workers 2] [--threads 4]

Starts gunicorn as `scripts/serve-prod.sh` does (config/gunicorn.conf.py: gthread workers, production settings,
its access log) on 127.0.0.1 against the PostgreSQL database, logs an agent in with a token, and lets `--clients`
threads POST /api/v1/cases/ (public cases, the demo city's realistic requests; `X-Forwarded-Proto: https` as
behind nginx) for `--seconds` after a warm-up. Prints creates/s and CPU-ms per create, split into the server's
workers and the PostgreSQL backends serving them (read from /proc), beside the targets (issue 12: ≥ 150
creates/s, ≤ 10 CPU-ms per create, with 8 clients on 2 cores). Then runs the case-events job (the receivers
moved off the request: dispatch suggestions, the duplicate index's keys and embedding mark) over the events the
run queued, in this process, and prints its CPU-ms per create too: that work is not in the request any more, but
it is not free. The machine's load average is printed: figures taken on a busy machine are lower than on an idle
one. Each run adds its cases to the database.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from typing import Any

import requests
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from bench import require_postgresql
from hotline.demo.content import CallerPool, Dictionaries, case_input, draw_request
from hotline.demo.org import load_org

TARGET_RATE = 150.0
TARGET_CPU_MS = 10.0
CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Sequence[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (FileNotFoundError, ProcessLookupError):
            continue
    return total / CLK_TCK


def children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def backend_pids(db_name: str) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [db_name]
        )
        return [row[0] for row in cursor.fetchall()]


def _own_backend() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return int(cursor.fetchone()[0])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def payloads(count: int, seed: int) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    org = load_org()
    dicts = Dictionaries()
    callers = CallerPool(rng, repeat_share=0.0)
    rows = []
    for _ in range(count):
        request = draw_request(rng, org)
        data = case_input(rng, dicts, request, callers.draw(request.community, request.location))
        rows.append({
            "case_type": data.case_type.code, "content": data.content, "channel": data.channel,
            "citizen_name": data.citizen_name, "citizen_phone": data.citizen_phone,
            "nature": data.nature.code if data.nature else None, "bureau": data.bureau.pk if data.bureau else None,
            "location": data.location, "location_unit": data.location_unit.pk if data.location_unit else None,
            "title": data.title, "is_public": True,
        })  # fmt: skip
    return rows


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=15.0)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--port", type=int, default=0, help="the server's port (default: any free one)")
    args = parser.parse_args(argv)

    db_name = require_postgresql()
    call_command("migrate", verbosity=0)
    from hotline.orgs.models import User

    if not User.objects.filter(username="agent1").exists():
        call_command("seed_demo", verbosity=0)
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=User.objects.get(username="agent1"))
    bodies = payloads(4000, args.seed)
    url_path = reverse("api-cases")

    from hotline.cases.events import run_queued

    run_queued(limit=10**6)  # what earlier runs left queued is not this run's work
    port = args.port or free_port()
    var = tempfile.mkdtemp(prefix="intake-bench-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.prod",
        "DJANGO_SECRET_KEY": os.environ.get("DJANGO_SECRET_KEY", "bench-only-not-a-secret-0123456789abcdef"),
        # Production refuses a short or default data key; the bench's cases carry no ID-card number.
        "HOTLINE_DATA_KEY": os.environ.get("HOTLINE_DATA_KEY", "bench-only-data-key-not-a-secret-0123456789"),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "HOTLINE_BIND": f"127.0.0.1:{port}",
        "HOTLINE_VAR_DIR": var,
        "HOTLINE_WEB_WORKERS": str(args.workers),
        "HOTLINE_WEB_THREADS": str(args.threads),
        "HOTLINE_WEB_TIMEOUT": "300",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py"],
        env=env,
        stdout=subprocess.DEVNULL,  # the access log: written as in production, not shown
    )
    url = f"http://127.0.0.1:{port}{url_path}"
    try:
        # Ready when it answers. As behind nginx (`X-Forwarded-Proto: https`) and without following redirects:
        # production settings redirect plain http to https, and following that sent a TLS handshake to this
        # plain-http port on every try (gunicorn logged each as an invalid request, "bare LF as line
        # terminator", and the probe never succeeded, so the bench waited out all its tries).
        for _ in range(300):
            try:
                requests.get(
                    f"http://127.0.0.1:{port}/login/",
                    headers={"X-Forwarded-Proto": "https"},
                    allow_redirects=False,
                    timeout=30,
                )
                break
            except requests.RequestException:
                if server.poll() is not None:
                    raise SystemExit("the server did not start (see its errors above)") from None
                time.sleep(0.2)
        else:
            raise SystemExit("the server did not answer within 300 tries")
        counter = iter(range(10**9))
        lock = threading.Lock()
        created = [0]
        errors: list[str] = []
        measuring = threading.Event()
        stop = threading.Event()

        def client() -> None:
            session = requests.Session()
            session.headers["Authorization"] = f"Token {token.key}"
            session.headers["X-Forwarded-Proto"] = "https"
            while not stop.is_set():
                with lock:
                    body = bodies[next(counter) % len(bodies)]
                response = session.post(url, json=body, timeout=120)
                if response.status_code != 201:
                    errors.append(f"{response.status_code} {response.text[:200]}")
                elif measuring.is_set():
                    with lock:
                        created[0] += 1

        threads = [threading.Thread(target=client, daemon=True) for _ in range(args.clients)]
        for thread in threads:
            thread.start()
        time.sleep(args.warmup)
        workers = children(server.pid)
        backends = backend_pids(db_name)
        app_cpu0, db_cpu0 = cpu_seconds(workers), cpu_seconds(backends)
        start = time.perf_counter()
        measuring.set()
        time.sleep(args.seconds)
        measuring.clear()
        elapsed = time.perf_counter() - start
        app_cpu, db_cpu = cpu_seconds(workers) - app_cpu0, cpu_seconds(backends) - db_cpu0
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
        shutil.rmtree(var, ignore_errors=True)

    # The case-events job over everything this run queued (warm-up included), per create of the run.
    total_created = next(counter)  # requests sent (all but the failed ones created a case)
    # The job runs in a warmed process in production (a server worker or the embedded worker): jieba's dictionary
    # (the duplicate index's words) is loaded once per process, not per create, so not in this measurement.
    from hotline.common.registry import warm_ups

    for name, work in warm_ups():
        if name == "jieba":
            work()
    job_cpu0 = time.process_time()
    job_db0 = cpu_seconds([_own_backend()])
    job_events = run_queued(limit=10**6)
    job_cpu = time.process_time() - job_cpu0
    job_db = cpu_seconds([_own_backend()]) - job_db0

    n = created[0]
    rate = n / elapsed
    per_app = 1000 * app_cpu / max(n, 1)
    per_db = 1000 * db_cpu / max(n, 1)
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")
    print(
        f"gunicorn (config/gunicorn.conf.py, production settings) {args.workers} gthread workers × "
        f"{args.threads} threads, {args.clients} clients, {elapsed:.1f} s measured, {n} creates"
    )
    print(f"{'creates/s':<28}{rate:>10.1f}   target ≥ {TARGET_RATE:.0f}")
    print(f"{'CPU-ms per create (total)':<28}{per_app + per_db:>10.1f}   target ≤ {TARGET_CPU_MS:.0f}")
    print(f"{'  app (gunicorn workers)':<28}{per_app:>10.1f}")
    print(f"{'  database (its backends)':<28}{per_db:>10.1f}")
    per_job = 1000 * job_cpu / max(total_created - len(errors), 1)
    per_job_db = 1000 * job_db / max(total_created - len(errors), 1)
    print(
        f"{'case-events job, per create':<28}{per_job:>10.1f}   (+ {per_job_db:.1f} database; "
        f"{job_events} events, off the request)"
    )
    if errors:
        print(f"{len(errors)} failed requests, first: {errors[0]}")


if __name__ == "__main__":
    main()
