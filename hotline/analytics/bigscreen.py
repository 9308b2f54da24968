"""The big screen (MON-3): one snapshot for a 1920×1080 wall, from the measures, refreshed by push.

Intake today and in the last 24 hours by type and channel, the call service level and answer rate today,
hot topics of the last 24 hours, the unit ranking of open and overdue cases, satisfaction over 30 days, and the
intake of the last 14 days. `ECHARTS` is the one place that names the chart library's file (npm `echarts`)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections import defaultdict
from typing import Any

from django.contrib.staticfiles import finders
from django.db.models import Count, Q
from django.db.models.functions import TruncDay
from django.utils import timezone

from hotline.common import clock
from hotline.orgs.models import Unit

from . import measures as m
from .boards import today
from .measures import Figure, Scope

logger = logging.getLogger(__name__)

ECHARTS = "vendor/echarts/echarts.min.js"
RANKING = 10
TREND_DAYS = 14


def echarts_available() -> bool:
    return bool(finders.find(ECHARTS))


def _rate(figure: Figure) -> dict[str, Any]:
    return {
        "value": figure.value if figure.applicable else None,
        "numerator": figure.numerator,
        "denominator": figure.denominator,
    }


def _trend(scope: Scope) -> list[dict[str, Any]]:
    """Intake per local day over the last TREND_DAYS days (the intake measure's cases, by day)."""
    from .facts import read

    def live(s: Scope) -> dict[tuple[Any, ...], tuple[Any, int]]:
        rows = (
            m._intake(s)  # the intake measure's own cases
            .annotate(day=TruncDay("created_at"))
            .values("day")
            .annotate(n=Count("id"))
            .order_by()
        )
        return {(r["day"],): (0, r["n"]) for r in rows}

    got = read.counts(scope, ("day",), live=live)  # the days before today from the daily facts
    counts = {
        timezone.localtime(k[0]).date(): den
        for k, (_n, den) in (got if got is not None else live(scope)).items()
    }
    first = timezone.localtime(scope.start).date()
    days = [first + dt.timedelta(days=i) for i in range(TREND_DAYS)]
    return [{"day": d.isoformat(), "n": counts.get(d, 0)} for d in days]


def _intake_figures(unit: Unit | None, now: dt.datetime) -> dict[str, Any]:
    """Today's intake and the last 24 hours' intake by channel and by type in ONE grouped query (the intake
    volume's cases, `measures._intake`; today's midnight is always inside the last 24 hours). For a unit scope
    each of the three figures alone probes the assignments of every case of the day (~0.3 s at 10,000,000
    cases), so there they are state figures, computed in the background."""
    end = now + dt.timedelta(seconds=1)
    midnight = today(now, unit).start
    last_24h = Scope(start=now - dt.timedelta(hours=24), end=end, now=now, unit=unit)
    rows = (
        m._intake(last_24h)
        .values("channel", "case_type_id")
        .annotate(n=Count("id"), today=Count("id", filter=Q(created_at__gte=midnight)))
        .order_by()
    )
    by_channel: dict[Any, int] = defaultdict(int)
    by_type: dict[Any, int] = defaultdict(int)
    intake_today = 0
    for r in rows:
        by_channel[r["channel"]] += r["n"]
        by_type[r["case_type_id"]] += r["n"]
        intake_today += r["today"]
    channels, types = m.intake_by_channel_figure(by_channel), m.intake_by_type_figure(by_type)
    return {
        "intake_today": intake_today,
        "intake_24h": channels.value,
        "by_channel": [{"name": b["name"], "n": b["n"]} for b in channels.breakdown],
        "by_type": [{"name": b["name"], "n": b["n"]} for b in types.breakdown],
    }


def _slow_figures(unit: Unit | None, now: dt.datetime) -> dict[str, Any]:
    """The slow-moving figures (30-day satisfaction, the 14-day trend): recomputed at most once a minute."""
    end = now + dt.timedelta(seconds=1)
    month = Scope(start=now - dt.timedelta(days=30), end=end, now=now, unit=unit)
    first = today(now, unit).start - dt.timedelta(days=TREND_DAYS - 1)
    return {
        "satisfaction": _rate(m.satisfaction(month)),
        "trend": _trend(Scope(start=first, end=end, now=now, unit=unit)),
    }


def _state_figures(unit: Unit | None, now: dt.datetime) -> dict[str, Any]:
    """The state figures (open and overdue cases, the unit ranking, today's calls, hot topics; for a unit scope
    also the intake figures)."""
    end = now + dt.timedelta(seconds=1)
    day = today(now, unit)
    last_24h = Scope(start=now - dt.timedelta(hours=24), end=end, now=now, unit=unit)
    ranking = m.open_by_unit(day).breakdown[:RANKING]
    figures = {
        "open": m.open_cases(day).value,
        "overdue": m.overdue_cases(day).value,
        "service_level_20": _rate(m.service_level(20)(day)),
        "answer_rate": _rate(m.answer_rate(day)),
        "hot_topics": [{"name": b["name"], "n": b["n"]} for b in m.hot_topics(last_24h).breakdown],
        "ranking": [{"name": r["name"], "open": r["n"], "overdue": r["overdue"]} for r in ranking],
    }
    if unit is not None:
        figures.update(_intake_figures(unit, now))
    return figures


# Cached parts of the screen, per (part, scope). The state figures cost seconds at 10,000,000 cases / 50,000,000
# calls, the slow ones (and, for a district, everything) hundreds of milliseconds: a refresh serves the last
# computed ones and recomputes them in the background — the state when older than STATE_SECONDS (every refresh
# follows a change: a change just after a computation is computed again when the figures are a second old),
# the slow ones when older than SLOW_SECONDS. When a background computation changed the figures the screens are
# told again (a notice on the cases board), so a change reaches the wall one computation later and no refresh
# waits for it; an unchanged result tells nobody (else every open screen would recompute once a second forever).
STATE, SLOW = "state", "slow"
STATE_SECONDS = 1.0
SLOW_SECONDS = 60.0
_COMPUTE = {STATE: _state_figures, SLOW: _slow_figures}
_MAX_AGE = {STATE: STATE_SECONDS, SLOW: SLOW_SECONDS}
_slow_lock = threading.Lock()
_cache: dict[tuple[str, int | None], tuple[float, dict[str, Any]]] = {}
_running: set[tuple[str, int | None]] = set()


def _recompute(part: str, unit: Unit | None) -> None:
    from django.db import connection

    from . import live

    key = (part, unit.pk if unit else None)
    try:
        figures = _COMPUTE[part](unit, clock.now())
        with _slow_lock:
            old = _cache.get(key)
            _cache[key] = (time.monotonic(), figures)
        if old is None or old[1] != figures:
            live.COALESCER.mark(live.CASES)  # the screens refresh again, now with these
    except Exception:  # the screen keeps its last figures; the next refresh tries again
        logger.exception("big screen: recomputing the %s figures failed", part)
    finally:
        with _slow_lock:
            _running.discard(key)
        connection.close()


def forget() -> None:
    """Drop every cached figure (tests: the rows they were computed from are gone)."""
    with _slow_lock:
        _cache.clear()


def _cached(part: str, unit: Unit | None, now: dt.datetime, *, fresh: bool, opening: bool) -> dict[str, Any]:
    from django.db import connection

    key = (part, unit.pk if unit else None)
    max_age = _MAX_AGE[part]
    with _slow_lock:
        hit = _cache.get(key)
    stale = hit is None or time.monotonic() - hit[0] >= max_age
    # Computed here: the first time, on demand, when a screen opens on stale figures (the notice of a background
    # recompute could reach the wall before its stream is open, leaving it stale until the next change), inside a
    # transaction (another thread would not see its uncommitted rows), and on the embedded SQLite (a small city;
    # one writer at a time, no thread of its own).
    if (
        hit is None
        or fresh
        or (opening and stale)
        or connection.in_atomic_block
        or connection.vendor != "postgresql"
    ):
        figures = _COMPUTE[part](unit, now)
        with _slow_lock:
            _cache[key] = (time.monotonic(), figures)
        return figures
    if part == SLOW and not stale:
        return hit[1]
    # The state: every refresh follows a change: recompute in the background now if the figures are older than
    # STATE_SECONDS, else as soon as they are. The slow figures: now, as they are stale.
    with _slow_lock:
        start = key not in _running
        _running.add(key)
    if start:
        delay = 0.0 if stale else max(0.0, max_age - (time.monotonic() - hit[0]))
        timer = threading.Timer(delay, _recompute, args=(part, unit))
        timer.daemon, timer.name = True, f"bigscreen-{part}"
        timer.start()
    return hit[1]


def snapshot(
    unit: Unit | None = None, now: dt.datetime | None = None, *, fresh: bool = False, opening: bool = False
) -> dict[str, Any]:
    """The screen's figures; `fresh` recomputes the slow-moving and the state figures too, before answering
    (tests, a clock set by hand); `opening` (the page itself, not a pushed refresh) recomputes stale cached
    figures before answering. Computed on every refresh of the whole centre's screen: today's and the last 24
    hours' intake (one query, indexed on the registration time); a unit's screen serves them with its state
    figures. The 14-day trend reads the daily facts (slow figures)."""
    fresh = fresh or now is not None  # a moment given by hand is not the cached "now"
    now = now or clock.now()
    slow = _cached(SLOW, unit, now, fresh=fresh, opening=opening)
    state = _cached(STATE, unit, now, fresh=fresh, opening=opening)
    intake = state if unit is not None else _intake_figures(None, now)
    return {
        "board": "screen",
        "now": timezone.localtime(now).isoformat(),
        "unit": unit.name if unit else None,
        "intake_today": intake["intake_today"],
        "intake_24h": intake["intake_24h"],
        "by_channel": intake["by_channel"],
        "by_type": intake["by_type"],
        "open": state["open"],
        "overdue": state["overdue"],
        "service_level_20": state["service_level_20"],
        "answer_rate": state["answer_rate"],
        "satisfaction": slow["satisfaction"],
        "hot_topics": state["hot_topics"],
        "ranking": state["ranking"],
        "trend": slow["trend"],
    }
