"""Latency of the case operations people wait for, against a loaded PostgreSQL database.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/hotline_bench python -m bench.case_bench [--iterations 300]

Measures, after a warm-up, p50 and p99 of:
  (a) case create through the service `case_intake` (public and non-public cases), and through POST /api/v1/cases/
  (b) a unit handler's worklist, first page of 20 (GET /api/v1/worklist/), for the unit with the most open work
  (c) case detail with timeline (GET /api/v1/cases/{id}/ then /timeline/), as an office agent and as a unit handler
  (d) search by caller number, first page (GET /api/v1/cases/?caller_phone=…)
Requests go through the whole Django stack in-process (django.test.Client, session login); where an endpoint is
missing the selectors and serializers are called directly. Figures are printed, never asserted. Each run adds
the cases it creates (and the audit rows of the views) to the database.
"""

from __future__ import annotations

import argparse
import os
import random
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.models import Count
from django.test import Client
from django.urls import NoReverseMatch, reverse

from bench import require_postgresql
from hotline.cases import selectors, services
from hotline.cases.models import OPEN_ASSIGNMENT_STATUSES, Assignment
from hotline.common.runtime import settle_after_startup
from hotline.demo.content import CallerPool, Dictionaries, case_input, draw_request
from hotline.demo.org import handler_username, load_org
from hotline.orgs.models import User

WARMUP = 30
TABLES = (
    "cases_case", "cases_assignment", "cases_caseevent", "cases_callback", "citizens_citizen", "common_auditlog",
    "orgs_unit", "orgs_user",
)  # fmt: skip


def pad(text: str, width: int) -> str:
    """Left-justify counting CJK characters as two columns."""
    used = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - used)


@dataclass
class Result:
    name: str
    samples: list[float]
    target_ms: float | None
    via: str

    def percentile(self, q: float) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] * 1000

    def line(self) -> str:
        p50, p99 = self.percentile(0.50), self.percentile(0.99)
        text = f"{pad(self.name, 36)} p50 = {p50:7.1f} ms   p99 = {p99:7.1f} ms"
        if self.target_ms is not None:
            verdict = "OK" if p99 < self.target_ms else "MISSED"
            text += f" (target < {self.target_ms:g} ms) {verdict}"
        return f"{text}   [{self.via}, n={len(self.samples)}]"


def measure(action: Callable[[int], Any], iterations: int, warmup: int = WARMUP) -> list[float]:
    for i in range(warmup):
        action(i)
    settle_after_startup()  # as config/wsgi.py does in a server process once the app is loaded
    samples = []
    for i in range(iterations):
        started = time.perf_counter()
        action(warmup + i)
        samples.append(time.perf_counter() - started)
    return samples


def has_url(name: str, *args: Any) -> bool:
    try:
        reverse(name, args=args)
    except NoReverseMatch:
        return False
    return True


def ok(response: Any) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(f"{response.status_code}: {response.content[:300]!r}")
    return response


def client_for(user: User) -> Client:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


class Bench:
    def __init__(self, iterations: int, seed: int) -> None:
        self.n = iterations
        self.rng = random.Random(seed)
        self.org = load_org()
        self.agent = self.org.users["agent1"]
        self.dicts = Dictionaries()
        self.callers = CallerPool(self.rng, repeat_share=0.0)
        max_id = connection.cursor()
        max_id.execute("SELECT max(id) FROM cases_case")
        self.max_case_id = int(max_id.fetchone()[0] or 0)
        if self.max_case_id == 0:
            raise SystemExit("基准库中没有工单，请先运行 python -m bench.load_cases")

    # ------------------------------------------------------------------ (a) create

    def _input(self, *, public: bool) -> services.CaseInput:
        request = draw_request(self.rng, self.org)
        data = case_input(
            self.rng, self.dicts, request, self.callers.draw(request.community, request.location)
        )
        data.is_public = public
        return data

    def create_service(self, *, public: bool) -> Result:
        inputs = [self._input(public=public) for _ in range(self.n + WARMUP)]
        samples = measure(lambda i: services.case_intake(actor=self.agent, data=inputs[i]), self.n)
        name = "case create (public)" if public else "case create (non-public, query pw)"
        return Result(name, samples, 30, "service case_intake")

    def create_api(self) -> Result | None:
        if not has_url("api-cases"):
            return None
        client = client_for(self.agent)
        payloads = []
        for _ in range(self.n + WARMUP):
            data = self._input(public=True)
            payloads.append({
                "case_type": data.case_type.code, "content": data.content, "channel": data.channel,
                "citizen_name": data.citizen_name, "citizen_phone": data.citizen_phone,
                "nature": data.nature.code if data.nature else None, "bureau": data.bureau.pk if data.bureau else None,
                "location": data.location, "location_unit": data.location_unit.pk if data.location_unit else None,
                "title": data.title, "is_public": True,
            })  # fmt: skip
        url = reverse("api-cases")
        samples = measure(
            lambda i: ok(client.post(url, payloads[i], content_type="application/json")), self.n
        )
        return Result("case create API (public)", samples, 30, "POST /api/v1/cases/")

    # ------------------------------------------------------------------ (b) worklist

    def busiest_handler(self) -> tuple[User, int]:
        row = (
            Assignment.objects.filter(status__in=OPEN_ASSIGNMENT_STATUSES)
            .values("unit_id")
            .annotate(n=Count("id"))
            .order_by("-n")
            .first()
        )
        if row is None:
            raise SystemExit("没有在办的交办环节")
        unit = self.org.by_id(row["unit_id"])
        return self.org.users[handler_username(unit.code)], row["n"]

    def worklist(self) -> Result:
        user, open_items = self.busiest_handler()
        label = f"worklist ({user.unit}, {open_items} open)"
        if has_url("api-worklist"):
            client = client_for(user)
            url = reverse("api-worklist")
            samples = measure(lambda i: ok(client.get(url)), self.n)
            return Result(label, samples, 50, "GET /api/v1/worklist/")

        def direct(_i: int) -> None:
            qs = selectors.worklist(user=user)
            qs.count()
            list(qs[:20])

        return Result(label, measure(direct, self.n), 50, "selectors.worklist")

    # ------------------------------------------------------------------ (c) detail + timeline

    def _random_case_ids(self, count: int) -> list[int]:
        return [self.rng.randint(1, self.max_case_id) for _ in range(count)]

    def _unit_case_ids(self, user: User, count: int) -> list[int]:
        assert user.unit_id is not None
        ids = list(
            Assignment.objects.filter(unit_id=user.unit_id)
            .order_by("?")
            .values_list("case_id", flat=True)[:count]
        )
        return [ids[i % len(ids)] for i in range(count)]

    def detail(self, user: User, case_ids: Sequence[int], label: str) -> Result:
        if has_url("api-case-detail", 1) and has_url("api-case-timeline", 1):
            client = client_for(user)

            def via_api(i: int) -> None:
                pk = case_ids[i]
                ok(client.get(reverse("api-case-detail", args=[pk])))
                ok(client.get(reverse("api-case-timeline", args=[pk])))

            return Result(label, measure(via_api, self.n), 50, "GET /cases/{id}/ + /timeline/")

        def direct(i: int) -> None:
            case = selectors.case_get(user=user, pk=case_ids[i])
            list(selectors.case_timeline(case=case))
            list(selectors.case_assignments(case=case))

        return Result(label, measure(direct, self.n), 50, "selectors.case_get + case_timeline")

    # ------------------------------------------------------------------ (d) search by caller number

    def search_phone(self) -> Result:
        cursor = connection.cursor()
        cursor.execute("SELECT phone FROM citizens_citizen ORDER BY random() LIMIT %s", [self.n + WARMUP])
        phones = [r[0] for r in cursor.fetchall()]
        if has_url("api-cases"):
            client = client_for(self.agent)
            url = reverse("api-cases")
            samples = measure(lambda i: ok(client.get(url, {"caller_phone": phones[i]})), self.n)
            return Result("search by caller number", samples, 50, "GET /api/v1/cases/?caller_phone=")

        def direct(i: int) -> None:
            qs = selectors.case_search(user=self.agent, filters=selectors.CaseFilters(caller_phone=phones[i]))
            qs.count()
            list(qs[:20])

        return Result("search by caller number", measure(direct, self.n), 50, "selectors.case_search")

    def run(self) -> Iterator[Result]:
        unit_user, _n = self.busiest_handler()
        yield self.create_service(public=True)
        yield self.create_service(public=False)
        api = self.create_api()
        if api is not None:
            yield api
        yield self.worklist()
        yield self.detail(
            self.agent, self._random_case_ids(self.n + WARMUP), "case detail + timeline (office)"
        )
        yield self.detail(
            unit_user, self._unit_case_ids(unit_user, self.n + WARMUP), "case detail + timeline (unit)"
        )
        yield self.search_phone()


def require_migrated() -> None:
    executor = MigrationExecutor(connection)
    if executor.migration_plan(executor.loader.graph.leaf_nodes()):
        raise SystemExit("基准库有未执行的迁移，请先运行 python manage.py migrate（使用同一个 DATABASE_URL）")


def print_row_counts() -> None:
    with connection.cursor() as cursor:
        for table in TABLES:
            cursor.execute(f"SELECT count(*) FROM {table}")
            print(f"  {table:<20} {cursor.fetchone()[0]:>12,}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="工单操作延迟基准（p50/p99）。")
    parser.add_argument("--iterations", type=int, default=300, help="每项测量次数（另有预热 30 次）")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    name = require_postgresql()
    warnings.filterwarnings("ignore", message="No directory at")  # static files are not collected here
    require_migrated()
    print(f"数据库 {name} 的主要表行数：")
    print_row_counts()
    print("")
    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    for result in Bench(args.iterations, args.seed).run():
        print(result.line(), flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
