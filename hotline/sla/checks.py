"""A visible warning when the coming year's holidays have not been entered (the State Council publishes
them late each year; until an admin enters them, deadlines would count only weekends)."""

from __future__ import annotations

from typing import Any

from django.core import checks
from django.db import DatabaseError

from hotline.common import clock

from . import calendar


def missing_holiday_years() -> list[int]:
    this_year = clock.now().year
    return calendar.years_without_holidays(range(this_year, this_year + 2))


@checks.register(checks.Tags.database)
def check_calendar(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    try:
        missing = missing_holiday_years()
    except DatabaseError:  # tables not migrated yet
        return []
    return [
        checks.Warning(
            f"{year}年的法定节假日尚未录入，该年的办理时限只按周末计算。请在“时限与督办 → 节假日与调休”中录入。",
            id="sla.W001",
        )
        for year in missing
    ]
