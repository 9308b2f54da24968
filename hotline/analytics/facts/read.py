"""Reading a grouped intake figure from the facts: the whole months before the current one from `CaseMonthFact`,
the other days before today from `CaseFact`, today from the case table (live), added up. `None` when the facts cannot answer (not built, switched off, a scope or grouping they do
not hold): the caller then runs its direct query for the whole period."""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db.models import Q, Sum
from django.utils import timezone

from . import build
from .build import SCOPE_DEPTH, day_bounds, local_day
from .models import CENTRE, AreaFact, CaseFact, CaseMonthFact, FactState

if TYPE_CHECKING:
    from ..measures import Scope

Counts = dict[tuple[Any, ...], tuple[Any, int]]  # {raw keys: (numerator, denominator)}
TIME_KEYS = ("day", "week", "month")
_disabled = [0]


@contextlib.contextmanager
def disabled() -> Iterator[None]:
    """Answer from the direct queries inside the block (benchmarks and tests compare the two)."""
    _disabled[0] += 1
    try:
        yield
    finally:
        _disabled[0] -= 1


def state() -> FactState | None:
    return FactState.objects.filter(pk=1, built_at__isnull=False).first()


def state_months_through() -> dt.date | None:
    s = state()
    return s.months_through if s else None


def scope_key(scope: Scope) -> int | None:
    """The facts' `scope` for a figure's scope, or None when the facts do not hold it."""
    if scope.unit is None:
        return CENTRE
    if scope.subtree and scope.unit.depth <= SCOPE_DEPTH:
        return int(scope.unit.pk)
    return None


def usable(scope: Scope) -> bool:
    if _disabled[0] or not getattr(settings, "HOTLINE_ANALYTICS_FACTS", True):
        return False
    return scope_key(scope) is not None and state() is not None


def _bucket(key: str, day: dt.date) -> dt.datetime:
    """The value TruncDay / TruncWeek / TruncMonth give a moment of `day` (aware, local midnight)."""
    if key == "week":
        day -= dt.timedelta(days=day.weekday())
    elif key == "month":
        day = day.replace(day=1)
    return dt.datetime.combine(day, dt.time.min, timezone.get_current_timezone())


def counts(
    scope: Scope,
    by: tuple[str, ...],
    *,
    filters: Q | None = None,
    fcr: bool = False,
    live: Callable[[Scope], Counts],
    area: bool = False,
) -> Counts | None:
    """Intake (or, `fcr`, first-contact resolution: answered over accepted) of `scope` grouped by `by` (fact
    columns, or "day" / "week" / "month"). `live(scope)` counts the part of the period from today's midnight on
    directly, in the same form. `area`: from the facts by place (`AreaFact`: `location_unit_id` only, no status,
    no monthly rows). None when the facts cannot answer."""
    if area and fcr:
        return None
    if not usable(scope):
        return None
    key = scope_key(scope)
    assert key is not None  # usable
    today = local_day(scope.now)
    midnight = day_bounds(today)[0]
    # whole local days only: a period starting (or, before today, ending) inside a day is counted directly
    if day_bounds(local_day(scope.start))[0] != scope.start:
        return None
    if scope.end <= midnight and day_bounds(local_day(scope.end))[0] != scope.end:
        return None
    out: dict[tuple[Any, ...], list[Any]] = defaultdict(lambda: [0, 0])
    first, last = local_day(scope.start), local_day(scope.end - dt.timedelta(microseconds=1))
    last = min(last, today - dt.timedelta(days=1))
    if first <= last:
        from ..measures import NOT_ACCEPTED

        # whole months from the monthly rows when the grouping is no finer than a month, the edges from the
        # daily rows
        months: tuple[dt.date, dt.date] | None = None
        through = state_months_through()
        if through is not None and not area and "day" not in by and "week" not in by:
            m_first = first if first.day == 1 else build.next_month(first)
            m_last = build.month_of(last + dt.timedelta(days=1)) - dt.timedelta(
                days=1
            )  # last whole month's end
            m_last = min(m_last, build.next_month(through) - dt.timedelta(days=1))
            if m_first <= m_last:
                months = (m_first, m_last)
        parts: list[tuple[Any, str, Q]] = []
        if months is None:
            parts.append((AreaFact if area else CaseFact, "day", Q(day__gte=first, day__lte=last)))
        else:
            parts.append((CaseMonthFact, "month", Q(month__gte=months[0], month__lte=months[1])))
            parts.append(
                (CaseFact, "day", Q(day__gte=first, day__lt=months[0]) | Q(day__gt=months[1], day__lte=last))
            )
        for model, time_column, period in parts:
            qs = model.objects.filter(period, scope=key)
            if filters is not None:
                qs = qs.filter(filters)
            if fcr:
                qs = qs.exclude(status__in=NOT_ACCEPTED)
            columns = [(time_column if b in TIME_KEYS else b) for b in by]
            sums = {"den": Sum("n"), "num": Sum("answered")}
            rows = qs.values(*columns).annotate(**sums).order_by() if columns else [qs.aggregate(**sums)]
            for row in rows:
                k = tuple(_bucket(b, row[time_column]) if b in TIME_KEYS else row[b] for b in by)
                out[k][0] += (row["num"] or 0) if fcr else 0
                out[k][1] += row["den"] or 0
    if scope.end > midnight:
        for k, (num, den) in live(dataclasses.replace(scope, start=max(scope.start, midnight))).items():
            out[k][0] += num or 0
            out[k][1] += den or 0
    return {k: (v[0], v[1]) for k, v in out.items()}


def freshness() -> dt.datetime | None:
    """When the days before today were last brought up to date (None: the facts are not in use)."""
    if not getattr(settings, "HOTLINE_ANALYTICS_FACTS", True):
        return None
    s = state()
    return s.refreshed_at if s else None
