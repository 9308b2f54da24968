"""The big screen's cached parts (issue 15, scale): a unit's intake figures, served with its state figures, are
the intake measures' own; a background recompute tells the screens only when the figures changed (else every open
screen would recompute once a second for ever)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import connection

from hotline.analytics import bigscreen, live
from hotline.analytics import measures as m
from hotline.analytics.boards import today
from hotline.common import clock
from tests.conftest import dispatched_to, submitted_case

NOW = dt.datetime(2026, 11, 24, 15, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def test_a_units_intake_figures_are_the_intake_measures(city, people):
    with clock.frozen_now(NOW - dt.timedelta(hours=2)):
        dispatched_to(city, people, city.liyuan)
        dispatched_to(city, people, city.liyuan, channel="web")
        dispatched_to(city, people, city.west)
    with clock.frozen_now(NOW - dt.timedelta(hours=20)):  # yesterday evening: in the last 24 hours only
        dispatched_to(city, people, city.east)
        submitted_case(city, people)
    for unit in (None, city.east, city.liyuan):
        data = bigscreen.snapshot(unit, NOW)
        day = today(NOW, unit)
        last_24h = m.Scope(
            start=NOW - dt.timedelta(hours=24), end=NOW + dt.timedelta(seconds=1), now=NOW, unit=unit
        )
        channels, types = m.intake_volume(last_24h), m.intake_by_type(last_24h)
        assert data["intake_today"] == m.intake_volume(day).value
        assert data["intake_24h"] == channels.value
        assert data["by_channel"] == [{"name": b["name"], "n": b["n"]} for b in channels.breakdown]
        assert data["by_type"] == [{"name": b["name"], "n": b["n"]} for b in types.breakdown]
    east = bigscreen.snapshot(city.east, NOW)
    assert (east["intake_today"], east["intake_24h"]) == (2, 3)  # 李园街道 is under 东湖区; 西湖区's is not


def test_a_background_recompute_that_changed_nothing_tells_no_screen(city, people, monkeypatch):
    marks: list[str] = []
    monkeypatch.setattr(live.COALESCER, "mark", marks.append)
    monkeypatch.setattr(connection, "close", lambda: None)  # (the background thread closes its own)
    bigscreen._recompute(bigscreen.STATE, city.east)
    assert marks == [live.CASES]  # the first figures
    bigscreen._recompute(bigscreen.STATE, city.east)
    assert marks == [live.CASES]  # the same figures: nobody told
    dispatched_to(city, people, city.liyuan)
    bigscreen._recompute(bigscreen.STATE, city.east)
    assert marks == [live.CASES, live.CASES]
    bigscreen._recompute(bigscreen.SLOW, city.east)
    bigscreen._recompute(bigscreen.SLOW, city.east)
    assert len(marks) == 3
