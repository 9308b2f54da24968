"""Server time of one refresh of the big screen (MON-3) and the live case board, target < 300 ms.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/boards_bench python -m bench.screen_bench [--iterations 30]
    python -m bench.screen_bench                     # the embedded SQLite default (e.g. the demo city)

One refresh is what a stream computes when a notice arrives: `bigscreen.snapshot()` for the whole centre (and
for the busiest district; its 30-day satisfaction and 14-day trend are recomputed once a minute, shown
separately), `boards.case_board()` and `boards.call_board()`, serialised to JSON. Prints p50, p99,
the CPU per refresh of this process and of its PostgreSQL backend (p50; the figures to compare on a loaded
machine; PostgreSQL's clock ticks are 10 ms) and the load average beside the target;
asserts nothing. Runs on SQLite too (unlike most benchmarks here) because the screen must work on the demo.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

from django.db import connection
from django.db.models import Count

import bench  # noqa: F401  (Django set-up)
from hotline.analytics import bigscreen, boards
from hotline.cases.models import Case
from hotline.orgs.models import Unit

TARGET_MS = 300


def backend_cpu_ms() -> float:
    """CPU time of this connection's PostgreSQL backend (same machine: /proc), 0 on SQLite (in-process)."""
    if connection.vendor != "postgresql":
        return 0.0
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def timed(fn, iterations: int) -> tuple[float, float, float, float]:  # type: ignore[no-untyped-def]
    fn()  # warm-up
    walls, cpus, dbs = [], [], []
    for _ in range(iterations):
        d0 = backend_cpu_ms()
        w0, c0 = time.perf_counter(), time.process_time()
        json.dumps(fn(), ensure_ascii=False, default=str)
        walls.append((time.perf_counter() - w0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
        dbs.append(backend_cpu_ms() - d0)
    walls.sort()
    p99 = walls[min(len(walls) - 1, int(len(walls) * 0.99))]
    return statistics.median(walls), p99, statistics.median(cpus), statistics.median(dbs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=30)
    args = parser.parse_args()
    cases = Case.objects.count()
    top = (
        Case.objects.filter(district__isnull=False)
        .values("district_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    busiest = Unit.objects.get(pk=top["district_id"]) if top else None
    print(f"database: {connection.vendor} {connection.settings_dict['NAME']}, {cases:,} cases")
    print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    figures = [
        ("big screen, whole centre", lambda: bigscreen.snapshot(None)),
        ("  same, 30-day/14-day figures recomputed", lambda: bigscreen.snapshot(None, fresh=True)),
        ("live case board, whole centre", lambda: boards.case_board(None)),
        ("call board (agents, queues)", lambda: boards.call_board()),
    ]
    if busiest is not None:
        figures.append((f"big screen, {busiest.name}", lambda: bigscreen.snapshot(busiest)))
        figures.append(
            ("  same, 30-day/14-day figures recomputed", lambda: bigscreen.snapshot(busiest, fresh=True))
        )
    print(f"{'refresh':40} {'p50 ms':>8} {'p99 ms':>8} {'app CPU':>8} {'DB CPU':>8}   target (wall p99)")
    for label, fn in figures:
        p50, p99, cpu, db = timed(fn, args.iterations)
        verdict = "met" if p99 < TARGET_MS else "MISSED"
        print(f"{label:40} {p50:8.1f} {p99:8.1f} {cpu:8.1f} {db:8.1f}   < {TARGET_MS} ms ({verdict})")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
