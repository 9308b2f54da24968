"""Issue 15 at scale: every figure beside its target, over a database grown by `bench/scale_load.py`
(10,000,000 cases, 50,000,000 calls), the daily facts (hotline/analytics/facts) against the direct queries.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/i15scale_bench
    nice -n 10 python -m bench.analytics_scale_bench [--runs 5] [--rebuild] [--mv] [--direct]

Targets: a year's case report p99 < 2 s; the cross-tab type × district × month < 2 s; the big screen's refresh
< 300 ms server time; a month's assessment of every unit < 60 s.

Two ways of keeping the figures pre-aggregated are measured:
  B. a materialized view of the same daily facts, refreshed by a job (`--mv`: its refresh is the whole
     aggregate again — the staleness of a figure is the job's interval plus that);
  C. the fact table kept up to date after each change (what is wired): a queued receiver marks the changed
     case's day (one insert-or-ignore per case event, measured), the `analytics-facts` job recomputes marked days
     (one day measured) — a figure is behind by the jobs' cadence (1 s + 5 s) plus a day's recompute.
`--direct` also times the direct queries (the facts switched off) once each and checks every table equal.

Each line: p50 and p99 (the worst of the runs) wall, CPU of this process (app) and of its PostgreSQL backend
(DB; parallel workers not included), and the load average. Wall times on a shared machine are upper bounds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection
from django.utils import timezone

from bench import require_postgresql
from bench.screen_bench import backend_cpu_ms
from hotline.analytics import bigscreen
from hotline.analytics.crosstab import engine
from hotline.analytics.facts import build, read, units
from hotline.analytics.facts.models import CaseFact, FactState
from hotline.analytics.kpi import services as kpi
from hotline.analytics.kpi.models import AssessmentPeriod, Indicator, Scheme
from hotline.analytics.measures import Scope
from hotline.analytics.reports import presets
from hotline.common import clock
from hotline.orgs.models import Role, Unit, User

MV = "i15_bench_case_daily_mv"


def timed(fn: Callable[[], Any], runs: int) -> tuple[list[float], list[float], list[float], Any]:
    walls, cpus, dbs, result = [], [], [], None
    for _ in range(runs):
        d0 = backend_cpu_ms()
        w, c = time.perf_counter(), time.process_time()
        result = fn()
        walls.append(time.perf_counter() - w)
        cpus.append(time.process_time() - c)
        dbs.append((backend_cpu_ms() - d0) / 1000)
    return walls, cpus, dbs, result


def line(label: str, walls: list[float], cpus: list[float], dbs: list[float], target: float | None) -> None:
    p50, p99 = statistics.median(walls), max(walls)
    verdict = "" if target is None else ("met" if p99 < target else "MISSED")
    unit, k = ("ms", 1000) if (target or 1) < 1 else ("s", 1)
    tgt = f"< {target * k:g} {unit} {verdict}" if target is not None else "(comparison)"
    print(
        f"{label:<64} p50 {p50 * k:8.2f} {unit}  p99 {p99 * k:8.2f} {unit}  app CPU {statistics.median(cpus) * k:7.2f}"
        f"  DB CPU {statistics.median(dbs) * k:7.2f}   target {tgt}   load {os.getloadavg()[0]:.1f}",
        flush=True,
    )


def rows_of(table: Any) -> list[Any]:
    return [(r.key, [(c.value, c.numerator, c.denominator) for c in r.cells]) for r in table.rows]


def year() -> dict[str, str]:
    today = timezone.localtime(clock.now()).date()
    return {"period": "custom", "from": (today - dt.timedelta(days=364)).isoformat(), "to": today.isoformat()}


def header() -> None:
    with connection.cursor() as cur:
        cur.execute(
            "SELECT relname, reltuples::bigint FROM pg_class WHERE relname IN "
            "('cases_case', 'cases_assignment', 'cases_callback', 'telephony_call', 'telephony_queuelog', "
            "'analytics_casefact')"
        )
        counts = dict(cur.fetchall())
        cur.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cur.fetchone()[0]
    print(
        f"database {connection.settings_dict['NAME']} ({size}): "
        + ", ".join(f"{k} ~{v:,}" for k, v in counts.items())
    )
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}; {os.cpu_count()} cores")


def freshness_costs(args: argparse.Namespace) -> None:
    print("\n-- keeping the facts up to date")
    if args.rebuild or read.state() is None:
        walls, cpus, dbs, rows = timed(build.rebuild, 1)
        line(f"C full build of the facts ({rows:,} rows)", walls, cpus, dbs, None)
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*), pg_size_pretty(pg_total_relation_size('analytics_casefact')) FROM analytics_casefact"
        )
        n, size = cur.fetchone()
    print(f"   fact table: {n:,} rows, {size}")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*), pg_size_pretty(pg_total_relation_size('analytics_casemonthfact')) "
            "FROM analytics_casemonthfact"
        )
        n, size = cur.fetchone()
    print(f"   monthly rollup: {n:,} rows, {size} (whole months through {read.state_months_through()})")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*), pg_size_pretty(pg_total_relation_size('analytics_unitfact')) FROM analytics_unitfact"
        )
        n, size = cur.fetchone()
    print(f"   unit facts (unit efficiency, satisfaction by unit): {n:,} rows, {size}")
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*), pg_size_pretty(pg_total_relation_size('analytics_unitmonthfact')) "
            "FROM analytics_unitmonthfact"
        )
        n, size = cur.fetchone()
    unit_through = FactState.objects.values_list("unit_months_through", flat=True).first()
    print(f"   unit facts' monthly rollup: {n:,} rows, {size} (whole months through {unit_through})")
    if args.rebuild:
        walls, cpus, dbs, rows = timed(units.rebuild, 1)
        line(f"C full build of the unit facts alone ({rows:,} rows)", walls, cpus, dbs, None)
    through = read.state_months_through()
    if through is not None:
        walls, cpus, dbs, _ = timed(lambda: build.recompute_month(through), 1)
        line(
            f"C recompute one month's rollup ({through:%Y-%m}, after a marked day in it)",
            walls,
            cpus,
            dbs,
            None,
        )
    if unit_through is not None:
        walls, cpus, dbs, _ = timed(lambda: units.recompute_month(unit_through), 1)
        line(f"C recompute one month's unit rollup ({unit_through:%Y-%m})", walls, cpus, dbs, None)
    today = timezone.localtime(clock.now()).date()
    days = iter([today - dt.timedelta(days=i) for i in range(1, 1 + args.runs)])
    walls, cpus, dbs, _ = timed(lambda: build.recompute_day(next(days)), args.runs)
    line("C recompute one marked day (a past day, ~13.7 k cases)", walls, cpus, dbs, None)
    days = iter([today - dt.timedelta(days=i) for i in range(1, 1 + args.runs)])
    walls, cpus, dbs, _ = timed(lambda: units.recompute_day(next(days)), args.runs)
    line("C recompute one marked day's unit facts", walls, cpus, dbs, None)
    walls, cpus, dbs, _ = timed(lambda: build.recompute_day(today), 1)
    line("C recompute today (so far)", walls, cpus, dbs, None)
    from hotline.cases.models import Case

    case = Case.objects.order_by("-id").first()
    assert case is not None
    walls, cpus, dbs, _ = timed(lambda: build.mark_case_day(case=case), 200)
    line("C mark a case's day (per case event, in the case-events job)", walls, cpus, dbs, None)
    build.FactDay.objects.all().delete()
    if args.mv:
        sql = build._sql("({alias}.created_at AT TIME ZONE %(tz)s)::date", "{alias}.status <> %(draft)s")
        select = "SELECT" + sql.split("SELECT", 1)[1]
        params = build._params(tz=settings.TIME_ZONE)
        with connection.cursor() as cur:
            cur.execute(f"DROP MATERIALIZED VIEW IF EXISTS {MV}")
            cur.execute(f"CREATE MATERIALIZED VIEW {MV} AS {cur.mogrify(select, params)} WITH NO DATA")

        def refresh() -> None:
            with connection.cursor() as cur:
                cur.execute("SET enable_nestloop = off")
                cur.execute(f"REFRESH MATERIALIZED VIEW {MV}")
                cur.execute("RESET enable_nestloop")

        walls, cpus, dbs, _ = timed(refresh, 1)
        line("B refresh the materialized view (every change waits for this)", walls, cpus, dbs, None)
        with connection.cursor() as cur:
            cur.execute(f"SELECT count(*), sum(n) FROM {MV} WHERE scope = 0")
            mv_rows, mv_n = cur.fetchone()
            cur.execute(f"DROP MATERIALIZED VIEW {MV}")
        fact_n = sum(CaseFact.objects.filter(scope=0).values_list("n", flat=True))
        print(f"   check: cases in the view {mv_n:,} / in the fact table {fact_n:,} -> "
              f"{'equal' if mv_n == fact_n else 'DIFFERENT'}")  # fmt: skip


def reports(args: argparse.Namespace, users: list[User]) -> None:
    print("\n-- case reports over a year (every STAT-2 preset), from the facts where they answer")
    y = year()
    for user in users:
        for preset in presets.presets():
            if args.presets and preset.key not in args.presets.split(","):
                continue
            if preset.centre_only and user.unit is not None and not user.in_office:
                continue
            params = {**preset.params, **y}

            def run(params: dict[str, Any] = params, user: User = user) -> Any:
                return engine.run(engine.parse(params, user=user))

            walls, cpus, dbs, table = timed(run, 1)
            if walls[0] < 10:  # a slow direct report is timed once (its p99 is that)
                walls, cpus, dbs, table = timed(run, args.runs)
            who = "city" if user.in_office else str(user.unit)
            src = "facts" if table.spec.facts_as_of else "direct"
            line(f"{who} {preset.key} [{src}]", walls, cpus, dbs, 2.0)
            if args.direct and src == "facts":
                with read.disabled():
                    walls, cpus, dbs, direct = timed(run, 1)
                same = "equal" if rows_of(direct) == rows_of(table) else "DIFFERENT"
                line(f"   same without the facts ({same})", walls, cpus, dbs, None)


def crosstab(args: argparse.Namespace, office: User) -> None:
    print("\n-- the cross-tab type × district × month over a year")
    y = year()
    spec = engine.parse(
        {**y, "rows": "case_type", "cols": "district", "measure": "intake_volume"}, user=office
    )
    by = ("case_type_id", "district_id", "month")

    def direct(scope: Scope) -> dict[tuple[Any, ...], tuple[Any, int]]:
        from django.db.models import Count
        from django.db.models.functions import TruncMonth

        from hotline.analytics import measures as m

        rows = (
            m._intake(scope)
            .annotate(month=TruncMonth("created_at"))
            .values("case_type_id", "district_id", "month")
            .annotate(n=Count("id"))
            .order_by()
        )
        return {(r["case_type_id"], r["district_id"], r["month"]): (0, r["n"]) for r in rows}

    walls, cpus, dbs, grid = timed(lambda: read.counts(spec.scope, by, live=direct), args.runs)
    assert grid is not None
    line(f"type × district × month ({len(grid):,} cells) [facts]", walls, cpus, dbs, 2.0)
    for cols in ("district", "month"):
        params = {**y, "rows": "case_type", "cols": cols, "measure": "intake_volume"}
        walls, cpus, dbs, table = timed(lambda p=params: engine.run(engine.parse(p, user=office)), args.runs)
        line(f"engine: type × {cols} (year, with links per cell) [facts]", walls, cpus, dbs, 2.0)
    if args.direct:
        walls, cpus, dbs, grid_d = timed(lambda: direct(spec.scope), 1)
        same = "equal" if grid_d == grid else "DIFFERENT"
        total = sum(v[1] for v in grid.values())
        line(f"   type × district × month directly ({same}; {total:,} cases)", walls, cpus, dbs, None)


def screen(args: argparse.Namespace) -> None:
    print("\n-- the big screen, one refresh (what a pushed update computes)")
    busiest = Unit.objects.filter(kind="district").order_by("pk").first()
    for label, unit in (("whole centre", None), (f"{busiest}", busiest)):
        bigscreen.snapshot(unit)  # warm-up (the slow figures' cache)
        walls, cpus, dbs, _ = timed(lambda unit=unit: bigscreen.snapshot(unit), args.runs * 2)
        line(f"big screen, {label}", walls, cpus, dbs, 0.3)
        walls, cpus, dbs, _ = timed(lambda unit=unit: bigscreen._state_figures(unit, clock.now()), args.runs)
        line("   its state part alone (open, overdue, ranking, calls today, hot topics; background)", walls, cpus,
             dbs, None)  # fmt: skip
        walls, cpus, dbs, _ = timed(lambda unit=unit: bigscreen.snapshot(unit, fresh=True), args.runs)
        line("   everything recomputed (state, 30-day and 14-day figures)", walls, cpus, dbs, None)


def assessment(office: User, depth: int) -> None:
    print(
        f"\n-- a month's assessment of every unit (scheme depth {depth}: units below it score their superiors)"
    )
    scheme, _ = Scheme.objects.get_or_create(
        name="bench 月度考核" if depth == 1 else f"bench 月度考核 depth {depth}",
        defaults={"depth": depth, "bands": [{"grade": "A", "min": 90}, {"grade": "B", "min": 75},
                                         {"grade": "C", "min": 60}, {"grade": "D", "min": 0}]},
    )  # fmt: skip
    # the unit indicators of KPI-2 (the last three since the tenth session: a scheme made before gets them added)
    have = set(scheme.indicators.values_list("measure", flat=True))
    for i, (measure, weight, full, zero) in enumerate(
        [("on_time_sign_for", 20, 100, 0), ("on_time_completion", 30, 100, 0), ("redo_rate", 20, 0, 30),
         ("satisfaction", 30, 100, 0), ("redispatch_rate", 10, 0, 30), ("response_rate", 10, 100, 0),
         ("solution_rate", 10, 100, 0)]
    ):  # fmt: skip
        if measure not in have:
            Indicator.objects.create(
                scheme=scheme, measure=measure, weight=weight, full_at=full, zero_at=zero, sort_order=i
            )
    today = timezone.localtime(clock.now()).date()
    last = today.replace(day=1) - dt.timedelta(days=1)
    period = AssessmentPeriod.objects.create(
        scheme=scheme,
        name=f"bench {last:%Y-%m} {time.time():.0f}",
        first_day=last.replace(day=1),
        last_day=last,
    )
    walls, cpus, dbs, scores = timed(lambda: kpi.compute(period=period, user=office), 1)
    line(f"assessment {last:%Y-%m}, every unit ({len(scores)} scores)", walls, cpus, dbs, 60.0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the facts first (timed)")
    parser.add_argument("--mv", action="store_true", help="time approach B: a materialized view refresh")
    parser.add_argument("--direct", action="store_true", help="time the direct queries once and compare")
    parser.add_argument("--only", default="", help="comma list: fresh,reports,crosstab,screen,kpi")
    parser.add_argument(
        "--kpi-depth", type=int, default=1, help="the assessed scheme's depth (3: every unit)"
    )
    parser.add_argument("--presets", default="", help="comma list of STAT-2 preset keys (default: every one)")
    args = parser.parse_args()
    require_postgresql()
    header()
    only = set(filter(None, args.only.split(",")))
    office = User.objects.filter(is_superuser=False, roles__role=Role.DISPATCHER).first()
    leader = User.objects.filter(roles__role=Role.UNIT_LEADER, unit__kind="district").first()
    assert office is not None and leader is not None
    if not only or "fresh" in only:
        freshness_costs(args)
    if not only or "reports" in only:
        reports(args, [office, leader])
    if not only or "crosstab" in only:
        crosstab(args, office)
    if not only or "screen" in only:
        screen(args)
    if not only or "kpi" in only:
        assessment(office, args.kpi_depth)
    print(f"\nload average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
