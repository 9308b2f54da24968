"""Reading the measures for a user: the period asked for, the unit allowed, every figure in one table."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from rest_framework import serializers

from hotline.common import clock
from hotline.common.errors import NotFound
from hotline.orgs.models import Unit, User
from hotline.orgs.selectors import sees_everything

from .measures import MEASURES, Figure, Measure, Scope

PERIODS = ("day", "week", "month", "custom")
DEFAULT_DAYS = 30
MIN_YEAR, MAX_YEAR = 2000, 2100  # no arithmetic near date.min/max; no hotline has figures outside
MAX_PK = 2**63 - 1


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.datetime  # inclusive
    end: dt.datetime  # exclusive
    first_day: dt.date
    last_day: dt.date


def period_from(params: Mapping[str, str]) -> Period:
    """`period` = day (today), week (Monday to today), month (the 1st to today) or custom: `from`/`to` dates,
    inclusive (the last 30 days when absent). Bad input raises a ValidationError with field errors."""
    errors: dict[str, list[str]] = {}
    kind = params.get("period") or "custom"
    if kind not in PERIODS:
        errors["period"] = [_("统计周期应为 day、week、month 或 custom")]
    dates: dict[str, dt.date] = {}
    for key in ("from", "to"):
        raw = params.get(key)
        if raw:
            try:
                dates[key] = dt.date.fromisoformat(raw)
            except ValueError:
                errors[key] = [_("日期格式应为 YYYY-MM-DD")]
                continue
            if not MIN_YEAR <= dates[key].year <= MAX_YEAR:
                errors[key] = [_("日期超出可统计的范围")]
    if errors:
        raise serializers.ValidationError(errors)
    today = timezone.localtime(clock.now()).date()
    if kind == "day":
        first = last = today
    elif kind == "week":
        first, last = today - dt.timedelta(days=today.weekday()), today
    elif kind == "month":
        first, last = today.replace(day=1), today
    else:
        last = dates.get("to", today)
        first = dates.get("from", last - dt.timedelta(days=DEFAULT_DAYS - 1))
        if first > last:
            raise serializers.ValidationError({"from": [_("开始日期不能晚于结束日期")]})
        if (last - first).days > 366 * 3:
            raise serializers.ValidationError({"from": [_("统计区间不能超过三年")]})
    tz = timezone.get_current_timezone()
    return Period(
        kind=kind,
        start=dt.datetime.combine(first, dt.time.min, tz),
        end=dt.datetime.combine(last + dt.timedelta(days=1), dt.time.min, tz),
        first_day=first,
        last_day=last,
    )


def scope_unit(*, user: User, unit_id: str | int | None) -> Unit | None:
    """The unit whose subtree the figures cover. Those who see everything may pick any unit (or none: the
    whole centre); a unit leader sees its own subtree, and a unit outside it is not found (404)."""
    if unit_id in (None, ""):
        if sees_everything(user):
            return None
        if user.unit is None:
            raise NotFound(_("单位不存在"))
        return user.unit
    try:
        pk = int(unit_id)
    except (TypeError, ValueError) as exc:
        raise serializers.ValidationError({"unit": [_("单位编号应为整数")]}) from exc
    unit = Unit.objects.filter(pk=pk).first() if 0 < pk <= MAX_PK else None
    if unit is None:
        raise NotFound(_("单位不存在"))
    if not sees_everything(user) and (user.unit is None or not unit.path.startswith(user.unit.path)):
        raise NotFound(_("单位不存在"))
    return unit


def scope_for(*, user: User, period: Period, unit_id: str | int | None = None) -> Scope:
    return Scope(
        start=period.start, end=period.end, now=clock.now(), unit=scope_unit(user=user, unit_id=unit_id)
    )


def measure_table(*, scope: Scope, measures: list[Measure] | None = None) -> list[tuple[Measure, Figure]]:
    """Every measure over one scope, in the registry's order."""
    return [(m, m.compute(scope)) for m in (measures or MEASURES)]


def units_to_pick(*, user: User) -> list[dict[str, Any]]:
    """The units a user may filter by: everything for the office and city leaders, a leader's own subtree."""
    qs = Unit.objects.all()
    if not sees_everything(user):
        if user.unit is None:
            return []
        qs = qs.filter(path__startswith=user.unit.path)
    return [dict(row) for row in qs.order_by("path").values("pk", "name", "depth")]


PUBLIC_MEASURES = ("intake_volume", "satisfaction", "on_time_completion")
PUBLIC_TOP_UNITS = 10


def public_broadcast(*, period: Period) -> dict[str, Any]:
    """The portal's data broadcast (数据播报): figures of the whole centre only, never a case or a person —
    the registry's measures (volume by channel, satisfaction, on-time completion) plus volume by request type
    and by the main unit, counted as the intake-volume measure counts (cases taken in during the period)."""
    from django.db.models import Count

    from .measures import REGISTRY, _intake

    scope = Scope(start=period.start, end=period.end, now=clock.now(), unit=None)
    figures = {key: REGISTRY[key].compute(scope) for key in PUBLIC_MEASURES}
    cases = _intake(scope)
    by_type = list(cases.values("case_type__name").annotate(n=Count("id")).order_by("-n", "case_type__name"))
    by_unit = list(
        cases.exclude(main_unit__isnull=True)
        .values("main_unit__name")
        .annotate(n=Count("id"))
        .order_by("-n", "main_unit__name")[:PUBLIC_TOP_UNITS]
    )
    return {
        "measures": [(REGISTRY[key], figures[key]) for key in PUBLIC_MEASURES],
        "by_channel": figures["intake_volume"].breakdown,
        "by_type": [{"name": r["case_type__name"] or "—", "n": r["n"]} for r in by_type],
        "by_unit": [{"name": r["main_unit__name"], "n": r["n"]} for r in by_unit],
    }
