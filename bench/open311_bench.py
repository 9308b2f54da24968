"""Open311 GET requests with the standard's filters (API-2) against a large case table: p50 / p99 beside the
target (< 100 ms at 1,000,000 cases).

Uses the cases already in DATABASE_URL (fill it with `python -m bench.load_cases 1000000`). Marks `--public`
closed cases public hot questions when fewer are marked, links `--own` recent cases to a bench partner as its
Open311 requests, then times (in-process, Django test client, server time) GET requests without a key, with the
key, with status / service_code / date filters, and by id.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench python -m bench.open311_bench [--runs 50]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time

from django.db import connection
from django.test import Client

from bench import require_postgresql
from hotline.cases.models import Case, CaseStatus
from hotline.common import clock
from hotline.integrations.models import Open311Request
from hotline.integrations.services import partner_create
from hotline.orgs.models import Role, Unit, User
from hotline.orgs.services import user_create

BASE = "/open311/v2/requests.json"


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
    taken = set(Open311Request.objects.values_list("case_id", flat=True))
    recent = [
        pk
        for pk in Case.objects.order_by("-created_at").values_list("pk", flat=True)[: own * 2]
        if pk not in taken
    ]
    now = clock.now()
    Open311Request.objects.bulk_create(
        [
            Open311Request(partner=partner, token=f"b{partner.pk}-{pk}", case_id=pk, created_at=now)
            for pk in recent[:own]
        ]
    )
    some = Case.objects.filter(is_public=True, push_hot=True).values_list("number", flat=True).first() or ""
    return creds.api_key, some


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--public", type=int, default=2000, help="public hot-question cases to have")
    parser.add_argument("--own", type=int, default=5000, help="cases linked to the bench partner")
    args = parser.parse_args()
    require_postgresql()
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
    print(f"{total:,} cases; load {os.getloadavg()[0]:.2f}; {args.runs} runs each; target p99 < 100 ms")
    for name, params in queries.items():
        times, rows = [], 0
        for _ in range(args.runs):
            started = time.perf_counter()
            response = client.get(BASE, params)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.content[:200]
            rows = len(response.json())
        times.sort()
        p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
        print(f"  {name:36s} rows {rows:5d}  p50 {statistics.median(times):7.1f} ms  p99 {p99:7.1f} ms")


if __name__ == "__main__":
    main()
