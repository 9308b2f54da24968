"""The figures on the home page (overview for the office and leaders, a unit's open work), registered as home
panels in AnalyticsConfig.ready: the case core does not import analytics, so the panels live here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest

from hotline.common import clock
from hotline.common.registry import HomePanel
from hotline.orgs.models import User
from hotline.orgs.selectors import sees_everything

from . import measures as m
from .measures import Scope
from .permissions import may_view


def unit_figures(*, user: User) -> dict[str, Any]:
    """A unit's own open work at a glance: to sign, handling, overdue, reported in the last 30 days."""
    if user.unit_id is None:
        return {}
    now = clock.now()
    scope = Scope(start=now - dt.timedelta(days=30), end=now, now=now, unit=user.unit, subtree=False)
    return {
        "to_sign": m.assignments_to_sign(scope).value,
        "handling": m.assignments_handling(scope).value,
        "overdue": m.assignments_overdue(scope).value,
        "finished_30d": m.on_time_completion(scope).denominator,
    }


def overview(*, user: User) -> dict[str, Any]:
    """The overview over what the user may see (the centre, or a leader's unit subtree), from the measures."""
    now = clock.now()
    unit = None if sees_everything(user) else user.unit
    today = Scope(start=m.timezone_midnight(now), end=now + dt.timedelta(seconds=1), now=now, unit=unit)
    month = Scope(start=now - dt.timedelta(days=30), end=now + dt.timedelta(seconds=1), now=now, unit=unit)
    return {
        "today": m.intake_volume(today).value,
        "open": m.open_cases(month).value,
        "overdue": m.overdue_cases(month).value,
        "closed_30d": m.closed_cases(month).value,
        "satisfaction_pct": m.satisfaction(month).value,
    }


def overview_panel(request: HttpRequest, user: User) -> dict[str, Any]:
    return {"overview": overview(user=user), "live_links": may_view(user)}


def unit_figures_panel(request: HttpRequest, user: User) -> dict[str, Any]:
    return {"figures": unit_figures(user=user)}


T = "analytics/home/"
PANELS = [
    HomePanel("cases.overview", 100, T + "overview.html", overview_panel, "cases.overview"),
    HomePanel("cases.unit_figures", 200, T + "unit_figures.html", unit_figures_panel, "cases.unit_work"),
]
