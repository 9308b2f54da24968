"""Supervision views (SLA-5): the card ledger per unit, time-limit, result and quality supervision.

Every figure is a plain query over alerts, clocks, assignments and cases, limited to what the user may see.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Q, QuerySet

from hotline.cases import selectors as case_selectors
from hotline.common.registry import figures
from hotline.orgs.models import Unit, User
from hotline.orgs.selectors import sees_everything


@dataclass(frozen=True)
class Period:
    start: dt.datetime
    end: dt.datetime


def _in_units(user: User, field: str = "unit") -> Q:
    """The rows of the user's units; no condition at all for those who see everything (an `IN` over every
    unit only costs the planner)."""
    if sees_everything(user):
        return Q()
    return Q(**{f"{field}__in": visible_units(user)})


def visible_units(user: User) -> QuerySet[Unit]:
    if sees_everything(user):
        return Unit.objects.all()
    if user.unit is None:
        return Unit.objects.none()
    return Unit.objects.filter(path__startswith=user.unit.path)


def card_ledger(*, user: User, period: Period) -> list[dict[str, Any]]:
    """Per unit: warnings, yellow and red cards, reminders, extensions requested/approved, late reports.
    Computed by analytics (hotline/analytics/supervision.py), where each figure is defined."""
    return figures("supervision.card_ledger")(user=user, period=period)


def time_limit_supervision(*, user: User, period: Period) -> list[dict[str, Any]]:
    """Per unit: assignments received, signed late, replied late, average hours to sign for and to reply.
    Computed by analytics (hotline/analytics/supervision.py), where each figure is defined."""
    return figures("supervision.time_limits")(user=user, period=period)


def supervision_formulas() -> dict[str, dict[str, str]]:
    """Per table (ledger, limits, results), each column's formula, as analytics defines it."""
    return figures("supervision.formulas")()


def result_supervision(*, user: User, period: Period) -> QuerySet[Any]:
    """Cases not accepted (or waiting for that decision) in the period."""
    return case_selectors.not_accepted_cases(user=user, start=period.start, end=period.end)


def quality_supervision(*, user: User, period: Period) -> dict[str, Any]:
    """Repeat callers (the same number more than once in the period) and dissatisfied cases."""
    return case_selectors.repeat_callers_and_dissatisfied(user=user, start=period.start, end=period.end)
