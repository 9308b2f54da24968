"""Working-day helpers for code outside the deadline package; the calendar itself is data in `sla`, which
registers it (common imports no domain package)."""

from __future__ import annotations

import datetime as dt

from .registry import workday_calendar


def is_workday(day: dt.date) -> bool:
    return workday_calendar().is_workday(day)


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The same local clock time `days` working days after `start` (start itself does not count)."""
    if days < 0:
        raise ValueError("days must not be negative")
    return workday_calendar().shift_working_days(start, days)
