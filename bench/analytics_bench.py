"""Analytics at scale (issue 15): a year's case reports, the type × district × month cross-tab and a month's
assessment of every unit, over the cases of `bench/load_cases.py`, by two approaches:

  A. the cross-tab engine as shipped: aggregate queries over the case tables with their ordinary indexes;
  B. a daily fact table (a materialized view of case counts per day × type × district × channel × status ×
     bureau × main unit × urgency × nature × location), refreshed after loading — the same figure read from it.

    createdb -h 127.0.0.1 -U postgres reports_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reports_bench python -m bench.load_cases 1000000
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/reports_bench nice -n 10 python -m bench.analytics_bench

Targets (at 10,000,000 cases): a year's case report p99 < 2 s, the cross-tab type × district × month < 2 s, a
month's assessment of all units < 60 s. Prints wall and CPU (this process) time and the load average.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.db import connection
from django.utils import timezone

from bench import require_postgresql
from hotline.analytics.crosstab import engine
from hotline.analytics.kpi import services as kpi
from hotline.analytics.kpi.models import AssessmentPeriod, Indicator, Scheme
from hotline.analytics.reports import presets
from hotline.cases.models import Case
from hotline.common import clock
from hotline.orgs.models import Role, User

MV = "analytics_bench_case_daily"


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], list[float], Any]:
    walls, cpus, result = [], [], None
    for _ in range(runs):
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
    return walls, cpus, result


def line(label: str, walls: list[float], cpus: list[float], target: str) -> None:
    p99 = max(walls)  # few runs: the worst stands for p99
    print(
        f"{label:<48} p50 {statistics.median(walls) * 1000:8.0f} ms  p99≈max {p99 * 1000:8.0f} ms  "
        f"CPU(py) p50 {statistics.median(cpus) * 1000:7.0f} ms   target {target}   load {os.getloadavg()[0]:.1f}"
    )


def year_params() -> dict[str, str]:
    today = timezone.localtime(clock.now()).date()
    return {"period": "custom", "from": (today - dt.timedelta(days=364)).isoformat(), "to": today.isoformat()}


def approach_a(user: User, runs: int, label: str) -> dict[str, Any]:
    year = year_params()
    out: dict[str, Any] = {}
    for preset in presets.presets():
        params = {**preset.params, **year}
        if preset.centre_only and user.unit is not None and not user.is_superuser and not user.in_office:
            continue

        def run(params: dict[str, Any] = params) -> Any:
            return engine.run(engine.parse(params, user=user))

        walls, cpus, table = timed(run, runs)
        line(f"A {label} {preset.name}", walls, cpus, "p99 < 2 s")
        out[preset.key] = table
    return out


def create_fact_table() -> float:
    with connection.cursor() as cur:
        cur.execute(f"DROP MATERIALIZED VIEW IF EXISTS {MV}")
        t = time.perf_counter()
        cur.execute(
            f"""CREATE MATERIALIZED VIEW {MV} AS
            SELECT (created_at AT TIME ZONE 'Asia/Shanghai')::date AS day, case_type_id, district_id, channel,
                   status, bureau_id, main_unit_id, urgency_id, nature_id, location_unit_id, count(*) AS n
              FROM cases_case WHERE status <> 'draft'
             GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9, 10"""
        )
        cur.execute(f"CREATE INDEX ON {MV} (day)")
        cur.execute(f"ANALYZE {MV}")
        return time.perf_counter() - t


def refresh_fact_table() -> float:
    t = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(f"REFRESH MATERIALIZED VIEW {MV}")
    return time.perf_counter() - t


def approach_b_crosstab(first: dt.date, last: dt.date) -> dict[tuple[Any, Any, Any], int]:
    with connection.cursor() as cur:
        cur.execute(
            f"""SELECT case_type_id, district_id, date_trunc('month', day)::date, sum(n) FROM {MV}
                 WHERE day BETWEEN %s AND %s GROUP BY 1, 2, 3""",
            [first, last],
        )
        return {(r[0], r[1], r[2]): int(r[3]) for r in cur.fetchall()}


def kpi_month(user: User) -> float:
    scheme, _ = Scheme.objects.get_or_create(
        name="bench 月度考核",
        defaults={
            "depth": 1,
            "bands": [
                {"grade": "A", "min": 90},
                {"grade": "B", "min": 75},
                {"grade": "C", "min": 60},
                {"grade": "D", "min": 0},
            ],
        },
    )
    if not scheme.indicators.exists():
        for i, (measure, weight, full, zero) in enumerate(
            [
                ("on_time_sign_for", 20, 100, 0),
                ("on_time_completion", 30, 100, 0),
                ("redo_rate", 20, 0, 30),
                ("satisfaction", 30, 100, 0),
            ]
        ):
            Indicator.objects.create(
                scheme=scheme, measure=measure, weight=weight, full_at=full, zero_at=zero, sort_order=i
            )
    today = timezone.localtime(clock.now()).date()
    last_month_end = today.replace(day=1) - dt.timedelta(days=1)
    period = AssessmentPeriod.objects.create(
        scheme=scheme,
        name=f"bench {last_month_end:%Y-%m}",
        first_day=last_month_end.replace(day=1),
        last_day=last_month_end,
    )
    t, c = time.perf_counter(), time.process_time()
    scores = kpi.compute(period=period, user=user)
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    print(
        f"{'A KPI: a month, every unit (' + str(len(scores)) + ' scores)':<48} wall {wall:8.1f} s  CPU(py) {cpu:6.1f} s"
        f"   target < 60 s   load {os.getloadavg()[0]:.1f}"
    )
    return wall


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--skip-kpi", action="store_true")
    args = parser.parse_args()
    name = require_postgresql()
    cases = Case.objects.count()
    print(f"database {name}: {cases:,} cases; load average {os.getloadavg()}")
    office = (
        User.objects.filter(is_superuser=False, roles__role=Role.DISPATCHER).first()
        or User.objects.filter(is_superuser=True).first()
    )
    leader = User.objects.filter(roles__role=Role.UNIT_LEADER, unit__kind="district").first()
    assert office is not None
    approach_a(office, args.runs, "city")
    if leader is not None:
        approach_a(leader, args.runs, f"district {leader.unit}")

    # the cross-tab type × district × month over a year, both ways, checked equal
    year = year_params()
    params = {**year, "rows": "case_type", "cols": "district", "measure": "intake_volume"}
    walls, cpus, table_a = timed(
        lambda: engine.run(engine.parse({**params, "cols": "month"}, user=office)), args.runs
    )
    line("A cross-tab type × month (year)", walls, cpus, "< 2 s")

    def three_way() -> Any:
        # type × district × month: the engine's grid is two-dimensional, so one type × district table per month
        spec = engine.parse({**params}, user=office)
        return engine.run(spec)

    walls, cpus, _ = timed(three_way, args.runs)
    line("A cross-tab type × district (year)", walls, cpus, "< 2 s")
    created = create_fact_table()
    print(f"B fact table built in {created:.1f} s (refresh measured next)")
    print(f"B fact table refresh {refresh_fact_table():.1f} s")
    first, last = dt.date.fromisoformat(year["from"]), dt.date.fromisoformat(year["to"])
    walls, cpus, grid = timed(lambda: approach_b_crosstab(first, last), args.runs)
    line("B cross-tab type × district × month (year)", walls, cpus, "< 2 s")
    total_b = sum(grid.values())
    total_a = table_a.rows[-1].cells[-1].value
    print(
        f"check: total cases in the year A {total_a:,} / B {total_b:,} -> {'equal' if total_a == total_b else 'DIFFERENT'}"
    )
    with connection.cursor() as cur:
        cur.execute(f"SELECT count(*), pg_size_pretty(pg_total_relation_size('{MV}')) FROM {MV}")
        rows, size = cur.fetchone()
    print(f"B fact rows {rows:,} ({size}) for {cases:,} cases")
    # B2: a coarser fact (day × type × district × channel × status): what the big screen and most reports need
    with connection.cursor() as cur:
        cur.execute(f"DROP MATERIALIZED VIEW IF EXISTS {MV}_coarse")
        t = time.perf_counter()
        cur.execute(
            f"""CREATE MATERIALIZED VIEW {MV}_coarse AS SELECT day, case_type_id, district_id, channel, status,
                   sum(n) AS n FROM {MV} GROUP BY 1, 2, 3, 4, 5"""
        )
        cur.execute(f"CREATE INDEX ON {MV}_coarse (day)")
        cur.execute(f"ANALYZE {MV}_coarse")
        built = time.perf_counter() - t

        def coarse() -> Any:
            cur.execute(
                f"""SELECT case_type_id, district_id, date_trunc('month', day)::date, sum(n) FROM {MV}_coarse
                     WHERE day BETWEEN %s AND %s GROUP BY 1, 2, 3""",
                [first, last],
            )
            return cur.fetchall()

        walls, cpus, _ = timed(coarse, args.runs)
        cur.execute(f"SELECT count(*) FROM {MV}_coarse")
        coarse_rows = cur.fetchone()[0]
    print(f"B2 coarse fact built from B in {built:.1f} s: {coarse_rows:,} rows")
    line("B2 cross-tab type × district × month (year)", walls, cpus, "< 2 s")
    if not args.skip_kpi:
        kpi_month(office)


if __name__ == "__main__":
    main()
