"""Deadline sweep at scale, against a loaded PostgreSQL database (run bench.load_cases first).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench python -m bench.sla_bench [--clocks 1000000]

Fills `sla_clock` with N running reply clocks spread over the database's assignments (pure SQL, so a million rows
take seconds), a share of them (default 10 %) due for a reminder, a warning, a yellow card or a yellow and a red
card (each clock draws its own), then measures:
  (a) one sweep over them (target < 10 s for 100,000 due among 1,000,000), and what it wrote;
  (b) two sweeps started together on a fresh set: nothing written twice, the same counts as one sweep;
  (c) a sweep killed in its third batch, then another: the same counts as one sweep, nothing twice;
  (d) every clock due at once, e.g. after a long holiday (target < 120 s for 1,000,000);
  (e) the cost of computing one deadline on the working-day calendar (target < 0.1 ms).
Figures are printed beside their targets, never asserted. The clocks and alerts it creates are removed first.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import datetime as dt
import os
import pstats
import re
import threading
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from django.db import connection, connections

from bench import require_postgresql
from hotline.common import clock
from hotline.sla import calendar
from hotline.sla.sweep import sweep

SH = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 25, 10, tzinfo=SH)


def reset(clocks: int, due_share: float) -> None:
    """N running clocks over the existing assignments; `due_share` of them have a threshold behind NOW.

    Each due clock draws its own category and offset: a quarter owe a reminder (started over 7 days ago, the
    deadline days away), a quarter a warning (the deadline within a day), a quarter a yellow card (the deadline
    passed less than 3 days ago), a quarter a yellow and a red card (passed 3 to 6 days ago). The rest are due
    in the next weeks.
    """
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE sla_alert, sla_clock, sla_sweeprun RESTART IDENTITY CASCADE")
        cursor.execute(
            "TRUNCATE notify_deliverylog, notify_noticeread, notify_outbox, notify_audiencemember, notify_audience "
            "RESTART IDENTITY CASCADE"
        )
        cursor.execute(
            f"DELETE FROM cases_caseevent WHERE id > {sweep_events_after()} AND action LIKE 'sla_%%'"
        )
        cursor.execute("TRUNCATE cases_overduemark")
        # The audit log is append-only (a trigger refuses deletes); the bench removes its own rows past it.
        cursor.execute("SET session_replication_role = replica")
        cursor.execute(
            "DELETE FROM common_auditlog WHERE object_type = 'cases.case' AND changes ? 'is_overdue'"
        )
        cursor.execute("RESET session_replication_role")
        cursor.execute("SELECT setseed(0.42)")  # the same clocks every time, so runs can be compared
        cursor.execute("SELECT count(*) FROM cases_assignment WHERE role <> 'cc'")
        (assignments,) = cursor.fetchone()
        if not assignments:
            raise SystemExit("数据库中没有交办记录：请先运行 python -m bench.load_cases")
        cursor.execute(
            """
            WITH a AS (
                SELECT id, case_id, unit_id, row_number() OVER (ORDER BY id) - 1 AS k
                FROM cases_assignment WHERE role <> 'cc'
            ), s AS (
                SELECT n, (n %% %(assignments)s) AS k, random() < %(share)s AS due,
                       floor(random() * 4)::int AS category, random() AS r
                FROM generate_series(1, %(n)s) n
            ), d AS (
                SELECT s.k, due_at,
                       CASE WHEN s.due AND s.category = 0 THEN %(now)s - interval '7 days' - s.r * interval '1 day'
                            ELSE due_at - interval '5 days' END AS started_at
                FROM s CROSS JOIN LATERAL (SELECT CASE
                    WHEN NOT s.due THEN %(now)s + interval '1 day' + s.r * interval '20 days'
                    WHEN s.category = 0 THEN %(now)s + interval '2 days' + s.r * interval '3 days'
                    WHEN s.category = 1 THEN %(now)s + interval '1 minute' + s.r * interval '23 hours'
                    WHEN s.category = 2 THEN %(now)s - s.r * interval '71 hours'
                    ELSE %(now)s - interval '3 days' - s.r * interval '3 days' END AS due_at) AS x
            ), t AS (
                SELECT d.*, due_at - interval '1 day' AS warn_at, due_at + interval '3 days' AS red_at,
                       CASE WHEN started_at + interval '7 days' < due_at THEN started_at + interval '7 days' END
                           AS remind_at
                FROM d
            )
            INSERT INTO sla_clock (case_id, assignment_id, unit_id, stage, started_at, due_at, warn_at, red_at,
                                   remind_at, next_alert_at, stopped_at, max_due_at)
            SELECT a.case_id, a.id, a.unit_id, 'reply', t.started_at, t.due_at, t.warn_at, t.red_at, t.remind_at,
                   LEAST(t.remind_at, t.warn_at, t.due_at, t.red_at), NULL, t.due_at + interval '14 days'
            FROM t JOIN a USING (k)
            """,
            {"assignments": assignments, "share": due_share, "n": clocks, "now": NOW},
        )
        cursor.execute("VACUUM ANALYZE sla_clock")
        cursor.execute("ANALYZE sla_alert")
        cursor.execute("ANALYZE notify_outbox")
        cursor.execute("SELECT count(*) FROM sla_clock WHERE next_alert_at <= %s", [NOW])
        (due,) = cursor.fetchone()
    print(f"  {clocks:,} 个计时，其中 {due:,} 个已到预警/督办时间")


def sweep_events_after() -> int:
    """The id after which the sweeps' timeline events lie: they are appended after the loaded history, so the
    newest event not of a sweep is found by reading backwards over the sweeps' own (not all 10 M events)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM cases_caseevent WHERE action NOT LIKE 'sla_%%' ORDER BY id DESC LIMIT 1"
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def backend_cpu() -> float:
    """CPU seconds used so far by this connection's PostgreSQL backend (local server; 0 if unreadable)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    return _pid_cpu(pid)


def _pid_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class StatementProfile:
    """Wall time and PostgreSQL backend CPU per kind of statement (its verb and first table), for `--profile`."""

    def __init__(self) -> None:
        self.pid = 0
        self.rows: dict[str, list[float]] = {}

    @staticmethod
    def label(sql: str) -> str:
        words = sql.split()
        verb = words[0].upper() if words else "?"
        tables = re.findall(r'(?:INTO|UPDATE|FROM)\s+"?([a-z_]+)"?', sql, flags=re.IGNORECASE)
        return f"{verb} {tables[0] if tables else ''}".strip()

    def __call__(self, execute, sql, params, many, context):  # type: ignore[no-untyped-def]
        if not self.pid:
            self.pid = context["connection"].connection.info.backend_pid
        cpu, started = _pid_cpu(self.pid), time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            row = self.rows.setdefault(self.label(sql), [0, 0.0, 0.0])
            row[0] += 1
            row[1] += time.perf_counter() - started
            row[2] += _pid_cpu(self.pid) - cpu

    def print(self) -> None:
        print("    per statement: calls, wall s, PostgreSQL CPU s")
        for label, (calls, wall, cpu) in sorted(self.rows.items(), key=lambda kv: -kv[1][1]):
            print(f"      {label:<40} {int(calls):>6} {wall:8.2f} {cpu:8.2f}")


PROFILE: dict[str, int] = {"statements": 0, "python": 0, "workers": 1}


class DatabaseCpu:
    """CPU of every PostgreSQL backend connected to this database during a sweep (the worker threads' own
    connections too, which close before the sweep ends): their /proc figures sampled four times a second, the
    last reading of each kept. A backend's last quarter second may be missed."""

    def __init__(self) -> None:
        self.start: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.stop = threading.Event()
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_database()")
            (self.database,) = cursor.fetchone()
        self.conninfo = connection.get_connection_params()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def pids(self, cursor) -> list[int]:  # type: ignore[no-untyped-def]
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()", [self.database]
        )
        return [int(row[0]) for row in cursor.fetchall()]

    def run(self) -> None:
        import psycopg

        params = {
            k: v for k, v in self.conninfo.items() if k in {"dbname", "user", "host", "port", "password"}
        }
        for _ in range(100):  # the server may be out of connections for a moment (a shared machine)
            try:
                conn = psycopg.connect(**params, autocommit=True)
                break
            except psycopg.OperationalError:
                if self.stop.wait(0.1):
                    return
        else:
            return
        with conn, conn.cursor() as cursor:
            for pid in self.pids(cursor):
                self.start[pid] = self.last[pid] = _pid_cpu(pid)
            while not self.stop.is_set():
                for pid in self.pids(cursor):
                    cpu = _pid_cpu(pid)
                    if cpu:
                        self.last[pid] = cpu
                self.stop.wait(0.25)

    def __enter__(self) -> DatabaseCpu:
        self.thread.start()
        time.sleep(0.3)
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop.set()
        self.thread.join()

    @property
    def seconds(self) -> float:
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in self.last.items())


def timed_sweep(batch: int) -> tuple[float, dict[str, int]]:
    """Wall time of one sweep; also prints the CPU it cost (Python + PostgreSQL) and the machine's load."""
    profile = StatementProfile() if PROFILE["statements"] else None
    python_profile = cProfile.Profile() if PROFILE["python"] else None
    cpu = time.process_time()
    database = DatabaseCpu()
    with contextlib.ExitStack() as stack:
        stack.enter_context(database)
        started = time.perf_counter()
        if profile is not None:
            stack.enter_context(connection.execute_wrapper(profile))
        stack.enter_context(clock.frozen_now(NOW))
        if python_profile is not None:
            python_profile.enable()
        result = sweep(batch_size=batch, workers=PROFILE["workers"])
        if python_profile is not None:
            python_profile.disable()
        seconds = time.perf_counter() - started
    cpu = time.process_time() - cpu
    print(
        f"    CPU: Python {cpu:.1f} s + PostgreSQL {database.seconds:.1f} s (every connection of the sweep); "
        f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )
    if profile is not None:
        profile.print()
    if python_profile is not None:
        pstats.Stats(python_profile).sort_stats("cumulative").print_stats(25)
    return seconds, dict(result.alerts)


def overlapping_sweeps(batch: int) -> tuple[float, list[Exception]]:
    errors: list[Exception] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            with clock.frozen_now(NOW):
                sweep(batch_size=batch, workers=PROFILE["workers"])
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


def all_due() -> bool:
    """Every running clock is due (a database reset with --due-share 1.0)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT EXISTS (SELECT 1 FROM sla_clock WHERE stopped_at IS NULL AND next_alert_at > %s)",
            [NOW],
        )
        (every,) = cursor.fetchone()
    return bool(every)


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


def crashed_then_rerun(batch: int) -> tuple[float, int]:
    """A sweep killed in its third batch (after two committed), then a full sweep; returns time and batches."""
    from hotline.sla import sweep as sweep_module

    original = sweep_module._record
    calls = {"n": 0}

    def crash_in_third_batch(*args: object, **kwargs: object) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("worker killed")
        original(*args, **kwargs)  # type: ignore[arg-type]

    sweep_module._record = crash_in_third_batch  # type: ignore[assignment]
    try:
        with clock.frozen_now(NOW):
            sweep(batch_size=batch, workers=PROFILE["workers"])
    except RuntimeError:
        pass
    finally:
        sweep_module._record = original
    seconds, _ = timed_sweep(batch)
    return seconds, calls["n"]


def written() -> tuple[int, int, int, int]:
    """Alerts, outbox rows (one per alert and channel), timeline events, and the messages those rows mean per
    recipient (each row counted once per member of its audience on its channel)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM sla_alert), (SELECT count(*) FROM notify_outbox), "
            f"(SELECT count(*) FROM cases_caseevent WHERE id > {sweep_events_after()} AND action LIKE 'sla_%%'), "
            """(SELECT coalesce(sum(m.n), 0) FROM notify_outbox o JOIN (
                    SELECT audience_id, channel, count(*) AS n FROM notify_audiencemember GROUP BY 1, 2
                ) m USING (audience_id, channel))"""
        )
        row = cursor.fetchone()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


def announced_alerts() -> tuple[int, int]:
    """Alerts the sweeps announced (the sum over their runs) and runs whose notices are still owed."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT coalesce(sum(alerts), 0), count(*) FILTER (WHERE notified_at IS NULL) FROM sla_sweeprun"
        )
        row = cursor.fetchone()
    return int(row[0]), int(row[1])


def overdue_audit_rows() -> tuple[int, int]:
    """Audit rows of the overdue flag (one per batch) and the cases they list."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*), coalesce(sum(jsonb_array_length(changes->'cases')), 0) FROM common_auditlog "
            "WHERE object_type = 'cases.case' AND changes ? 'is_overdue' AND changes ? 'cases'"
        )
        row = cursor.fetchone()
    return int(row[0]), int(row[1])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clocks", type=int, default=1_000_000)
    parser.add_argument("--due-share", type=float, default=0.1, help="share due in (a), (b) and (c)")
    parser.add_argument("--batch", type=int, default=2000)
    parser.add_argument("--skip-all-due", action="store_true", help="leave out (d): every clock due")
    parser.add_argument("--workers", type=int, default=1, help="threads of each sweep (sweep(workers=…))")
    parser.add_argument("--only-a", action="store_true", help="only (a): one sweep over the due share")
    parser.add_argument(
        "--no-reset",
        action="store_true",
        help="(a) on the clocks already there (e.g. a copy of a database reset before: CREATE DATABASE … TEMPLATE)",
    )
    parser.add_argument(
        "--reset-only",
        action="store_true",
        help="only fill the clocks for (a) and stop (then copy the database as a template for --no-reset runs)",
    )
    parser.add_argument("--profile", action="store_true", help="wall time and PostgreSQL CPU per statement")
    parser.add_argument("--cprofile", action="store_true", help="profile the Python side of each sweep")
    args = parser.parse_args()
    PROFILE.update(statements=args.profile, python=args.cprofile, workers=args.workers)
    name = require_postgresql()
    print(
        f"数据库 {name}：{args.clocks:,} 个计时中的答复时限，其中约 {args.due_share:.0%} 已到预警/督办时间；"
        f"每次扫描 {args.workers} 个线程"
    )

    started = time.perf_counter()
    if not args.no_reset:
        reset(args.clocks, args.due_share)
    print(f"  准备计时数据 {time.perf_counter() - started:.1f} s")
    if args.reset_only:
        return
    # On a copy of a database reset with --due-share 1.0, (a) is (d): every clock due, its target < 120 s.
    label, target = ("(d) every clock due:", 120) if args.no_reset and all_due() else ("(a)", 10)
    seconds, alerts = timed_sweep(args.batch)
    single = written()
    verdict = "OK" if seconds < target else "MISSED"
    audit_rows, audit_cases = overdue_audit_rows()
    print(
        f"{label} one sweep = {seconds:.2f} s (target < {target} s) {verdict}; alerts {alerts}, "
        f"outbox rows {single[1]:,} (messages per recipient {single[3]:,}), timeline events {single[2]:,}, "
        f"overdue audit rows / cases listed {audit_rows:,} / {audit_cases:,}"
    )
    seconds, alerts_again = timed_sweep(args.batch)
    print(f"    the same sweep again = {seconds:.2f} s, new alerts {alerts_again or 0} (expected 0)")
    if args.only_a:
        return

    reset(args.clocks, args.due_share)
    seconds, errors = overlapping_sweeps(args.batch)
    both = written()
    dupes, (announced, pending) = duplicate_alerts(), announced_alerts()
    # Each sweep sends one notice per audience, stage and kind for what it raised (a digest for several cases):
    # two sweeps send two smaller digests where one sweep sends one, so the outbox rows are not compared; what
    # must hold is that every alert is announced by exactly one sweep.
    verdict = (
        "OK"
        if not errors
        and dupes == 0
        and both[0] == announced == single[0]
        and both[2] == single[2]
        and not pending
        else "MISSED"
    )
    print(
        f"(b) two overlapping sweeps = {seconds:.2f} s; alerts/events {both[0]:,}/{both[2]:,} vs one sweep "
        f"{single[0]:,}/{single[2]:,}, alerts announced {announced:,}, runs not announced {pending}, duplicate alerts "
        f"{dupes}, outbox rows {both[1]:,} (one sweep {single[1]:,}), errors {len(errors)} "
        f"(target: the same counts, every alert announced once, 0 duplicates) {verdict}"
    )

    reset(args.clocks, args.due_share)
    seconds, batches = crashed_then_rerun(args.batch)
    after_crash = written()
    dupes, (announced, pending) = duplicate_alerts(), announced_alerts()
    verdict = (
        "OK"
        if after_crash[0] == announced == single[0]
        and after_crash[2] == single[2]
        and dupes == 0
        and not pending
        else "MISSED"
    )
    print(
        f"(c) a sweep killed in batch {batches}, then a sweep = {seconds:.2f} s; alerts/events "
        f"{after_crash[0]:,}/{after_crash[2]:,}, alerts announced {announced:,}, runs not announced {pending}, "
        f"duplicate alerts {dupes}, outbox rows {after_crash[1]:,} (one sweep {single[1]:,}) "
        f"(target: as one sweep, every alert announced once, 0 duplicates) {verdict}"
    )

    if not args.skip_all_due:
        reset(args.clocks, 1.0)
        seconds, alerts = timed_sweep(args.batch)
        total = written()
        verdict = "OK" if seconds < 120 else "MISSED"
        print(
            f"(d) every clock due: one sweep = {seconds:.2f} s (target < 120 s) {verdict}; alerts {alerts}, "
            f"outbox rows {total[1]:,} (messages per recipient {total[3]:,}), timeline events {total[2]:,}"
        )

    cost = deadline_cost()
    print(f"(e) computing a deadline = {cost:.4f} ms (target < 0.1 ms) {'OK' if cost < 0.1 else 'MISSED'}")


if __name__ == "__main__":
    main()
