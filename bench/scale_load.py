"""Grow a benchmark database to issue 15's scale set-based in SQL: 10,000,000 cases and 50,000,000 calls.

    createdb -h 127.0.0.1 -U postgres i15scale_bench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/i15scale_bench
    python -m bench.load_cases 20000                    # the template: 20,000 simulated, consistent cases
    python manage.py fake_calls --days 1 --per-day 20   # queues and agents for the calls
    nice -n 10 python -m bench.scale_load --cases 10000000 --calls 50000000
    # or both at once, in two processes: ... --skip-calls & ... --skip-cases

Cases: the template's cases are copied (INSERT … SELECT over generate_series) until the target is reached, each
copy's timestamps moved back by a copy-specific shift below 12 hours, so days, hours, statuses, life cycles and
proportions stay those of the simulation (old cases closed, recent ones open). What a copied case is about and where
(type, nature, urgency, bureau, district, place, channel, keywords) is taken from another template case picked per
copy, so a day's cases spread over as many combinations as real days of that size (the daily facts get their
realistic millions of rows; plain copies gave 50,000). Each copy brings its cases'
assignments and callbacks, and of the timeline only the events the measures read (`callback`,
`supervision_opinion`) — the full timeline (6.5 events a case) would add ~65 M rows and ~16 GB that no figure here
reads. Numbers stay unique (the template's day + copy × 1000 + its sequence) and the day counters move past them.

Calls: `--calls` CDR rows generated outright over the template's two years (in time order, ~92 % reaching a queue,
exponential waits of mean 25 s, abandoned past 90 s or at 6 %, talk 1–6 min), with one queue-log row per queued call
(its `connect` or `abandon` with the wait, written by the same statement) — what the answer rate and service levels
read. The tables referring to calls are emptied first.

The secondary indexes and constraints of the grown tables are dropped before and rebuilt after (unique ones
validated; foreign keys added back NOT VALID: the rows are copies of valid rows and ids of existing rows; say
`--validate` to check them too). The backend runs at nice 10 like the client. Prints each step's wall time, the
rows and the disk size of every table.
"""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import psycopg
from django.db import connection

from bench import require_postgresql

CASE_TABLES = ("cases_case", "cases_assignment", "cases_callback", "cases_caseevent")
CALL_TABLES = ("telephony_call", "telephony_queuelog")
SUBJECT_COLUMNS = (
    "case_type_id", "nature_id", "urgency_id", "bureau_id", "district_id", "location_unit_id", "location",
    "channel", "keywords",
)  # fmt: skip
MAX_SHIFT = 43_200  # seconds; a copy's cases move back by less than 12 hours


def log(msg: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {msg}  (load {os.getloadavg()[0]:.1f})", flush=True)


def connect() -> psycopg.Connection[Any]:
    db = connection.settings_dict
    connection.close()
    conn = psycopg.connect(
        dbname=db["NAME"], user=db["USER"] or None, host=db["HOST"] or None, port=db["PORT"]
    )
    conn.autocommit = True
    pid = conn.execute("SELECT pg_backend_pid()").fetchone()[0]  # type: ignore[index]
    try:
        os.setpriority(os.PRIO_PROCESS, pid, 10)  # the backend does the work: nice it like this process
    except OSError as exc:
        log(f"could not renice backend {pid}: {exc}")
    conn.execute("SET maintenance_work_mem = '512MB'")
    conn.execute("SET work_mem = '256MB'")
    conn.execute("SET synchronous_commit = off")
    return conn


def step(conn: psycopg.Connection[Any], label: str, sql: str, params: Any = None) -> float:
    t = time.perf_counter()
    cur = conn.execute(sql, params)
    wall = time.perf_counter() - t
    log(f"{label}: {wall:.1f} s" + (f", {cur.rowcount:,} rows" if cur.rowcount and cur.rowcount > 0 else ""))
    return wall


def read_schema(
    conn: psycopg.Connection[Any], tables: tuple[str, ...]
) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    constraints = conn.execute(
        "SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
        "WHERE conrelid::regclass::text = ANY(%s) AND contype IN ('f', 'u') ORDER BY contype DESC, conname",
        [list(tables)],
    ).fetchall()
    indexes = conn.execute(
        "SELECT i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [list(tables)],
    ).fetchall()
    return [r[0] for r in indexes], [(t, n, k, d) for t, n, k, d in constraints]


def drop_schema(
    conn: psycopg.Connection[Any], tables: tuple[str, ...]
) -> tuple[list[str], list[tuple[str, str, str, str]]]:
    indexes, constraints = read_schema(conn, tables)
    for table, name, _kind, _definition in constraints:
        conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for (name,) in conn.execute(
        "SELECT indexname FROM pg_indexes i WHERE schemaname = current_schema() AND tablename = ANY(%s) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
        [list(tables)],
    ).fetchall():
        conn.execute(f'DROP INDEX "{name}"')
    return indexes, constraints


def restore_schema(
    conn: psycopg.Connection[Any],
    indexes: list[str],
    constraints: list[tuple[str, str, str, str]],
    validate: bool,
) -> float:
    t = time.perf_counter()
    for definition in indexes:
        step(conn, "  " + definition.split(" ON ")[0].replace("CREATE ", ""), definition)
    for table, name, kind, definition in constraints:
        suffix = " NOT VALID" if kind == "f" and not validate else ""
        step(
            conn, f"  constraint {name}", f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}{suffix}'
        )
    return time.perf_counter() - t


def columns(conn: psycopg.Connection[Any], table: str) -> list[str]:
    rows = conn.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


def select_list(cols: list[str], replace: dict[str, str]) -> str:
    return ", ".join(replace.get(c, f"t.{c}") for c in cols)


def grow_cases(conn: psycopg.Connection[Any], target: int, chunk: int, validate: bool) -> None:
    T, A = conn.execute(
        "SELECT (SELECT max(id) FROM cases_case), (SELECT max(id) FROM cases_assignment)"
    ).fetchone()  # type: ignore[misc]
    have = conn.execute("SELECT count(*) FROM cases_case").fetchone()[0]  # type: ignore[index]
    if have != T:
        raise SystemExit(f"the template must hold cases 1..N only (count {have}, max id {T})")
    copies = target // T
    log(f"template {T:,} cases / {A:,} assignments; {copies - 1} copies → {copies * T:,} cases")
    indexes, constraints = drop_schema(conn, CASE_TABLES)
    shift = f"make_interval(secs => ((k * 7919) % {MAX_SHIFT}))"

    def ts(col: str) -> str:
        return f"t.{col} - {shift}"

    case_cols = columns(conn, "cases_case")
    # what a case is about and where (type, nature, urgency, bureau, district, place, channel, keywords) comes
    # from another template case `d`, picked per copy: each copy mixes the template's subjects anew, so a day's
    # cases spread over as many type × district × bureau × … combinations as simulated days of their size do
    # (the joint distribution stays the simulation's), instead of repeating the template's 27 cases a day
    subject = {c: f"d.{c}" for c in SUBJECT_COLUMNS if c in case_cols}
    case_sel = select_list(
        case_cols,
        {
            **subject,
            "id": f"t.id + k * {T}",
            "number": "substr(t.number, 1, 8) || lpad((k * 1000 + substr(t.number, 9)::int)::text, 6, '0')",
            **{
                c: ts(c)
                for c in ("due_at", "created_at", "submitted_at", "dispatched_at", "closed_at", "updated_at")
            },
        },
    )
    a_cols = columns(conn, "cases_assignment")
    a_sel = select_list(
        a_cols,
        {
            "id": f"t.id + k * {A}",
            "case_id": f"t.case_id + k * {T}",
            "parent_id": f"t.parent_id + k * {A}",
            **{
                c: ts(c)
                for c in ("assigned_at", "signed_at", "due_at", "warn_at", "promised_at", "finished_at")
            },
        },
    )
    cb_cols = [c for c in columns(conn, "cases_callback") if c != "id"]
    cb_sel = select_list(cb_cols, {"case_id": f"t.case_id + k * {T}", "created_at": ts("created_at")})
    ev_cols = [c for c in columns(conn, "cases_caseevent") if c != "id"]
    ev_sel = select_list(
        ev_cols,
        {"case_id": f"t.case_id + k * {T}", "assignment_id": f"t.assignment_id + k * {A}", "at": ts("at")},
    )
    started = time.perf_counter()
    for first in range(1, copies, chunk):
        last = min(copies - 1, first + chunk - 1)
        k = f"generate_series({first}, {last}) AS k"
        with conn.transaction():
            step(conn, f"cases copies {first}-{last}",
                 f"INSERT INTO cases_case ({', '.join(case_cols)}) SELECT {case_sel} FROM cases_case t "
                 f"CROSS JOIN {k} JOIN cases_case d ON d.id = 1 + (t.id * 7919 + k * 104729) % {T} "
                 f"WHERE t.id <= {T}")  # fmt: skip
            step(conn, "  assignments",
                 f"INSERT INTO cases_assignment ({', '.join(a_cols)}) SELECT {a_sel} FROM cases_assignment t, {k} "
                 f"WHERE t.id <= {A}")  # fmt: skip
            step(conn, "  callbacks",
                 f"INSERT INTO cases_callback ({', '.join(cb_cols)}) SELECT {cb_sel} FROM cases_callback t, {k} "
                 f"WHERE t.case_id <= {T}")  # fmt: skip
            step(conn, "  events (callback, supervision_opinion)",
                 f"INSERT INTO cases_caseevent ({', '.join(ev_cols)}) SELECT {ev_sel} FROM cases_caseevent t, {k} "
                 f"WHERE t.case_id <= {T} AND t.action IN ('callback', 'supervision_opinion')")  # fmt: skip
    copied = time.perf_counter() - started
    log(f"cases copied in {copied:.1f} s")
    rebuilt = restore_schema(conn, indexes, constraints, validate)
    log(f"case tables' indexes and constraints rebuilt in {rebuilt:.1f} s")
    for table in ("cases_case", "cases_assignment", "cases_callback", "cases_caseevent"):
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    conn.execute(f"UPDATE cases_casenumbercounter SET last = last + {copies * 1000}")
    log(f"CASES TOTAL (copy + rebuild): {copied + rebuilt:.1f} s")


def make_calls(conn: psycopg.Connection[Any], total: int, chunk: int, validate: bool) -> None:
    queues = [r[0] for r in conn.execute("SELECT id FROM telephony_queue ORDER BY id").fetchall()]
    agents = [r[0] for r in conn.execute("SELECT id FROM telephony_agent ORDER BY id").fetchall()]
    if not queues or not agents:
        raise SystemExit("no queues or agents: run `manage.py fake_calls --days 1 --per-day 20` first")
    conn.execute("UPDATE telephony_agent SET current_call_id = NULL")
    # every table that refers to a call (the fixture's few calls go; the generated ones refer to nothing)
    referring = [
        r[0]
        for r in conn.execute(
            "SELECT DISTINCT conrelid::regclass::text FROM pg_constraint "
            "WHERE confrelid = 'telephony_call'::regclass AND conrelid <> confrelid AND contype = 'f' "
            "AND conrelid::regclass::text <> 'telephony_agent'"
        ).fetchall()
    ]
    conn.execute(f"TRUNCATE {', '.join(referring)}")
    conn.execute("DELETE FROM telephony_call")
    indexes, constraints = drop_schema(conn, CALL_TABLES)
    start, end = conn.execute(
        "SELECT min(created_at), now() - interval '1 minute' FROM cases_case"
    ).fetchone()  # type: ignore[misc]
    span = (end - start).total_seconds()
    started = time.perf_counter()
    q_arr = "ARRAY[" + ",".join(map(str, queues)) + "]::bigint[]"
    a_arr = "ARRAY[" + ",".join(map(str, agents)) + "]::bigint[]"
    for first in range(1, total + 1, chunk):
        last = min(total, first + chunk - 1)
        with conn.transaction():
            # r1: reaches a queue? r2: wait; r3: abandons anyway? r4: talk; ivr: seconds in self-service
            step(conn, f"calls {first:,}-{last:,} and their queue-log rows (one statement)",
                 f"""WITH calls AS (INSERT INTO telephony_call (id, call_id, caller, dialed, priority, status, disposition,
                        blacklist_treatment, started_at, enqueued_at, answered_at, ended_at, time_to_person_ms,
                        agent_id, number_id, queue_id, ivr_version_id, direction)
                 SELECT i, 'b' || i, '13' || lpad(((i * 2654435761) %% 1000000000)::text, 9, '0'), '12345', 0,
                        'ended',
                        CASE WHEN NOT queued THEN 'ivr_end' WHEN abandon THEN 'abandoned' ELSE 'answered' END,
                        '', s, CASE WHEN queued THEN s + ivr END,
                        CASE WHEN queued AND NOT abandon THEN s + ivr + wait END,
                        CASE WHEN NOT queued THEN s + ivr WHEN abandon THEN s + ivr + wait
                             ELSE s + ivr + wait + talk END,
                        CASE WHEN queued AND NOT abandon
                             THEN (extract(epoch FROM ivr + wait) * 1000)::int END,
                        CASE WHEN queued AND NOT abandon THEN ({a_arr})[1 + (i %% {len(agents)})] END,
                        NULL, CASE WHEN queued THEN ({q_arr})[1 + (i / 7) %% {len(queues)}] END, NULL, 'in'
                   FROM (SELECT i, s, queued, wait, talk, ivr,
                                wait > interval '90 seconds' OR r3 < 0.06 AS abandon
                           FROM (SELECT i,
                                        %(start)s::timestamptz
                                          + make_interval(secs => (i - 1) * %(step)s + random() * %(step)s) AS s,
                                        random() < 0.92 AS queued,
                                        make_interval(secs => -25 * ln(1 - random())) AS wait,
                                        random() AS r3,
                                        make_interval(secs => 60 + random() * 300) AS talk,
                                        make_interval(secs => 5 + random() * 35) AS ivr
                                   FROM generate_series(%(first)s::bigint, %(last)s::bigint) AS i) x) y
                 RETURNING id, enqueued_at, answered_at, ended_at, agent_id, queue_id)
                 INSERT INTO telephony_queuelog (event, wait_ms, at, agent_id, call_id, queue_id)
                 SELECT CASE WHEN answered_at IS NULL THEN 'abandon' ELSE 'connect' END,
                        (extract(epoch FROM coalesce(answered_at, ended_at) - enqueued_at) * 1000)::int,
                        coalesce(answered_at, ended_at), agent_id, id, queue_id
                   FROM calls WHERE enqueued_at IS NOT NULL""",
                 {"start": start, "step": span / total, "first": first, "last": last})  # fmt: skip
    generated = time.perf_counter() - started
    log(f"calls generated in {generated:.1f} s")
    rebuilt = restore_schema(conn, indexes, constraints, validate)
    for table in CALL_TABLES:
        conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
    log(f"CALLS TOTAL (generate + rebuild): {generated + rebuilt:.1f} s")


def sizes(conn: psycopg.Connection[Any]) -> None:
    for table in (*CASE_TABLES, *CALL_TABLES):
        rows, data, idx = conn.execute(
            "SELECT reltuples::bigint, pg_size_pretty(pg_table_size(oid)), pg_size_pretty(pg_indexes_size(oid)) "
            "FROM pg_class WHERE oid = %s::regclass",
            [table],
        ).fetchone()  # type: ignore[misc]
        log(f"  {table:<22} ~{rows:>12,} rows  table {data:>8}  indexes {idx:>8}")
    db = conn.execute("SELECT pg_size_pretty(pg_database_size(current_database()))").fetchone()[0]  # type: ignore[index]
    log(f"  database size {db}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--cases", type=int, default=10_000_000)
    parser.add_argument("--calls", type=int, default=50_000_000)
    parser.add_argument("--case-chunk", type=int, default=50, help="template copies per statement")
    parser.add_argument("--call-chunk", type=int, default=5_000_000)
    parser.add_argument("--skip-cases", action="store_true")
    parser.add_argument("--skip-calls", action="store_true")
    parser.add_argument("--validate", action="store_true", help="validate the foreign keys too")
    args = parser.parse_args()
    name = require_postgresql()
    t = time.perf_counter()
    with connect() as conn:
        log(f"database {name}")
        if not args.skip_cases:
            grow_cases(conn, args.cases, args.case_chunk, args.validate)
        if not args.skip_calls:
            make_calls(conn, args.calls, args.call_chunk, args.validate)
        v = time.perf_counter()
        grown = (() if args.skip_cases else CASE_TABLES) + (() if args.skip_calls else CALL_TABLES)
        for table in grown:
            conn.execute(f"VACUUM (ANALYZE) {table}")
        log(f"VACUUM ANALYZE: {time.perf_counter() - v:.1f} s")
        sizes(conn)
    log(f"TOTAL: {time.perf_counter() - t:.1f} s")


if __name__ == "__main__":
    main()
