"""Open311 GET requests with the standard's filters (API-2) against a large case table: p50 / p99 beside the
target (< 100 ms at 1,000,000 cases).

Uses the cases already in DATABASE_URL (fill it with `python -m bench.load_cases 1000000`, or with `--fill N`:
N case rows made set-based in one INSERT … SELECT FROM generate_series — only `cases_case`, which is all Open311
reads; minutes instead of load_cases' simulated histories). Marks `--public` closed cases public hot questions
when fewer are marked, links `--own` recent cases to a bench partner as its Open311 requests, then times
(in-process, Django test client, server time) GET requests without a key, with the key, with status /
service_code / date filters, and by id: wall p50 / p99, and the CPU per request of this process and of its
PostgreSQL backend (/proc of the backend's pid, same machine).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench python -m bench.open311_bench [--runs 50] \
        [--fill 1000000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from pathlib import Path

from django.db import connection
from django.test import Client

from bench import require_postgresql
from hotline.cases.models import Case, CaseStatus
from hotline.common import clock
from hotline.common.runtime import settle_after_startup
from hotline.integrations.models import Open311Request
from hotline.integrations.services import partner_create
from hotline.orgs.models import Role, Unit, User
from hotline.orgs.services import user_create

BASE = "/open311/v2/requests.json"


STATUSES = ["closed"] * 14 + ["handling"] * 3 + ["dispatched", "submitted", "result_review"]


def fill(n: int) -> None:
    """N cases over the last two years, set-based: 70 % closed, the rest open; types, units and times drawn per
    row from `generate_series` (seeded, so runs compare). Numbers `O` + 11 digits never clash with real ones."""
    from hotline.orgs.models import UnitKind
    from hotline.orgs.services import unit_create

    units = list(Unit.objects.values_list("pk", flat=True)[:50])
    if not units:
        office = unit_create(name="热线办", code="BENCH-OFFICE", kind=UnitKind.OFFICE)
        units = [office.pk] + [
            unit_create(name=f"委办局{i}", code=f"BENCH-B{i}", kind=UnitKind.BUREAU).pk for i in range(9)
        ]
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.17)")
        cursor.execute("SELECT coalesce(max(id), 0) FROM cases_case")
        (base,) = cursor.fetchone()
        cursor.execute(
            """
            WITH t AS (SELECT array_agg(id ORDER BY id) AS ids FROM common_dictitem WHERE kind = 'case_type'),
            s AS (
                SELECT n, %(now)s - random() * interval '730 days' AS at, floor(random() * 20)::int AS st,
                       random() AS r
                FROM generate_series(%(base)s + 1, %(base)s + %(n)s) n
            )
            INSERT INTO cases_case (
                number, channel, origin, status, version, citizen_name, citizen_gender, citizen_phone,
                citizen_email, citizen_address, citizen_work_unit, citizen_post_code, citizen_notes, location,
                title, content, keywords, is_typical_recording, extra, answer, dispatch_round, created_at,
                submitted_at, closed_at, updated_at, not_accepted_text, leader_instruction, close_kind, close_reason,
                dissatisfied_count, last_rating, is_public, push_hot, is_typical, query_password,
                is_perfunctory, is_wrong, violation_note, case_type_id, main_unit_id
            )
            SELECT 'O' || lpad(s.n::text, 11, '0'), 'phone', '{}'::jsonb, (%(statuses)s::text[])[s.st + 1], 1,
                   '', '', '', '', '', '', '', '', '东湖区幸福路 ' || (s.n %% 500) || ' 号',
                   '路灯不亮', '东湖区幸福路附近路灯连续多日不亮，夜间出行不便，请尽快维修。', '', false, '{}'::jsonb,
                   '', 1, s.at, s.at, CASE WHEN s.st < 14 THEN s.at + interval '5 days' END,
                   s.at + interval '5 days', '', '', '', '', 0, '', false, false, false, '', false, false, '',
                   t.ids[1 + (s.n %% array_length(t.ids, 1))], (%(units)s::bigint[])[1 + (s.n %% %(nunits)s)]
            FROM s, t
            """,
            {
                "now": clock.now(),
                "base": base,
                "n": n,
                "statuses": STATUSES,
                "units": units,
                "nunits": len(units),
            },
        )
        cursor.execute("VACUUM ANALYZE cases_case")
    print(f"filled {n:,} cases set-based in {time.perf_counter() - started:.1f} s wall")


def _backend_cpu() -> float:
    """CPU seconds (user + system) of this connection's PostgreSQL backend so far."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _prepare(public: int, own: int) -> tuple[str, str]:
    marked = Case.objects.filter(is_public=True, push_hot=True, status=CaseStatus.CLOSED).count()
    if marked < public:
        ids = list(
            Case.objects.filter(status=CaseStatus.CLOSED, push_hot=False)
            .order_by("-created_at")
            .values_list("pk", flat=True)[: public - marked]
        )
        Case.objects.filter(pk__in=ids).update(is_public=True, push_hot=True)
    admin = User.objects.filter(roles__role=Role.ADMIN).first() or user_create(
        username=f"bench-admin-{time.time_ns()}", password=f"pw-{time.time_ns()}", full_name="bench",
        unit=Unit.objects.order_by("pk").first(), roles=[Role.ADMIN],
    )  # fmt: skip
    partner, creds = partner_create(
        actor=admin, code=f"bench-{time.time_ns()}", name="bench", scopes=["open311"]
    )
    # Earlier runs' bench partners give their links up, so every run's partner has the same `own` newest cases.
    Open311Request.objects.filter(partner__code__startswith="bench-").delete()
    taken = set(Open311Request.objects.values_list("case_id", flat=True))
    recent = [
        (pk, at)
        for pk, at in Case.objects.order_by("-created_at").values_list("pk", "created_at")[: own * 2]
        if pk not in taken
    ]
    now = clock.now()
    Open311Request.objects.bulk_create(
        [
            Open311Request(
                partner=partner, token=f"b{partner.pk}-{pk}", case_id=pk, created_at=now, case_created_at=at
            )
            for pk, at in recent[:own]
        ]
    )
    some = Case.objects.filter(is_public=True, push_hot=True).values_list("number", flat=True).first() or ""
    return creds.api_key, some


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--public", type=int, default=2000, help="public hot-question cases to have")
    parser.add_argument("--own", type=int, default=5000, help="cases linked to the bench partner")
    parser.add_argument("--fill", type=int, default=0, help="first add N cases set-based (SQL)")
    args = parser.parse_args()
    require_postgresql()
    if args.fill:
        fill(args.fill)
    total = Case.objects.count()
    key, number = _prepare(args.public, args.own)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case; ANALYZE integrations_open311request")
    now = clock.now()
    window = {"start_date": (now - dt.timedelta(days=30)).isoformat(), "end_date": now.isoformat()}
    queries = {
        "no key, defaults": {},
        "no key, status=closed": {"status": "closed"},
        "no key, service_code=complaint": {"service_code": "complaint"},
        "key, defaults": {"api_key": key},
        "key, status=open, 30 days": {"api_key": key, "status": "open", **window},
        "key, service_code + status": {
            "api_key": key,
            "service_code": "complaint,consultation",
            "status": "open",
        },
        "by id": {"service_request_id": number},
    }
    client = Client(HTTP_HOST="127.0.0.1")
    client.get(BASE, {})  # the application loaded, as in a server worker after its warm-up
    # What config/wsgi.py does in every production worker: without it, a full garbage collection over the whole
    # loaded process lands on some unlucky request (p99 ~160 ms here against p50 ~35 ms).
    settle_after_startup()
    print(f"{total:,} cases; load {os.getloadavg()[0]:.2f}; {args.runs} runs each; target p99 < 100 ms")
    for name, params in queries.items():
        times, rows = [], 0
        client.get(BASE, params)  # warm
        cpu, db_cpu = time.process_time(), _backend_cpu()
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get(BASE, params)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content[:200]
            rows = len(response.json())
        app_ms = (time.process_time() - cpu) / args.runs * 1000
        db_ms = (_backend_cpu() - db_cpu) / args.runs * 1000
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(
            f"  {name:36s} rows {rows:5d}  p50 {statistics.median(times):7.1f} ms  p99 {p99:7.1f} ms wall;"
            f"  CPU app {app_ms:6.1f} + PG {db_ms:6.1f} ms"
        )


if __name__ == "__main__":
    main()
