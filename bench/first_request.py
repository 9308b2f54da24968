"""A fresh worker's first requests, without and with the warm-up at worker start (issue 11, item 22).

    DATABASE_URL=... python -m bench.first_request      # a database with the demo city (manage.py seed_demo)

For each mode it starts the production server (`config/gunicorn.conf.py`, one worker, one thread) on 127.0.0.1,
waits until the worker logs "worker ready" (the application imported, warmed or not), then times, in order,
the first calls an agent makes: token login, the knowledge suggestion for a request's text, a knowledge
search, the duplicate screening, the case search. Printed beside the target (first request < 1 s).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
PORT = int(os.environ.get("HOTLINE_BENCH_PORT", "8791"))
BASE = f"http://127.0.0.1:{PORT}"
TEXT = "我家小区门口的道路积水严重，下雨天根本无法出行，物业不管，希望有关部门尽快处理排水问题"
PASSWORD = os.environ.get("HOTLINE_DEMO_PASSWORD", "demo12345")


def start(warm: bool) -> tuple[subprocess.Popen[str], float]:
    env = dict(os.environ)
    env.update(
        HOTLINE_WARM_UP="1" if warm else "0",
        HOTLINE_WEB_WORKERS="1",
        HOTLINE_WEB_THREADS="1",
        HOTLINE_BIND=f"127.0.0.1:{PORT}",
        DJANGO_SETTINGS_MODULE=env.get("DJANGO_SETTINGS_MODULE", "config.settings.dev"),
        DJANGO_DEBUG="0",
    )
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "config/gunicorn.conf.py"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    ready = threading.Event()

    def read() -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if "worker ready" in line:
                ready.set()
            if "warm-up (s)" in line:
                print("   ", line.strip()[-160:])

    threading.Thread(target=read, daemon=True).start()
    if not ready.wait(180):
        proc.terminate()
        raise SystemExit("服务器 180 秒内未就绪")
    return proc, time.perf_counter() - started


def first_calls() -> list[tuple[str, float, int]]:
    s = requests.Session()
    timings: list[tuple[str, float, int]] = []

    def call(name: str, method: str, url: str, **kwargs: object) -> requests.Response:
        begin = time.perf_counter()
        response = s.request(method, BASE + url, timeout=60, **kwargs)  # type: ignore[arg-type]
        timings.append((name, time.perf_counter() - begin, response.status_code))
        return response

    token = call(
        "token login", "POST", "/api/v1/auth/token/", data={"username": "agent1", "password": PASSWORD}
    )
    s.headers["Authorization"] = f"Token {token.json().get('token', '')}"
    call("knowledge suggestion", "POST", "/api/v1/kb/suggest/", json={"text": TEXT})
    call("knowledge search", "GET", "/api/v1/kb/search/", params={"q": "噪音 扰民"})
    call(
        "duplicate screening",
        "GET",
        "/api/v1/cases/duplicates/",
        params={"content": TEXT, "phone": "13800000000"},
    )
    call("case search", "GET", "/api/v1/cases/", params={"q": "积水"})
    return timings


def main() -> None:
    for warm in (False, True):
        label = "with warm-up" if warm else "without warm-up"
        proc, boot = start(warm)
        try:
            timings = first_calls()
        finally:
            proc.terminate()
            proc.wait(30)
        first = max(t for _, t, _ in timings)
        print(f"{label}: worker ready after {boot:.2f} s; slowest first call {first:.2f} s (target < 1 s)")
        for name, seconds, status in timings:
            print(f"    {name:<22} {seconds * 1000:8.0f} ms  HTTP {status}")


if __name__ == "__main__":
    main()
