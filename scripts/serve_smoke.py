"""Load smoke test of the running production server: case creates from several clients, then office actions.

    python scripts/serve_smoke.py --base http://127.0.0.1:8790 [--creates 500 --clients 8 --actions 200]

Run by `scripts/serve-smoke.sh` (which starts the server on PostgreSQL) in CI after the tests. Each client logs
in as one of the demo agents with a token and submits cases through `POST /api/v1/cases/`; then dispatchers
dispatch `--actions` of them to the suggested unit, from the same number of clients. Every answer must be 2xx:
any 5xx (or 4xx, or a refused connection) fails the run. Bounded: creates stop after 70 % of `--deadline`
seconds and actions at the deadline; a run cut short by the bound passes only if it still made at least a fifth
of each (a slow, shared machine), and says so. Requests carry `X-Forwarded-Proto: https`, as behind nginx.
Only 127.0.0.1 is ever addressed.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import threading
import time
from collections import Counter
from typing import Any
from urllib.parse import urlparse

import requests

PASSWORD = os.environ.get("HOTLINE_DEMO_PASSWORD", "demo12345")
CONTENT = (
    "小区门口的道路积水已经持续一周，下雨天居民出行非常困难，老人和孩子多次摔倒，"
    "多次向物业反映无人处理，希望有关部门尽快疏通排水管道并修复路面。"
)


class Run:
    def __init__(self, base: str, deadline: float) -> None:
        self.base = base
        self.deadline = deadline
        self.cut_short = False
        self.statuses: Counter[str] = Counter()
        self.latency: list[float] = []
        self.failures: list[str] = []
        self.lock = threading.Lock()

    def session(self, username: str) -> requests.Session:
        s = requests.Session()
        s.headers["X-Forwarded-Proto"] = "https"
        r = s.post(
            f"{self.base}/api/v1/auth/token/", data={"username": username, "password": PASSWORD}, timeout=30
        )
        r.raise_for_status()
        s.headers["Authorization"] = f"Token {r.json()['token']}"
        return s

    def call(self, s: requests.Session, method: str, url: str, **kwargs: Any) -> dict[str, Any] | None:
        if time.monotonic() > self.deadline:
            self.cut_short = True
            return None
        begin = time.perf_counter()
        try:
            r = s.request(method, self.base + url, timeout=60, **kwargs)
        except requests.RequestException as exc:
            with self.lock:
                self.statuses["error"] += 1
                self.failures.append(f"{method} {url}: {exc}")
            return None
        with self.lock:
            self.latency.append(time.perf_counter() - begin)
            self.statuses[f"{r.status_code // 100}xx"] += 1
            if not 200 <= r.status_code < 300:
                self.failures.append(f"{method} {url}: HTTP {r.status_code} {r.text[:300]}")
        return r.json() if 200 <= r.status_code < 300 else None


def in_parallel(clients: int, work: Any) -> None:
    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--base", default="http://127.0.0.1:8790")
    parser.add_argument("--creates", type=int, default=500)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--actions", type=int, default=200)
    parser.add_argument("--deadline", type=float, default=110.0, help="seconds before the run stops")
    parser.add_argument("--wait", type=float, default=120.0, help="seconds to wait for the server to answer")
    args = parser.parse_args()
    if urlparse(args.base).hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("只对本机 127.0.0.1 做压力测试")

    waited = time.monotonic() + args.wait
    while True:
        try:
            if requests.get(f"{args.base}/login/", headers={"X-Forwarded-Proto": "https"}, timeout=5).ok:
                break
        except requests.RequestException:
            pass
        if time.monotonic() > waited:
            raise SystemExit(f"服务器 {args.wait:.0f} 秒内未就绪")
        time.sleep(0.5)

    began = time.monotonic()
    run = Run(args.base, began + args.deadline * 0.7)
    probe = run.session("dispatcher1")
    units = probe.get(f"{args.base}/api/v1/units/", params={"kind": "community"}, timeout=30).json()
    communities = [u["id"] for u in (units.get("results", []) if isinstance(units, dict) else units)]
    if not communities:
        raise SystemExit("演示城市没有社区单位：请先运行 manage.py seed_demo")
    created: list[dict[str, Any]] = []

    def create(n: int) -> None:
        s = run.session(f"agent{n % 4 + 1}")
        rng = random.Random(n)
        for i in range(n, args.creates, args.clients):
            case = run.call(
                s,
                "POST",
                "/api/v1/cases/",
                json={
                    "case_type": "complaint",
                    "urgency": "normal",
                    "content": f"{CONTENT}（第{i + 1}件）",
                    "citizen_name": "王女士",
                    "citizen_phone": f"138{rng.randrange(10**8):08d}",
                    "location": "幸福社区12栋",
                    "location_unit": rng.choice(communities),
                    "action": "submit",
                },
            )
            if case is not None:
                with run.lock:
                    created.append(case)

    started = time.perf_counter()
    in_parallel(args.clients, create)
    create_seconds = time.perf_counter() - started
    creates_done = len(created)

    run.deadline = began + args.deadline
    todo = [c for c in created if (c.get("suggested_main_unit") or {}).get("unit")][: args.actions]

    def dispatch(n: int) -> None:
        s = run.session(f"dispatcher{n % 2 + 1}")
        for case in todo[n :: args.clients]:
            run.call(
                s,
                "POST",
                f"/api/v1/cases/{case['id']}/dispatch/",
                json={
                    "version": case["version"],
                    "opinion": "请按职责办理",
                    "targets": [{"unit": case["suggested_main_unit"]["unit"], "role": "main"}],
                },
            )

    started = time.perf_counter()
    in_parallel(args.clients, dispatch)
    action_seconds = time.perf_counter() - started

    actions_done = run.statuses.get("2xx", 0) - creates_done
    lat = sorted(run.latency)
    p50 = statistics.median(lat) * 1000 if lat else 0.0
    p99 = lat[int(len(lat) * 0.99) - 1] * 1000 if lat else 0.0
    print(
        f"creates {creates_done}/{args.creates} in {create_seconds:.1f} s ({creates_done / create_seconds:.1f}/s), "
        f"dispatches {actions_done}/{len(todo)} in {action_seconds:.1f} s, {args.clients} clients; "
        f"answers {dict(run.statuses)}; latency p50 {p50:.0f} ms, p99 {p99:.0f} ms"
    )
    for failure in run.failures[:10]:
        print("  FAILED", failure)
    if run.cut_short:
        print(f"  time bound reached: {creates_done} creates and {actions_done} actions made before it")
    enough = (
        creates_done >= args.creates // 5 and actions_done >= min(args.actions, creates_done) // 5
        if run.cut_short
        else creates_done == args.creates and actions_done == min(args.actions, args.creates)
    )
    ok = not run.failures and enough and run.statuses.get("5xx", 0) == 0
    answered = run.statuses.get("2xx", 0)
    failed = sum(n for status, n in run.statuses.items() if status != "2xx") + (0 if ok else 1)
    print(f"target: zero 5xx, every request answered with 2xx — {'OK' if ok else 'MISSED'}")
    print(f"smoke: {answered} passed, {failed} failed")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
