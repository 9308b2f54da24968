"""Computing the facts from the case tables: one local day at a time (the same SQL on SQLite and PostgreSQL), or
every day at once on PostgreSQL (a full build); the monthly rows from the daily ones (every whole month before
the current one, again whenever one of its days is recomputed); and the `analytics-facts` job that keeps them up
to date."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from hotline.cases.models import Assignment, AssignmentRole, Case, CaseStatus, CloseKind
from hotline.common import clock
from hotline.orgs.models import Unit

from .models import AreaFact, CaseFact, CaseMonthFact, FactDay, FactState

# Units this deep or higher get their own rows (districts, city bureaus, streets, district bureaus); a deeper
# unit's figures are few enough to count directly.
SCOPE_DEPTH = 2
# Today and yesterday are recomputed this often even without a marked change (a change written without a case
# event); every other day only when marked.
SAFETY_SECONDS = 60.0
DIMENSIONS = ("case_type_id", "district_id", "bureau_id", "channel", "status", "urgency_id", "nature_id")


# the place where a case happened, kept apart (its ~140 values would multiply the main rows): the by-place report
AREA_DIMENSIONS = ("location_unit_id",)


def _sql(day_expr: str, where: str, model: Any = CaseFact, dimensions: tuple[str, ...] = DIMENSIONS) -> str:
    """INSERT … SELECT of the facts of the cases matching `where` (`{alias}` is the case table's alias), dated by
    `day_expr`: each case once for the centre, and once per unit of depth ≤ SCOPE_DEPTH above (or at) a unit it
    was given to handle."""
    fact, case = model._meta.db_table, Case._meta.db_table
    assignment, unit = Assignment._meta.db_table, Unit._meta.db_table
    cols = ", ".join(f"{{alias}}.{d}" for d in dimensions)
    answered = "CASE WHEN {alias}.close_kind = %(answered)s THEN 1 ELSE 0 END"
    named = ", ".join(f"{{alias}}.{d} AS {d}" for d in dimensions)
    centre = (
        f"SELECT {day_expr} AS day_key, 0 AS scope, {named}, {answered} AS answered FROM {case} {{alias}} "
        f"WHERE {where}"
    ).format(alias="c0")
    units = f"""SELECT {day_expr}, p.ancestor, {cols}, {answered}
          FROM (SELECT DISTINCT a.case_id, m.ancestor
                  FROM {assignment} a
                  JOIN (SELECT u.id AS unit_id, anc.id AS ancestor FROM {unit} u
                          JOIN {unit} anc ON anc.depth <= %(depth)s
                                         AND substr(u.path, 1, length(anc.path)) = anc.path) m
                    ON m.unit_id = a.unit_id
                 WHERE a.role <> %(cc)s AND a.case_id IN (SELECT {{alias}}.id FROM {case} {{alias}} WHERE {where})) p
          JOIN {case} {{alias}} ON {{alias}}.id = p.case_id""".format(alias="c1")
    columns = ", ".join(dimensions)
    return f"""
        INSERT INTO {fact} (day, scope, {columns}, n, answered)
        SELECT day_key, scope, {columns}, COUNT(*) AS n, SUM(answered) AS answered
          FROM ({centre} UNION ALL {units}) f
         GROUP BY day_key, scope, {columns}"""


def _params(**extra: Any) -> dict[str, Any]:
    return {
        "answered": CloseKind.ANSWERED,
        "depth": SCOPE_DEPTH,
        "cc": AssignmentRole.CC,
        "draft": CaseStatus.DRAFT,
        **extra,
    }


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = timezone.get_current_timezone()
    return dt.datetime.combine(day, dt.time.min, tz), dt.datetime.combine(
        day + dt.timedelta(days=1), dt.time.min, tz
    )


def local_day(moment: dt.datetime) -> dt.date:
    return timezone.localtime(moment).date()


def recompute_day(day: dt.date) -> None:
    """Replace one day's facts. The day's mark is removed first, in the same transaction: a change committed
    after this statement's snapshot marks the day again (its mark waits for this transaction), none is lost."""
    start, end = day_bounds(day)
    where = "{alias}.created_at >= %(start)s AND {alias}.created_at < %(end)s AND {alias}.status <> %(draft)s"
    with transaction.atomic():
        FactDay.objects.filter(day=day).delete()
        CaseFact.objects.filter(day=day).delete()
        AreaFact.objects.filter(day=day).delete()
        with connection.cursor() as cursor:
            ops = connection.ops
            params = _params(
                day=ops.adapt_datefield_value(day),
                start=ops.adapt_datetimefield_value(start),
                end=ops.adapt_datetimefield_value(end),
            )
            cursor.execute(_sql("%(day)s", where), params)
            cursor.execute(_sql("%(day)s", where, AreaFact, AREA_DIMENSIONS), params)


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def months_to_sum(
    days: list[dt.date] | None, *, through: dt.date | None, first_day: Callable[[], dt.date | None]
) -> tuple[list[dt.date], dt.date]:
    """The months a monthly rollup summed `through` a month must (re)sum: those of `days` (recomputed daily rows)
    it already holds, then every whole month before the current one it does not hold yet (from the month of
    `first_day()`, the first daily row, when it holds none). Returns them and the last whole month."""
    last_whole = month_of(month_of(local_day(clock.now())) - dt.timedelta(days=1))
    months = sorted({month_of(d) for d in days or [] if through is not None and month_of(d) <= through})
    if through is None:
        first = first_day()
        month = month_of(first) if first is not None else last_whole
    else:
        month = next_month(through)
    while month <= last_whole:
        months.append(month)
        month = next_month(month)
    return months, last_whole


def recompute_month(month: dt.date) -> None:
    """Replace one month's monthly rows by the sum of its daily rows (one INSERT … SELECT)."""
    fact, monthly = CaseFact._meta.db_table, CaseMonthFact._meta.db_table
    columns = ", ".join(DIMENSIONS)
    ops = connection.ops
    with transaction.atomic():
        CaseMonthFact.objects.filter(month=month).delete()
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {monthly} (month, scope, {columns}, n, answered)
                    SELECT %s, scope, {columns}, SUM(n), SUM(answered) FROM {fact}
                     WHERE day >= %s AND day < %s
                     GROUP BY scope, {columns}""",
                [ops.adapt_datefield_value(d) for d in (month, month, next_month(month))],
            )


def bring_months_up_to_date(days: list[dt.date] | None = None) -> list[dt.date]:
    """Monthly rows for every whole month before the current one not yet summed, and again for the months of
    `days` (recomputed daily rows) already summed. Returns the months recomputed."""
    state = FactState.objects.filter(pk=1).first()
    if state is None or state.built_at is None:
        return []
    through = state.months_through
    months, last_whole = months_to_sum(
        days,
        through=through,
        first_day=lambda: CaseFact.objects.order_by("day").values_list("day", flat=True).first(),
    )
    for month in months:
        recompute_month(month)
    if through is None or last_whole > through:
        FactState.objects.filter(pk=1).update(months_through=last_whole)
    return months


def rebuild() -> int:
    """Every day's facts from scratch; returns the number of fact rows. PostgreSQL: one statement; elsewhere a
    statement per day (the demo city's few days)."""
    with transaction.atomic():
        FactDay.objects.all().delete()
        CaseFact.objects.all().delete()
        CaseMonthFact.objects.all().delete()
        AreaFact.objects.all().delete()
        if connection.vendor == "postgresql":
            day_sql, where = "({alias}.created_at AT TIME ZONE %(tz)s)::date", "{alias}.status <> %(draft)s"
            with connection.cursor() as cursor:
                # every case at once: hash joins (the planner misjudges the unit-ancestor join and would probe
                # the assignments unit by unit)
                cursor.execute("SET LOCAL enable_nestloop = off")
                cursor.execute("SET LOCAL work_mem = '256MB'")
                cursor.execute("SET LOCAL jit = off")  # the disabled nested loops' cost made it compile
                cursor.execute(_sql(day_sql, where), _params(tz=settings.TIME_ZONE))
                cursor.execute(
                    _sql(day_sql, where, AreaFact, AREA_DIMENSIONS), _params(tz=settings.TIME_ZONE)
                )
        else:
            first = Case.objects.order_by("created_at").values_list("created_at", flat=True).first()
            if first is not None:
                day, last = local_day(first), local_day(clock.now())
                while day <= last:
                    recompute_day(day)
                    day += dt.timedelta(days=1)
        from . import units

        units.rebuild()
        now = clock.now()
        FactState.objects.update_or_create(
            pk=1,
            defaults={
                "built_at": now,
                "refreshed_at": now,
                "months_through": None,
                "units_built_at": now,
                "unit_months_through": None,
            },
        )
        bring_months_up_to_date()
        units.bring_months_up_to_date()
    return CaseFact.objects.count()


def mark_case_day(*, case: Case, **_: Any) -> None:
    """The day `case` was registered must be recomputed."""
    FactDay.objects.bulk_create(
        [FactDay(day=local_day(case.created_at), marked_at=clock.now())], ignore_conflicts=True
    )


def mark_case_days(*, events: list[Any], **_: Any) -> None:
    """Queued receiver of every case event, once per batch of events: the days their cases were registered must
    be recomputed (one statement for the batch, each day once)."""
    from .units import mark_unit_days

    now = clock.now()
    days = sorted({local_day(event.case.created_at) for event in events})
    FactDay.objects.bulk_create([FactDay(day=day, marked_at=now) for day in days], ignore_conflicts=True)
    mark_unit_days(events=events)


_last_safety = [0.0]


def refresh(*, limit: int = 200) -> int:
    """The `analytics-facts` job: a full build the first time, then the marked days (oldest mark first) and,
    once a minute, today and yesterday. Returns the number of days recomputed."""
    if not getattr(settings, "HOTLINE_ANALYTICS_FACTS", True):
        return 0
    state = FactState.objects.filter(pk=1).first()
    if state is None or state.built_at is None:
        rebuild()
        return -1
    from . import units

    days = list(FactDay.objects.order_by("marked_at").values_list("day", flat=True)[:limit])
    safety = time.monotonic() - _last_safety[0] > SAFETY_SECONDS
    if safety:
        _last_safety[0] = time.monotonic()
        today = local_day(clock.now())
        days += [d for d in (today, today - dt.timedelta(days=1)) if d not in days]
    for day in days:
        recompute_day(day)
    bring_months_up_to_date(days)  # the months of the days just recomputed, and a month just ended
    done = units.refresh(limit=limit, safety=safety)  # the unit facts (first time: built in full)
    FactState.objects.filter(pk=1).update(refreshed_at=clock.now())
    return len(days) + max(done, 0)
