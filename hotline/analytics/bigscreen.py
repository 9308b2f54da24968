"""The big screen (MON-3): one snapshot for a 1920×1080 wall, from the measures, refreshed by push.

Intake today and in the last 24 hours by type and channel, the call service level and answer rate today,
hot topics of the last 24 hours, the unit ranking of open and overdue cases, satisfaction over 30 days, and the
intake of the last 14 days. `ECHARTS` is the one place that names the chart library's file (npm `echarts`)."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import Any

from django.contrib.staticfiles import finders
from django.db.models import Count
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


# The slow-moving figures (30-day satisfaction, the 14-day trend) are recomputed at most once a minute per
# scope; everything else is computed on every refresh.
SLOW_SECONDS = 60.0
_slow_lock = threading.Lock()
_slow: dict[int | None, tuple[float, dict[str, Any]]] = {}


def _slow_figures(unit: Unit | None, now: dt.datetime, *, fresh: bool) -> dict[str, Any]:
    key = unit.pk if unit else None
    with _slow_lock:
        hit = _slow.get(key)
    if hit is not None and not fresh and time.monotonic() - hit[0] < SLOW_SECONDS:
        return hit[1]
    end = now + dt.timedelta(seconds=1)
    month = Scope(start=now - dt.timedelta(days=30), end=end, now=now, unit=unit)
    first = today(now, unit).start - dt.timedelta(days=TREND_DAYS - 1)
    figures = {
        "satisfaction": _rate(m.satisfaction(month)),
        "trend": _trend(Scope(start=first, end=end, now=now, unit=unit)),
    }
    with _slow_lock:
        _slow[key] = (time.monotonic(), figures)
    return figures


# The state figures (open and overdue cases, the unit ranking, today's calls, hot topics) cost seconds at
# 10,000,000 cases / 50,000,000 calls: a refresh serves the last computed ones and, when they are older than
# STATE_SECONDS, recomputes them in the background; when that is done the screens are told again (a notice on the
# cases board), so a change reaches the wall one computation later, and no refresh waits for it.
STATE_SECONDS = 1.0
_state: dict[int | None, tuple[float, dict[str, Any]]] = {}
_state_running: set[int | None] = set()


def _state_figures(unit: Unit | None, now: dt.datetime) -> dict[str, Any]:
    end = now + dt.timedelta(seconds=1)
    day = today(now, unit)
    last_24h = Scope(start=now - dt.timedelta(hours=24), end=end, now=now, unit=unit)
    ranking = m.open_by_unit(day).breakdown[:RANKING]
    return {
        "open": m.open_cases(day).value,
        "overdue": m.overdue_cases(day).value,
        "service_level_20": _rate(m.service_level(20)(day)),
        "answer_rate": _rate(m.answer_rate(day)),
        "hot_topics": [{"name": b["name"], "n": b["n"]} for b in m.hot_topics(last_24h).breakdown],
        "ranking": [{"name": r["name"], "open": r["n"], "overdue": r["overdue"]} for r in ranking],
    }


def _recompute_state(unit: Unit | None) -> None:
    from django.db import connection

    from . import live

    key = unit.pk if unit else None
    try:
        figures = _state_figures(unit, clock.now())
        with _slow_lock:
            _state[key] = (time.monotonic(), figures)
        live.COALESCER.mark(live.CASES)  # the screens refresh again, now with these
    except Exception:  # the screen keeps its last figures; the next refresh tries again
        logger.exception("big screen: recomputing the state figures failed")
    finally:
        with _slow_lock:
            _state_running.discard(key)
        connection.close()


def forget() -> None:
    """Drop every cached figure (tests: the rows they were computed from are gone)."""
    with _slow_lock:
        _slow.clear()
        _state.clear()


def _cached_state(unit: Unit | None, now: dt.datetime, *, fresh: bool, opening: bool) -> dict[str, Any]:
    from django.db import connection

    key = unit.pk if unit else None
    with _slow_lock:
        hit = _state.get(key)
    stale = hit is None or time.monotonic() - hit[0] >= STATE_SECONDS
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
        figures = _state_figures(unit, now)
        with _slow_lock:
            _state[key] = (time.monotonic(), figures)
        return figures
    # Every refresh follows a change: recompute in the background now if the figures are older than
    # STATE_SECONDS, else as soon as they are (a change just after a computation must still reach the wall).
    with _slow_lock:
        start = key not in _state_running
        _state_running.add(key)
    if start:
        delay = 0.0 if stale else max(0.0, STATE_SECONDS - (time.monotonic() - hit[0]))
        timer = threading.Timer(delay, _recompute_state, args=(unit,))
        timer.daemon, timer.name = True, "bigscreen-state"
        timer.start()
    return hit[1]


def snapshot(
    unit: Unit | None = None, now: dt.datetime | None = None, *, fresh: bool = False, opening: bool = False
) -> dict[str, Any]:
    """The screen's figures; `fresh` recomputes the slow-moving and the state figures too, before answering
    (tests, a clock set by hand); `opening` (the page itself, not a pushed refresh) recomputes stale state
    figures before answering. Computed on every refresh: today's and the last 24 hours' intake (indexed on
    the registration time); the 14-day trend reads the daily facts (slow figures)."""
    fresh = fresh or now is not None  # a moment given by hand is not the cached "now"
    now = now or clock.now()
    end = now + dt.timedelta(seconds=1)
    day = today(now, unit)
    last_24h = Scope(start=now - dt.timedelta(hours=24), end=end, now=now, unit=unit)
    slow = _slow_figures(unit, now, fresh=fresh)
    state = _cached_state(unit, now, fresh=fresh, opening=opening)
    by_channel = m.intake_volume(last_24h)
    by_type = m.intake_by_type(last_24h)
    return {
        "board": "screen",
        "now": timezone.localtime(now).isoformat(),
        "unit": unit.name if unit else None,
        "intake_today": m.intake_volume(day).value,
        "intake_24h": by_channel.value,
        "by_channel": [{"name": b["name"], "n": b["n"]} for b in by_channel.breakdown],
        "by_type": [{"name": b["name"], "n": b["n"]} for b in by_type.breakdown],
        "open": state["open"],
        "overdue": state["overdue"],
        "service_level_20": state["service_level_20"],
        "answer_rate": state["answer_rate"],
        "satisfaction": slow["satisfaction"],
        "hot_topics": state["hot_topics"],
        "ranking": state["ranking"],
        "trend": slow["trend"],
    }
