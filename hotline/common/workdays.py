"""Working-day arithmetic on the statutory calendar (weekends, holidays, make-up workdays).

The `chinese_calendar` package carries the State Council's published calendar. The SLA issue
replaces this with an admin-editable calendar table; the function signature stays.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import chinese_calendar
from django.utils import timezone


@lru_cache(maxsize=4096)
def is_workday(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:
        # Years the package does not cover yet: fall back to Monday-Friday.
        return day.weekday() < 5


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The same local clock time `days` working days after `start` (start itself does not count)."""
    if days < 0:
        raise ValueError("days must not be negative")
    local = timezone.localtime(start)
    day = local.date()
    remaining = days
    while remaining:
        day += dt.timedelta(days=1)
        if is_workday(day):
            remaining -= 1
    return local.replace(year=day.year, month=day.month, day=day.day)
