"""Working-day helpers for code outside the deadline package; the calendar itself is data in `sla`."""

from __future__ import annotations

import datetime as dt


def is_workday(day: dt.date) -> bool:
    from hotline.sla import calendar

    return calendar.current().is_workday(day)


def add_working_days(start: dt.datetime, days: int) -> dt.datetime:
    """The same local clock time `days` working days after `start` (start itself does not count)."""
    from hotline.sla import calendar

    if days < 0:
        raise ValueError("days must not be negative")
    return calendar.current().shift_working_days(start, days)
