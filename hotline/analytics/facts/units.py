"""Per-unit facts: the unit reports' measures (unit efficiency, satisfaction by unit) pre-aggregated per local day
of the row that puts it in a period, per scope and per grouping unit (`UnitFact`).

Each measure is the cross-tab's grouped form (`crosstab/grouped.py`): the same rows, the same unit, the same
numerator and denominator, written here once more in SQL and checked equal to it by
`tests/analytics/test_unit_facts.py` on a seeded dataset.

- `on_time_sign_for` (sign-for clocks by the day they started, the clock's assignment's unit): only the clocks
  of signed assignments are settled; an unsigned running clock becomes "late" when its deadline passes, so those
  are counted live (`read`).
- `on_time_completion` (reported assignments by the day of the report, their unit; on time when by the
  deadline or without one) and `average_handling_hours` (the same without copies; seconds from assignment to
  report, kept in microseconds).
- `satisfaction` (callbacks by their day, the case's main unit; satisfied ratings), `response_rate` and
  `solution_rate` (the same, over the callbacks that recorded the answer; contacted / solved).
- `redispatch_rate` (the office's dispatches — top-level main assignments — by the day they were made, their
  unit; re-dispatched when the case has a later dispatch round). A later 改派 changes the row of the dispatch's
  day: REASSIGN and APPROVE_RETURN mark the case's earlier days (`PAST_CHANGING_ACTIONS`).
- `redo_rate` counts distinct cases: a case called back on three days of a period is one case. Per (case, day
  with such an event) the row keeps the day of the case's previous such event (`prev_day`); the cases of a period
  [first, last] are then exactly its rows with no previous day, or one before `first` (each case is counted at
  its first event of the period). Two series: `redo_callback` (callbacks, the denominator) and `redo_redo`
  (events that sent the case back to be redone, the numerator).

Scopes as in `CaseFact`: the centre (0), and every unit of depth ≤ SCOPE_DEPTH above or at the row's own unit
(assignment measures, `Scope.in_units`) or above or at a unit given the case to handle (case measures,
`Scope.handled_here`). A day is recomputed when a case event of one of its cases is queued (`mark_unit_days`:
the days of that case's earlier events — reports, callbacks, dispatches — are the days its rows may sit on),
once the mark is a minute old (`MARK_DELAY_SECONDS`): the days before today lag a change by about a minute.
Only the actions that can change a day before today mark (`PAST_CHANGING_ACTIONS`).

The whole months before the current one are also kept added up (`UnitMonthFact`, `recompute_month`): a report
over a year reads about twelve months of rows per unit, the edges of the period from the daily rows.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Q, Sum

from hotline.cases.lifecycle import Action
from hotline.cases.models import (
    SATISFIED_RATINGS,
    Assignment,
    AssignmentRole,
    AssignmentStatus,
    Callback,
    Case,
    CaseEvent,
    CaseStatus,
)
from hotline.common import clock
from hotline.orgs.models import Unit
from hotline.sla.models import Clock, Stage

from ..measures import RESPONDED, SOLVED
from .build import SCOPE_DEPTH, day_bounds, local_day, month_of, months_to_sum, next_month
from .models import FactState, UnitFact, UnitFactDay, UnitMonthFact

Counts = dict[tuple[Any, ...], tuple[Any, int]]  # {raw keys: (numerator, denominator)}

SIGN_FOR = "on_time_sign_for"
COMPLETION = "on_time_completion"
HANDLING = "average_handling_hours"
SATISFACTION = "satisfaction"
RESPONSE = "response_rate"
SOLUTION = "solution_rate"
REDISPATCH = "redispatch_rate"
REDO = "redo_rate"
REDO_DEN, REDO_NUM = "redo_callback", "redo_redo"
MEASURES = (SIGN_FOR, COMPLETION, HANDLING, SATISFACTION, RESPONSE, SOLUTION, REDISPATCH, REDO)
# the callback measures: (the callbacks counted, the numerator's condition), on the callback `b`
CALLBACK_SERIES = {
    SATISFACTION: (
        "1 = 1",
        "b.rating IN ({})".format(", ".join(f"'{r}'" for r in sorted(SATISFIED_RATINGS))),
    ),
    RESPONSE: ("b.responded <> ''", f"b.responded = '{RESPONDED}'"),
    SOLUTION: ("b.solution <> ''", f"b.solution = '{SOLVED}'"),
}
# A marked day is recomputed once its mark is this old. Every event of an old case marks the days of the case's
# earlier events (a superset of the days its rows sit on), so the recent weeks are marked over and over on a busy
# day; a day's recompute is ~0.25 s of database CPU at 1,000,000 cases — at most once a minute per day.
MARK_DELAY_SECONDS = 60.0


def _local_date(column: str) -> tuple[str, list[Any]]:
    sql, params = connection.ops.datetime_cast_date_sql(column, (), settings.TIME_ZONE)
    return sql, list(params)


def _micros(later: str, earlier: str) -> str:
    if connection.vendor == "postgresql":
        return f"(EXTRACT(EPOCH FROM ({later} - {earlier})) * 1000000)::bigint"
    return f"django_timestamp_diff({later}, {earlier})"


def _ancestors() -> str:
    """unit id → each of its ancestors (itself included) of depth ≤ SCOPE_DEPTH."""
    unit = Unit._meta.db_table
    return f"""SELECT u.id AS unit_id, anc.id AS ancestor FROM {unit} u
                 JOIN {unit} anc ON anc.depth <= {int(SCOPE_DEPTH)}
                                AND substr(u.path, 1, length(anc.path)) = anc.path"""


def _handled_scopes(case_rows: str) -> str:
    """(case_id, scope) of the cases in `case_rows` (a SELECT of case ids): the centre and every scope unit
    above a unit given the case to handle (not a copy), each once."""
    assignment = Assignment._meta.db_table
    return f"""SELECT k.case_id, 0 AS scope FROM (SELECT DISTINCT case_id FROM ({case_rows}) k0) k
               UNION ALL
               SELECT DISTINCT a.case_id, m.ancestor FROM {assignment} a
                 JOIN ({_ancestors()}) m ON m.unit_id = a.unit_id
                WHERE a.role <> '{AssignmentRole.CC}' AND a.case_id IN ({case_rows})"""


def _own_rows(measure: str, where: str, where_params: list[Any]) -> tuple[str, list[Any]]:
    """SELECT day, scope, unit_id, prev_day, n, num of an assignment measure: rows credited to the centre and to
    every scope unit above (or at) the row's own unit. `where` filters the measure's time column (`{t}`)."""
    assignment, clock_table = Assignment._meta.db_table, Clock._meta.db_table
    if measure == SIGN_FOR:
        day, params = _local_date("c.started_at")
        rows = f"""SELECT {day} AS day, a.unit_id AS unit_id, 1 AS n,
                          CASE WHEN a.signed_at <= c.due_at THEN 1 ELSE 0 END AS num
                     FROM {clock_table} c JOIN {assignment} a ON a.id = c.assignment_id
                    WHERE c.stage = '{Stage.SIGN_FOR}' AND a.signed_at IS NOT NULL
                      AND {where.format(t="c.started_at")}"""
    elif measure == REDISPATCH:
        # the office's dispatches (top-level main assignments) by the day they were made; re-dispatched when the
        # case has a later dispatch round (measures.REDISPATCHED)
        day, params = _local_date("a.assigned_at")
        rows = f"""SELECT {day} AS day, a.unit_id AS unit_id, 1 AS n,
                          CASE WHEN k.dispatch_round > a.round THEN 1 ELSE 0 END AS num
                     FROM {assignment} a JOIN {Case._meta.db_table} k ON k.id = a.case_id
                    WHERE a.parent_id IS NULL AND a.role = '{AssignmentRole.MAIN}'
                      AND {where.format(t="a.assigned_at")}"""
    else:
        day, params = _local_date("a.finished_at")
        if measure == COMPLETION:
            value = "CASE WHEN a.due_at IS NULL OR a.finished_at <= a.due_at THEN 1 ELSE 0 END"
            cc = ""
        else:
            value, cc = _micros("a.finished_at", "a.assigned_at"), f" AND a.role <> '{AssignmentRole.CC}'"
        rows = f"""SELECT {day} AS day, a.unit_id AS unit_id, 1 AS n, {value} AS num
                     FROM {assignment} a
                    WHERE a.status = '{AssignmentStatus.REPORTED}'{cc} AND {where.format(t="a.finished_at")}"""
    # added up per (day, unit) once, then credited to the centre and to each scope unit above the unit
    sql = f"""WITH r AS (SELECT day, unit_id, SUM(n) AS n, SUM(num) AS num FROM ({rows}) r0 GROUP BY day, unit_id)
              SELECT r.day AS day, 0 AS scope, r.unit_id AS unit_id, CAST(NULL AS DATE) AS prev_day, r.n AS n,
                     r.num AS num FROM r
              UNION ALL
              SELECT r.day, m.ancestor, r.unit_id, CAST(NULL AS DATE), r.n, r.num
                FROM r JOIN ({_ancestors()}) m ON m.unit_id = r.unit_id"""
    return sql, params + where_params


def _callbacks(series: str, where: str, where_params: list[Any]) -> tuple[str, list[Any]]:
    """A callback measure (satisfaction, response, solution: `CALLBACK_SERIES`) per day, scope and main unit."""
    callback, case = Callback._meta.db_table, Case._meta.db_table
    day, params = _local_date("b.created_at")
    counted, hit = CALLBACK_SERIES[series]
    rows = f"""SELECT {day} AS day, b.case_id AS case_id, 1 AS n,
                      CASE WHEN {hit} THEN 1 ELSE 0 END AS num
                 FROM {callback} b WHERE {counted} AND {where.format(t="b.created_at")}"""
    ids = f"SELECT b.case_id FROM {callback} b WHERE {counted} AND {where.format(t='b.created_at')}"
    sql = f"""SELECT r.day AS day, s.scope AS scope, k.main_unit_id AS unit_id, CAST(NULL AS DATE) AS prev_day, SUM(r.n) AS n,
                     SUM(r.num) AS num
                FROM ({rows}) r
                JOIN ({_handled_scopes(ids)}) s ON s.case_id = r.case_id
                JOIN {case} k ON k.id = r.case_id
               GROUP BY r.day, s.scope, k.main_unit_id"""
    return sql, params + where_params + where_params + where_params


def _redo(
    series: str, where: str, where_params: list[Any], bounds: tuple[Any, Any, dt.date, dt.date] | None
) -> tuple[str, list[Any]]:
    """Per (day, scope, main unit, previous day) the number of cases with a `series` event that day whose previous
    such event was on `prev_day` (NULL: none before). `bounds`: (start, end, first day, last day) of the range."""
    event, case = CaseEvent._meta.db_table, Case._meta.db_table
    if series == REDO_DEN:
        cond = "e.action = 'callback'"
    else:
        cond = f"e.action IN ('callback', 'supervision_opinion') AND e.to_status = '{CaseStatus.REDO}'"
    day, day_params = _local_date("e.at")
    # the cases with an event in the range, and each of their such events up to its end (the previous day)
    ids = f"SELECT e.case_id FROM {event} e WHERE {cond} AND {where.format(t='e.at')}"
    upto, upto_params = ("", []) if bounds is None else (" AND e.at < %s", [bounds[1]])
    days = f"""SELECT DISTINCT e.case_id, {day} AS day FROM {event} e
                WHERE {cond}{upto} AND e.case_id IN ({ids})"""
    lagged = f"""SELECT d.case_id, d.day, LAG(d.day) OVER (PARTITION BY d.case_id ORDER BY d.day) AS prev_day
                   FROM ({days}) d"""
    in_range, range_params = "1 = 1", []
    if bounds is not None:
        ops = connection.ops
        in_range = "p.day >= %s AND p.day <= %s"
        range_params = [ops.adapt_datefield_value(bounds[2]), ops.adapt_datefield_value(bounds[3])]
    sql = f"""SELECT p.day AS day, s.scope AS scope, k.main_unit_id AS unit_id, p.prev_day AS prev_day,
                     COUNT(*) AS n, 0 AS num
                FROM ({lagged}) p
                JOIN ({_handled_scopes(ids)}) s ON s.case_id = p.case_id
                JOIN {case} k ON k.id = p.case_id
               WHERE {in_range}
               GROUP BY p.day, s.scope, k.main_unit_id, p.prev_day"""
    params = day_params + upto_params + where_params + where_params + where_params + range_params
    return sql, params


def _select(series: str, start: dt.datetime | None, end: dt.datetime | None) -> tuple[str, list[Any]]:
    """SELECT day, scope, unit_id, prev_day, n, num of one series over the rows whose time is in [start, end)
    (every row without bounds)."""
    ops = connection.ops
    bounds: tuple[Any, Any, dt.date, dt.date] | None = None
    if start is None or end is None:
        where, params = "1 = 1", list[Any]()
    else:
        where = "{t} >= %s AND {t} < %s"
        params = [ops.adapt_datetimefield_value(start), ops.adapt_datetimefield_value(end)]
        bounds = (params[0], params[1], local_day(start), local_day(end - dt.timedelta(microseconds=1)))
    if series in (SIGN_FOR, COMPLETION, HANDLING, REDISPATCH):
        return _own_rows(series, where, params)
    if series in CALLBACK_SERIES:
        return _callbacks(series, where, params)
    return _redo(series, where, params, bounds)


SERIES = (SIGN_FOR, COMPLETION, HANDLING, SATISFACTION, RESPONSE, SOLUTION, REDISPATCH, REDO_DEN, REDO_NUM)


def _insert(series: str, start: dt.datetime | None, end: dt.datetime | None) -> None:
    sql, params = _select(series, start, end)
    table = UnitFact._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (day, scope, unit_id, prev_day, n, num, measure) "
            f"SELECT f.day, f.scope, f.unit_id, f.prev_day, f.n, f.num, %s FROM ({sql}) f",
            [series, *params],
        )


def _no_jit() -> None:
    """PostgreSQL: no JIT compilation for the statements of this transaction. These statements look costly to
    the planner (the disabled nested loops of a full build count 10^10 each) and were compiled for seconds each,
    even over a test's few rows."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL jit = off")


def recompute_day(day: dt.date) -> None:
    """Replace one day's unit facts (its mark removed first, in the same transaction, as `build.recompute_day`)."""
    start, end = day_bounds(day)
    with transaction.atomic():
        _no_jit()
        UnitFactDay.objects.filter(day=day).delete()
        UnitFact.objects.filter(day=day).delete()
        for series in SERIES:
            _insert(series, start, end)


def recompute_month(month: dt.date) -> None:
    """Replace one month's monthly unit rows by the sum of its daily rows (one INSERT … SELECT)."""
    daily, monthly = UnitFact._meta.db_table, UnitMonthFact._meta.db_table
    ops = connection.ops
    with transaction.atomic():
        UnitMonthFact.objects.filter(month=month).delete()
        with connection.cursor() as cursor:
            cursor.execute(
                f"""INSERT INTO {monthly} (month, scope, measure, unit_id, prev_day, n, num)
                    SELECT %s, scope, measure, unit_id, prev_day, SUM(n), SUM(num) FROM {daily}
                     WHERE day >= %s AND day < %s
                     GROUP BY scope, measure, unit_id, prev_day""",
                [ops.adapt_datefield_value(d) for d in (month, month, next_month(month))],
            )


def bring_months_up_to_date(days: list[dt.date] | None = None) -> list[dt.date]:
    """Monthly unit rows for every whole month before the current one not yet summed, and again for the months
    of `days` (recomputed daily rows) already summed. Returns the months recomputed."""
    state = FactState.objects.filter(pk=1).first()
    if state is None or state.units_built_at is None:
        return []
    through = state.unit_months_through
    months, last_whole = months_to_sum(
        days,
        through=through,
        first_day=lambda: UnitFact.objects.order_by("day").values_list("day", flat=True).first(),
    )
    for month in months:
        recompute_month(month)
    if through is None or last_whole > through:
        FactState.objects.filter(pk=1).update(unit_months_through=last_whole)
    return months


def rebuild() -> int:
    """Every day's unit facts from scratch (PostgreSQL: one statement per series; elsewhere day by day)."""
    with transaction.atomic():
        UnitFactDay.objects.all().delete()
        UnitFact.objects.all().delete()
        UnitMonthFact.objects.all().delete()
        FactState.objects.filter(pk=1).update(unit_months_through=None)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # every row at once: hash joins (as `build.rebuild`: the planner misjudges the unit-ancestor join)
                cursor.execute("SET LOCAL enable_nestloop = off")
                cursor.execute("SET LOCAL work_mem = '256MB'")
            _no_jit()
            for series in SERIES:
                _insert(series, None, None)
        else:
            first = Case.objects.order_by("created_at").values_list("created_at", flat=True).first()
            if first is not None:
                day, last = local_day(first), local_day(clock.now())
                while day <= last:
                    recompute_day(day)
                    day += dt.timedelta(days=1)
    return UnitFact.objects.count()


# What each case action can do to the unit facts of the days before today (the rows above: sign-for clocks by
# their start, reported assignments by their report, callbacks and redo events by their day, credited to the
# case's main unit and to the scopes of every unit given the case to handle).
# - It can change them: it signs for an assignment whose clock started earlier; it adds a unit to handle the case
#   or changes its main unit (the scopes and grouping unit of its earlier callbacks and redo events); it reopens
#   an assignment reported earlier (that report's completion row goes); merging moves a request between cases.
PAST_CHANGING_ACTIONS = frozenset(
    {
        Action.DISPATCH,
        Action.REASSIGN,
        Action.APPROVE_RETURN,
        Action.FORWARD,
        Action.ADD_ASSISTING,
        Action.SIGN_FOR,
        Action.SEND_BACK,  # its parent back to handling, its siblings cancelled (rare; marked to be safe)
        Action.REJECT_RETURN,  # reopens the returned assignment
        Action.RETURN_OPINION,  # reopens an assisting unit's reported opinion
        Action.REVIEW_REJECT,  # reopens the main assignment reported earlier
        Action.SUPERVISION_OPINION,  # idem
        Action.CALLBACK,  # only when it sends the case to be redone (`_changes_past_days`): reopens the main
        Action.MERGE,
        Action.MERGE_IN,
        Action.UNMERGE,
        Action.UNMERGE_OUT,
    }
)
# - It cannot: it writes only rows of today (a report or an assisting opinion finishes its assignment now, a
#   callback that closes the case is a row of today), touches what no unit fact reads (notes, reminders, warnings
#   and cards of the deadline sweep — most events of old cases —, messages, marks, extensions of open
#   assignments, which have no completion row yet) or comes before any dispatch. An action in neither set (a
#   kind added later) marks, as every event did before.
PAST_KEEPING_ACTIONS = frozenset(
    {
        Action.CREATE,
        Action.SAVE_DRAFT,
        Action.SUBMIT,
        Action.ARCHIVE,
        Action.PROPOSE_NOT_ACCEPTED,
        Action.CONFIRM_NOT_ACCEPTED,
        Action.REJECT_NOT_ACCEPTED,
        Action.RETURN_TO_AGENT,
        Action.CLOSE_DIRECTLY,
        Action.ASK_LEADER,
        Action.LEADER_INSTRUCT,
        Action.RECORD_HANDLING,
        Action.REPORT,
        Action.RETURN_TO_OFFICE,  # the open assignment waits for the office's ruling: no row of an earlier day
        Action.REQUEST_EXTENSION,
        Action.DECIDE_EXTENSION,  # moves the deadlines of open assignments only
        Action.GIVE_OPINION,
        Action.REVIEW_ACCEPT,
        Action.OFFICE_CLOSE,  # cancels the open assignments (no completion row; their units stay handling units)
        Action.SET_CLOSE_MARKS,
        Action.SET_VIOLATION,
        Action.RESET_PASSWORD,
        Action.URGE,
        Action.SMS_CITIZEN,
        Action.EMERGENCY_TRANSFER,
        Action.EMERGENCY_FEEDBACK,
        Action.CITIZEN_MESSAGE,
        Action.SLA_WARNING,
        Action.SLA_YELLOW,
        Action.SLA_RED,
        Action.SLA_REMINDER,
    }
)


def _changes_past_days(event: Any) -> bool:
    if event.action == Action.CALLBACK:
        return bool(event.to_status == CaseStatus.REDO)  # satisfied: closed; twice dissatisfied: supervised
    return event.action not in PAST_KEEPING_ACTIONS


def mark_unit_days(*, events: list[Any], **_: Any) -> None:
    """Queued receiver of every case event, once per batch: for the events that can change a day before today
    (`PAST_CHANGING_ACTIONS`), the days before today of their cases' events (reports, callbacks, dispatches:
    where their unit facts may sit) must be recomputed — a case's main unit, its handling units, an assignment's
    report or signing change figures filed on those days."""
    from django.db.models.functions import TruncDate

    midnight = day_bounds(local_day(clock.now()))[0]
    ids = {
        event.case_id
        for event in events
        if _changes_past_days(event) and event.case.created_at < midnight  # today's cases: no old days
    }
    if not ids:
        return
    days = (
        CaseEvent.objects.filter(case_id__in=ids, at__lt=midnight)
        .annotate(day=TruncDate("at"))
        .values_list("day", flat=True)
        .distinct()
    )
    now = clock.now()
    UnitFactDay.objects.bulk_create(
        [UnitFactDay(day=d, marked_at=now) for d in set(days)], ignore_conflicts=True
    )


# --------------------------------------------------------------------------- reading


def live_redo(scope_key: int, start: dt.datetime, end: dt.datetime) -> list[tuple[Any, ...]]:
    """Today's redo rows (day, unit_id, prev_day, series, n) for one scope, computed like the facts."""
    out = []
    for series in (REDO_DEN, REDO_NUM):
        sql, params = _select(series, start, end)
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT f.day, f.unit_id, f.prev_day, f.n FROM ({sql}) f WHERE f.scope = %s",
                [*params, scope_key],
            )
            out += [(d, u, p, series, n) for d, u, p, n in cursor.fetchall()]
    return out


def redo_counts(rows: list[tuple[Any, ...]], first: dt.date, key_of: Any) -> dict[tuple[Any, ...], list[int]]:
    """(numerator, denominator) per key from redo rows (day, unit_id, prev_day, series, n): a case counts at its
    first event of the period (no previous day, or one before `first`)."""
    out: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])
    for day, unit_id, prev_day, series, n in rows:
        if prev_day is not None:
            if isinstance(prev_day, str):
                prev_day = dt.date.fromisoformat(prev_day)
            if prev_day >= first:
                continue
        if isinstance(day, str):
            day = dt.date.fromisoformat(day)
        out[key_of(day, unit_id)][0 if series == REDO_NUM else 1] += n
    return out


def usable(scope: Any) -> bool:
    from . import read

    if not read.usable(scope):
        return False
    return FactState.objects.filter(pk=1, units_built_at__isnull=False).exists()


def counts(
    scope: Any,
    measure: str,
    by: tuple[str, ...],
    *,
    live: Callable[[Any], Counts],
    live_before: Callable[[Any], Counts] | None = None,
) -> Counts | None:
    """One unit measure of `scope` grouped by `by` ("unit": the grouping unit's id; "day" / "week" / "month"):
    the days before today from the facts, today from `live(scope from midnight)` (the direct query; for the redo
    rate the facts' own query over today's events, so that a case is still counted once), and
    `live_before(scope until midnight)` added (the sign-for clocks not settled yet). None when the facts cannot
    answer (not built, a deep scope, a period not on whole days)."""
    from . import read

    if measure not in MEASURES or not usable(scope):
        return None
    key = read.scope_key(scope)
    assert key is not None
    today = local_day(scope.now)
    midnight = day_bounds(today)[0]
    if day_bounds(local_day(scope.start))[0] != scope.start:
        return None
    if scope.end <= midnight and day_bounds(local_day(scope.end))[0] != scope.end:
        return None
    period_first = local_day(scope.start)
    first, last = (
        period_first,
        min(local_day(scope.end - dt.timedelta(microseconds=1)), today - dt.timedelta(days=1)),
    )

    def key_of(day: Any, unit_id: Any) -> tuple[Any, ...]:
        return tuple(unit_id if b == "unit" else read._bucket(b, day) for b in by)

    # numerators kept exact: integers (microseconds for the mean handling time) until the end
    micros = measure == HANDLING
    out: dict[tuple[Any, ...], list[int]] = defaultdict(lambda: [0, 0])

    def add(counts: Counts) -> None:
        for k, (num, den) in counts.items():
            if micros and num:
                num = round(float(num) * 1_000_000)
            out[k][0] += int(num or 0)
            out[k][1] += int(den or 0)

    series = (REDO_DEN, REDO_NUM) if measure == REDO else (measure,)
    if first <= last:
        # whole months from the monthly rows when the grouping is no finer than a month, the edges from the
        # daily rows
        parts: list[tuple[Any, str, Q]] = [(UnitFact, "day", Q(day__gte=first, day__lte=last))]
        through = FactState.objects.filter(pk=1).values_list("unit_months_through", flat=True).first()
        if through is not None and "day" not in by and "week" not in by:
            m_first = first if first.day == 1 else next_month(first)
            m_last = min(month_of(last + dt.timedelta(days=1)), next_month(through)) - dt.timedelta(days=1)
            if m_first <= m_last:
                parts = [
                    (UnitMonthFact, "month", Q(month__gte=m_first, month__lte=m_last)),
                    (UnitFact, "day", Q(day__gte=first, day__lt=m_first) | Q(day__gt=m_last, day__lte=last)),
                ]
        for model, time_column, period in parts:
            qs = model.objects.filter(period, scope=key, measure__in=series)
            if measure == REDO:
                qs = qs.filter(Q(prev_day__isnull=True) | Q(prev_day__lt=period_first))
            columns = ["measure"]
            if "unit" in by:
                columns.append("unit_id")
            if any(b in read.TIME_KEYS for b in by):
                columns.append(time_column)
            for r in qs.values(*columns).annotate(n_=Sum("n"), num_=Sum("num")).order_by():
                k = key_of(r.get(time_column), r.get("unit_id"))
                if measure == REDO:
                    out[k][0 if r["measure"] == REDO_NUM else 1] += int(r["n_"] or 0)
                else:
                    out[k][0] += int(r["num_"] or 0)
                    out[k][1] += int(r["n_"] or 0)
    if scope.end > midnight:
        today_scope = dataclasses.replace(scope, start=max(scope.start, midnight))
        if measure == REDO:
            rows = live_redo(key, today_scope.start, today_scope.end)
            for k, (num, den) in redo_counts(rows, period_first, key_of).items():
                out[k][0] += num
                out[k][1] += den
        else:
            add(live(today_scope))
    if live_before is not None and scope.start < midnight:
        add(live_before(dataclasses.replace(scope, end=min(scope.end, midnight))))
    result: Counts = {}
    for k, (num, den) in out.items():
        result[k] = ((num / 1_000_000) if micros else num, den)
    return result


def refresh(*, limit: int = 200, safety: bool = False) -> int:
    """Part of the `analytics-facts` job: a full build the first time, then the marked days (oldest first) and,
    with `safety`, today and yesterday. Returns the number of days recomputed (-1: a full build)."""
    state = FactState.objects.filter(pk=1).first()
    if state is None or state.units_built_at is None:
        rebuild()
        FactState.objects.update_or_create(pk=1, defaults={"units_built_at": clock.now()})
        bring_months_up_to_date()
        return -1
    # a mark waits MARK_DELAY_SECONDS: the events of a busy minute on a day's cases cost one recompute of it
    due = clock.now() - dt.timedelta(seconds=MARK_DELAY_SECONDS)
    days = list(
        UnitFactDay.objects.filter(marked_at__lte=due)
        .order_by("marked_at")
        .values_list("day", flat=True)[:limit]
    )
    if safety:
        today = local_day(clock.now())
        days += [d for d in (today, today - dt.timedelta(days=1)) if d not in days]
    for day in days:
        recompute_day(day)
    bring_months_up_to_date(days)  # the months of the days just recomputed, and a month just ended
    return len(days)
