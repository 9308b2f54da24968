"""An assessment's indicators for every scored unit at once: one query per indicator over all units.

Computing each unit's figures with the measure's own unit-scoped query costs one query per unit and indicator
(285 s for a month at 10,000,000 cases, bench/analytics_scale_bench.py). Here each indicator is one grouped query
over the centre's rows of the measure (the cross-tab's grouped form, `crosstab/grouped.py`, whose row selection
and formula are the measure's), and each row is credited to the scored unit whose subtree holds it:

- measures over a unit's own rows (sign-for clocks, reported assignments, extension requests — `Scope.in_units`)
  are grouped by the row's unit and added up per scored unit (scored units' subtrees are disjoint, so a row
  belongs to at most one);
- measures over the cases a unit handled (`Scope.handled_here`: intake, redo, satisfaction) join their rows to
  the distinct (case, scored unit) pairs of the cases' assignments (not copies), so a case handled by two units
  of one subtree counts once for it, as in the unit's own query.

`tests/analytics/test_kpi.py` checks every indicator equal to the measure computed unit by unit.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from collections.abc import Callable, Iterable
from typing import Any

from django.db import connection
from django.db.models import Case as DbCase
from django.db.models import F, IntegerField, Q, QuerySet, When

from hotline.cases.models import SATISFIED_RATINGS, Assignment, AssignmentRole, CaseStatus
from hotline.orgs.models import Unit

from .. import measures as m
from ..crosstab import grouped as g
from ..measures import Figure, Scope

# measures over the unit's own rows: key → the grouped form's unit field
OWN_ROWS = (
    "on_time_sign_for",
    "on_time_completion",
    "average_handling_hours",
    "extensions",
    "sla_alerts",
    "redispatch_rate",
)


@dataclasses.dataclass(frozen=True)
class HandledForm:
    """A measure over the cases a unit handled: its rows (centre scope), the row's case, and per row the value
    counted in the denominator / numerator (NULL: not counted); `distinct`: count distinct values (cases)."""

    case: str
    den: Any
    num: Any | None
    distinct: bool = False


def _if(cond: Q, then: Any) -> Any:
    return DbCase(When(cond, then=then), default=None, output_field=IntegerField())


HANDLED: dict[str, HandledForm] = {
    "intake_volume": HandledForm("id", F("id"), None),
    "satisfaction": HandledForm("case_id", F("id"), _if(Q(rating__in=SATISFIED_RATINGS), F("id"))),
    "response_rate": HandledForm("case_id", F("id"), _if(Q(responded=m.RESPONDED), F("id"))),
    "solution_rate": HandledForm("case_id", F("id"), _if(Q(solution=m.SOLVED), F("id"))),
    "redo_rate": HandledForm(
        "case_id",
        _if(Q(action="callback"), F("case_id")),
        _if(Q(to_status=CaseStatus.REDO), F("case_id")),
        distinct=True,
    ),
}

HANDLED_ROWS: dict[str, Callable[[Scope], QuerySet[Any]]] = {
    "intake_volume": m._intake,
    "satisfaction": m.callback_rows,
    "redo_rate": g._redo_rows,
    "response_rate": m.responded_rows,
    "solution_rate": m.solution_rows,
}
SUPPORTED = frozenset(OWN_ROWS) | frozenset(HANDLED)


def scored_of(units: Iterable[Unit]) -> dict[int, int]:
    """Every unit id → the scored unit whose subtree holds it (units outside every scored subtree: absent)."""
    scored = sorted(units, key=lambda u: -len(u.path))
    out: dict[int, int] = {}
    for uid, path in Unit.objects.values_list("pk", "path"):
        for s in scored:
            if path.startswith(s.path):
                out[uid] = s.pk
                break
    return out


def _own_rows(key: str, scope: Scope, owner: dict[int, int]) -> dict[int, tuple[Any, int]]:
    gm = g.REGISTRY[key]
    aggregates = {"den": gm.den()}
    if gm.num is not None:
        aggregates["num"] = gm.num()
    rows = gm.rows(scope).values(f"{gm.unit}_id").annotate(**aggregates).order_by()
    out: dict[int, list[Any]] = defaultdict(lambda: [0, 0])
    for row in rows:
        target = owner.get(row[f"{gm.unit}_id"])
        if target is None:
            continue
        num = row.get("num")
        if hasattr(num, "total_seconds"):
            num = num.total_seconds()
        out[target][0] += num or 0
        out[target][1] += int(row["den"] or 0)
    return {k: (v[0], v[1]) for k, v in out.items()}


def _handled(key: str, scope: Scope, owner: dict[int, int]) -> dict[int, tuple[Any, int]]:
    form = HANDLED[key]
    rows = HANDLED_ROWS[key](scope)
    inner = rows.annotate(_c=F(form.case), _d=form.den, _n=form.num if form.num is not None else F(form.case))
    sql, params = inner.values_list("_c", "_d", "_n").order_by().query.sql_with_params()
    if not owner:
        return {}
    pairs = ", ".join(["(%s, %s)"] * len(owner))
    agg = "COUNT(DISTINCT {}) " if form.distinct else "COUNT({}) "
    a = Assignment._meta.db_table
    query = f"""
        WITH r (c, d, n) AS ({sql}),
             m (unit_id, scored) AS (VALUES {pairs}),
             ra AS MATERIALIZED (SELECT a.case_id, a.unit_id FROM {a} a
                                  WHERE a.role <> %s AND a.case_id IN (SELECT c FROM r)),
             p AS (SELECT DISTINCT ra.case_id, m.scored FROM ra JOIN m ON m.unit_id = ra.unit_id)
        SELECT p.scored, {agg.format("r.d")}, {agg.format("r.n")}
          FROM r JOIN p ON p.case_id = r.c
         GROUP BY p.scored"""
    flat = [x for pair in owner.items() for x in pair]
    with connection.cursor() as cursor:
        cursor.execute(query, [*params, *flat, AssignmentRole.CC])
        return {
            scored: (num if form.num is not None else 0, int(den)) for scored, den, num in cursor.fetchall()
        }


def figures(key: str, scope: Scope, units: list[Unit]) -> dict[int, Figure] | None:
    """{unit pk: the measure's figure over that unit's subtree} for `scope`'s period (its unit ignored), or None
    when the measure has no set-based form here (the caller computes it unit by unit)."""
    if key not in SUPPORTED:
        return None
    scope = dataclasses.replace(scope, unit=None)
    owner = scored_of(units)
    counts = _own_rows(key, scope, owner) if key in OWN_ROWS else _handled(key, scope, owner)
    measure = m.measure(key)
    out: dict[int, Figure] = {}
    for unit in units:
        num, den = counts.get(unit.pk, (0, 0))
        if measure.kind == m.COUNT:
            out[unit.pk] = Figure(value=den)
        elif measure.kind == m.AVERAGE:
            out[unit.pk] = m.average_of(num, den)
        else:
            out[unit.pk] = m.rate({"num": num, "den": den})
    return out
