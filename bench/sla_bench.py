"""Deadline sweep at scale, against a loaded PostgreSQL database (run bench.load_cases first).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench python -m bench.sla_bench [--clocks 1000000]

Fills `sla_clock` with N running reply clocks spread over the database's assignments (pure SQL, so a million rows
take seconds), a share of them due for a warning, a yellow card, a red card or a reminder, then measures:
  (a) one sweep over all of them (target < 10 s), and the alerts and messages it wrote;
  (b) two sweeps started together on a fresh set, checking that no alert and no message is written twice;
  (c) the cost of computing one deadline on the working-day calendar (target < 0.1 ms).
Figures are printed beside their targets, never asserted. The clocks and alerts it creates are removed first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo

from django.db import connection, connections

from bench import require_postgresql
from hotline.common import clock
from hotline.notify.models import Outbox
from hotline.sla import calendar
from hotline.sla.models import Alert
from hotline.sla.sweep import sweep

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 25, 10, tzinfo=SH)


def reset(clocks: int, due_share: float) -> None:
    """N running clocks over the existing assignments; `due_share` of them have a threshold behind NOW."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE sla_alert, sla_clock RESTART IDENTITY CASCADE")
        cursor.execute("DELETE FROM notify_deliverylog; DELETE FROM notify_outbox")
        cursor.execute("SELECT setseed(0.42)")  # the same clocks every time, so runs can be compared
        cursor.execute("SELECT count(*) FROM cases_assignment WHERE role <> 'cc'")
        (assignments,) = cursor.fetchone()
        if not assignments:
            raise SystemExit("数据库中没有交办记录：请先运行 python -m bench.load_cases")
        # Row n takes the (n mod assignments)-th assignment; due clocks get deadlines in the past, spread so that
        # reminders, warnings, yellow and red cards all occur; the rest are due in the next weeks.
        cursor.execute(
            """
            WITH a AS (
                SELECT id, case_id, row_number() OVER (ORDER BY id) - 1 AS k
                FROM cases_assignment WHERE role <> 'cc'
            ), s AS (
                SELECT n, (n %% %(assignments)s) AS k, (random() < %(share)s) AS due FROM generate_series(1, %(n)s) n
            )
            INSERT INTO sla_clock (case_id, assignment_id, stage, started_at, due_at, warn_at, red_at, remind_at,
                                   next_alert_at, stopped_at, max_due_at)
            SELECT a.case_id, a.id, 'reply', d.start, d.due, d.due - interval '1 day', d.due + interval '3 days',
                   d.start + interval '7 days',
                   LEAST(d.start + interval '7 days', d.due - interval '1 day'), NULL, d.due + interval '14 days'
            FROM s JOIN a USING (k)
            CROSS JOIN LATERAL (
                SELECT CASE WHEN s.due THEN %(now)s - (random() * interval '6 days')
                            ELSE %(now)s + interval '1 day' + (random() * interval '20 days') END AS due
            ) AS dd
            CROSS JOIN LATERAL (SELECT dd.due AS due, dd.due - interval '5 days' AS start) AS d
            """,
            {"assignments": assignments, "share": due_share, "n": clocks, "now": NOW},
        )
        cursor.execute("VACUUM ANALYZE sla_clock")


def timed_sweep(batch: int) -> tuple[float, dict[str, int]]:
    started = time.perf_counter()
    with clock.frozen_now(NOW):
        result = sweep(batch_size=batch)
    return time.perf_counter() - started, dict(result.alerts)


def overlapping_sweeps(batch: int) -> tuple[float, list[Exception]]:
    errors: list[Exception] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            with clock.frozen_now(NOW):
                sweep(batch_size=batch)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    started = time.perf_counter()
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started, errors


def duplicate_alerts() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) - count(DISTINCT (clock_id, kind)) FROM sla_alert")
        (dupes,) = cursor.fetchone()
    return int(dupes)


def deadline_cost(samples: int = 100_000) -> float:
    cal = calendar.current()
    start = dt.datetime(2026, 1, 5, 9, tzinfo=SH)
    begin = time.perf_counter()
    for n in range(samples):
        cal.shift_working_days(start + dt.timedelta(hours=n % 500), 5 + n % 10)
    return (time.perf_counter() - begin) / samples * 1000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--due-share", type=float, default=0.01)
    parser.add_argument("--batch", type=int, default=1000)
    args = parser.parse_args()
    name = require_postgresql()
    print(f"数据库 {name}：{args.clocks:,} 个计时中的答复时限，其中约 {args.due_share:.0%} 已到预警/督办时间")

    started = time.perf_counter()
    reset(args.clocks, args.due_share)
    print(f"  准备计时数据 {time.perf_counter() - started:.1f} s")
    seconds, alerts = timed_sweep(args.batch)
    single = (Alert.objects.count(), Outbox.objects.count())
    verdict = "OK" if seconds < 10 else "MISSED"
    print(
        f"(a) one sweep = {seconds:.2f} s (target < 10 s) {verdict}; alerts {alerts}, messages {single[1]:,}"
    )
    seconds, alerts_again = timed_sweep(args.batch)
    print(f"    the same sweep again = {seconds:.2f} s, new alerts {alerts_again or 0} (expected 0)")

    reset(args.clocks, args.due_share)
    seconds, errors = overlapping_sweeps(args.batch)
    both = (Alert.objects.count(), Outbox.objects.count())
    dupes = duplicate_alerts()
    verdict = "OK" if not errors and dupes == 0 and both == single else "MISSED"
    print(
        f"(b) two overlapping sweeps = {seconds:.2f} s; alerts/messages {both[0]:,}/{both[1]:,} vs one sweep "
        f"{single[0]:,}/{single[1]:,}, duplicate alerts {dupes}, errors {len(errors)} "
        f"(target: the same counts, 0 duplicates) {verdict}"
    )

    cost = deadline_cost()
    print(f"(c) computing a deadline = {cost:.4f} ms (target < 0.1 ms) {'OK' if cost < 0.1 else 'MISSED'}")


if __name__ == "__main__":
    main()
