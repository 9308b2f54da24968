"""Server time of the workbench pages people wait for, against a loaded PostgreSQL database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench python -m bench.pages_bench [--iterations 60]

Renders, through the whole Django stack in-process (django.test.Client, session login), the role homes of a
dispatcher, the busiest unit's handler and a leader, the search page (default: last month; and by caller number),
a case page with its timeline and deadlines, the open-case board and the supervision page; prints p50 and p99
beside the target (< 300 ms for worklists and the first page of search). Figures are printed, never asserted.
"""

from __future__ import annotations

import argparse
import random

from django.db import connection
from django.db.models import Count

from bench import require_postgresql
from bench.case_bench import Result, client_for, measure, ok
from hotline.cases.models import OPEN_ASSIGNMENT_STATUSES, Assignment
from hotline.demo.org import load_org

TARGET_MS = 300


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--iterations", type=int, default=60)
    args = parser.parse_args()
    name = require_postgresql()
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
        ("supervision (30 days)", office, lambda i: "/supervision/", None),
    ]
    if handler is not None:
        pages.insert(1, ("unit handler home (worklists)", client_for(handler), lambda i: "/", TARGET_MS))
    for label, client, url, target in pages:

        def get(i: int, client=client, url=url) -> None:
            response = client.get(url(i))  # type: ignore[operator]
            if response.status_code != 404:  # a random id may be a gap
                ok(response)

        print(Result(label, measure(get, args.iterations, warmup=5), target, "HTML page").line())


if __name__ == "__main__":
    main()
