"""Server time of the workbench pages people wait for, against a loaded PostgreSQL database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench python -m bench.pages_bench [--iterations 60]

Renders, through the whole Django stack in-process (django.test.Client, session login), the role homes of a
dispatcher, the busiest unit's handler and a leader, the search page (default: last month; and by caller number),
a case page with its timeline and deadlines, the open-case board and the supervision page; prints p50 and p99
beside the target (< 300 ms for worklists and the first page of search; < 1 s for the supervision page).
Figures are printed, never asserted.

`--alerts N` first replaces the deadline tables with N running or stopped reply clocks started in the last 30 days,
each with a yellow card (the supervision page's worst case: 1,000,000 cards in its default period); `--only`
measures the pages whose label contains a word (e.g. `--only supervision`).
"""

from __future__ import annotations

import argparse
import random

from django.db import connection
from django.db.models import Count

from bench import require_postgresql
from bench.case_bench import Result, client_for, measure, ok
from hotline.cases.models import OPEN_ASSIGNMENT_STATUSES, Assignment, CaseStatus
from hotline.cases.selectors import office_queue
from hotline.demo.org import load_org

TARGET_MS = 300
SUPERVISION_TARGET_MS = 1000


def fill_alerts(n: int) -> None:
    """N reply clocks over the assignments, started in the last 30 days, half still running, each carded yellow."""
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE sla_alert, sla_clock RESTART IDENTITY CASCADE")
        cursor.execute("SELECT setseed(0.17)")
        cursor.execute("SELECT count(*) FROM cases_assignment WHERE role <> 'cc'")
        (assignments,) = cursor.fetchone()
        cursor.execute(
            """
            WITH a AS (
                SELECT id, case_id, unit_id, row_number() OVER (ORDER BY id DESC) - 1 AS k
                FROM cases_assignment WHERE role <> 'cc'
            ), s AS (
                SELECT n, n %% %(assignments)s AS k, now() - random() * interval '30 days' AS start,
                       random() < 0.5 AS running
                FROM generate_series(1, %(n)s) n
            )
            INSERT INTO sla_clock (case_id, assignment_id, unit_id, stage, started_at, due_at, warn_at, red_at,
                                   remind_at, next_alert_at, stopped_at, max_due_at, yellow_at)
            SELECT a.case_id, a.id, a.unit_id, 'reply', s.start, s.start + interval '1 day', NULL,
                   s.start + interval '4 days', NULL, CASE WHEN s.running THEN s.start + interval '4 days' END,
                   CASE WHEN s.running THEN NULL ELSE s.start + interval '2 days' END, NULL,
                   LEAST(s.start + interval '1 day', now())
            FROM s JOIN a USING (k)
            """,
            {"assignments": assignments, "n": n},
        )
        cursor.execute(
            """
            INSERT INTO sla_alert (clock_id, kind, case_id, unit_id, raised_at, run_id)
            SELECT c.id, 'yellow', c.case_id, a.unit_id, LEAST(c.due_at, now()), 'pages-bench'
            FROM sla_clock c JOIN cases_assignment a ON a.id = c.assignment_id
            """
        )
        cursor.execute("VACUUM ANALYZE sla_clock")
        cursor.execute("VACUUM ANALYZE sla_alert")
    print(f"  {n:,} 个答复时限（近 30 天开始）及 {n:,} 张黄牌")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=60)
    parser.add_argument("--alerts", type=int, default=0, help="first fill N clocks with a yellow card each")
    parser.add_argument("--only", default="", help="measure only pages whose label contains this")
    args = parser.parse_args()
    name = require_postgresql()
    if args.alerts:
        fill_alerts(args.alerts)
    org = load_org()
    rng = random.Random(5)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(id) FROM cases_case")
        total, max_id = cursor.fetchone()
        cursor.execute(
            "SELECT citizen_phone FROM cases_case WHERE citizen_phone <> '' ORDER BY id DESC LIMIT 500"
        )
        phones = [row[0] for row in cursor.fetchall()]
    busiest = (
        Assignment.objects.filter(status__in=OPEN_ASSIGNMENT_STATUSES)
        .values("unit_id")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    handler = org.handlers.get(busiest["unit_id"]) if busiest else None
    dispatcher, leader = org.users["dispatcher1"], org.users["leader1"]
    print(f"数据库 {name}：{total:,} 件工单")

    office, boss = client_for(dispatcher), client_for(leader)
    pages: list[tuple[str, object, object, float | None]] = [
        ("dispatcher home (queues)", office, lambda i: "/", TARGET_MS),
        ("leader home (overview counts)", boss, lambda i: "/", TARGET_MS),
        ("search, default last month", office, lambda i: "/cases/search/", TARGET_MS),
        (
            "search by caller number",
            office,
            lambda i: f"/cases/search/?caller_phone={phones[i % len(phones)]}",
            TARGET_MS,
        ),
        ("case page with timeline", office, lambda i: f"/cases/{rng.randint(1, max_id)}/", TARGET_MS),
        ("open-case board", office, lambda i: "/cases/board/", None),
        (
            "supervision (30 days), office: card ledger",
            office,
            lambda i: "/supervision/",
            SUPERVISION_TARGET_MS,
        ),
        *[
            (
                f"supervision (30 days), office: {tab}",
                office,
                lambda i, t=tab: f"/supervision/?tab={t}",
                SUPERVISION_TARGET_MS,
            )
            for tab in ("limits", "results", "quality")
        ],
    ]
    if handler is not None:
        pages.insert(1, ("unit handler home (worklists)", client_for(handler), lambda i: "/", TARGET_MS))
        # Issue 11 item 10: the worklist sorted by the running deadline (the current stage's clock), first page.
        pages.insert(
            2,
            (
                "worklist API by running deadline, busiest unit",
                client_for(handler),
                lambda i: "/api/v1/worklist/?tab=open",
                TARGET_MS,
            ),
        )
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM sla_alert")
        (alerts,) = cursor.fetchone()
    print(f"  预警督办记录 {alerts:,} 条")
    for label, client, url, target in pages:
        if args.only not in label:
            continue

        def get(i: int, client=client, url=url) -> None:
            response = client.get(url(i))  # type: ignore[operator]
            if response.status_code != 404:  # a random id may be a gap
                ok(response)

        print(Result(label, measure(get, args.iterations, warmup=5), target, "HTML page").line())
    if args.only in "callback queue by running deadline":
        # 待回访 sorted by the callback deadline (each case's running clock): the queue's first page and its count,
        # as the agent's home computes them (that page also carries the office-wide overview counts).
        agent = org.users["agent1"]

        def callback_queue(i: int) -> None:
            qs = office_queue(user=agent, statuses=[CaseStatus.CALLBACK], by_deadline=True)
            list(qs[:20])
            qs.count()

        print(
            Result(
                "callback queue by running deadline, first page + count",
                measure(callback_queue, args.iterations, warmup=5),
                TARGET_MS,
                "selector",
            ).line()
        )


if __name__ == "__main__":
    main()
