"""The figures on the home page (overview for the office and leaders, a unit's open work), registered as home
panels in AnalyticsConfig.ready: the case core does not import analytics, so the panels live here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Exists, OuterRef
from django.http import HttpRequest

from hotline.cases.models import OPEN_ASSIGNMENT_STATUSES, Assignment, AssignmentStatus, CaseStatus
from hotline.cases.selectors import (
    OPEN_STATUSES,
    _running_clock,
    case_visible,
    overdue_q,
    timezone_midnight,
)
from hotline.common import clock
from hotline.common.registry import HomePanel
from hotline.orgs.models import User


def unit_figures(*, user: User) -> dict[str, int]:
    """A unit's open work at a glance: to sign, handling, overdue, returned this month."""
    if user.unit_id is None:
        return {}
    now = clock.now()
    mine = Assignment.objects.filter(unit_id=user.unit_id)
    return {
        "to_sign": mine.filter(status=AssignmentStatus.PENDING).count(),
        "handling": mine.filter(status__in=[AssignmentStatus.HANDLING, AssignmentStatus.FORWARDED]).count(),
        "overdue": mine.filter(status__in=OPEN_ASSIGNMENT_STATUSES)
        .filter(Exists(_running_clock(assignment_id=OuterRef("pk")).filter(due_at__lt=now)))
        .count(),
        "finished_30d": mine.filter(
            status=AssignmentStatus.REPORTED, finished_at__gte=now - dt.timedelta(days=30)
        ).count(),
    }


def overview(*, user: User) -> dict[str, int]:
    """Leader's overview counts over what the user may see."""
    now = clock.now()
    local_midnight = timezone_midnight(now)
    qs = case_visible(user=user)
    closed_30d = qs.filter(status=CaseStatus.CLOSED, closed_at__gte=now - dt.timedelta(days=30))
    rated = closed_30d.exclude(last_rating="").values("last_rating").annotate(n=Count("id")).order_by()
    ratings = {row["last_rating"]: row["n"] for row in rated}
    satisfied = sum(
        n for r, n in ratings.items() if r in {"very_satisfied", "satisfied", "basically_satisfied"}
    )
    total_rated = sum(ratings.values())
    return {
        "today": qs.filter(created_at__gte=local_midnight).count(),
        "open": qs.filter(status__in=OPEN_STATUSES).count(),
        "overdue": qs.filter(status__in=OPEN_STATUSES).filter(overdue_q(now)).count(),
        "closed_30d": closed_30d.count(),
        "satisfaction_pct": round(100 * satisfied / total_rated) if total_rated else 0,
    }


def overview_panel(request: HttpRequest, user: User) -> dict[str, Any]:
    return {"overview": overview(user=user)}


def unit_figures_panel(request: HttpRequest, user: User) -> dict[str, Any]:
    return {"figures": unit_figures(user=user)}


T = "analytics/home/"
PANELS = [
    HomePanel("cases.overview", 100, T + "overview.html", overview_panel, "cases.overview"),
    HomePanel("cases.unit_figures", 200, T + "unit_figures.html", unit_figures_panel, "cases.unit_work"),
]
