"""Agent-group scores (KPI-1): the scheme's indicators whose measure is an agent-group measure are scored per
telephony skill group, with the same linear points, weights and grading bands as the units' scores."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet
from django.utils import timezone

from hotline.telephony.models import Queue

from .. import group_measures as gm
from .models import AssessmentPeriod, GroupScore, Indicator


def group_indicators(indicators: list[Indicator]) -> list[Indicator]:
    return [i for i in indicators if i.measure in gm.GROUP_REGISTRY]


def scope_of(period: AssessmentPeriod, queue: Queue, now: dt.datetime) -> gm.GroupScope:
    tz = timezone.get_current_timezone()
    return gm.GroupScope(
        start=dt.datetime.combine(period.first_day, dt.time.min, tz),
        end=dt.datetime.combine(period.last_day + dt.timedelta(days=1), dt.time.min, tz),
        now=now,
        queue=queue,
    )


def compute_groups(
    *, period: AssessmentPeriod, indicators: list[Indicator], now: dt.datetime
) -> list[GroupScore]:
    """Unsaved scores for every skill group (none when the scheme has no agent-group indicator)."""
    from .services import grade_of, weigh

    wanted = group_indicators(indicators)
    if not wanted:
        return []
    scores = []
    for queue in Queue.objects.order_by("code"):
        scope = scope_of(period, queue, now)
        details, total = weigh(wanted, gm.GROUP_REGISTRY, scope)
        scores.append(
            GroupScore(
                period=period,
                queue=queue,
                total=total,
                grade=grade_of(total, period.scheme.bands),
                details=details,
            )
        )
    totals = [s.total for s in scores if s.total is not None]
    for s in scores:
        s.rank = 1 + sum(1 for t in totals if t > s.total) if s.total is not None else None
    return scores


def visible_group_scores(*, period: AssessmentPeriod, centre: bool) -> QuerySet[GroupScore]:
    """Agent groups are the hotline office's own: only those who see the whole centre read their scores."""
    qs = period.group_scores.select_related("queue").order_by("rank", "queue__code")
    return qs if centre else qs.none()
