"""Working-day arithmetic on the calendar kept as data (CalendarException, OfficeHours).

The calendar is loaded once into memory and refreshed when an admin edits it (signal in this process,
a short time-to-live for the others), so computing a deadline needs no query.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from dataclasses import dataclass

from django.utils import timezone

CACHE_SECONDS = 300
DEFAULT_OFFICE_HOURS = ((dt.time(8, 30), dt.time(12, 0)), (dt.time(13, 30), dt.time(17, 30)))


@dataclass(frozen=True)
class Calendar:
    exceptions: dict[dt.date, bool]
    office_hours: tuple[tuple[dt.time, dt.time], ...]
    years_with_holidays: frozenset[int]

    def is_workday(self, day: dt.date) -> bool:
        return self.exceptions.get(day, day.weekday() < 5)

    def shift_working_days(self, moment: dt.datetime, days: int) -> dt.datetime:
        """The same local clock time `days` working days later (earlier if negative); `moment`'s own day
        does not count."""
        local = timezone.localtime(moment)
        day, step, remaining = local.date(), (1 if days >= 0 else -1), abs(days)
        while remaining:
            day += dt.timedelta(days=step)
            if self.is_workday(day):
                remaining -= 1
        return local.replace(year=day.year, month=day.month, day=day.day)

    def add_working_hours(self, moment: dt.datetime, hours: float) -> dt.datetime:
        """Count `hours` of office time forward from `moment` (time outside office hours does not count)."""
        local = timezone.localtime(moment)
        remaining = dt.timedelta(hours=hours)
        day = local.date()
        cursor = local
        for _ in range(3660):  # ten years of days is a hard stop against bad data
            if self.is_workday(day):
                for start, end in self.office_hours:
                    begin = max(
                        cursor,
                        local.replace(
                            year=day.year,
                            month=day.month,
                            day=day.day,
                            hour=start.hour,
                            minute=start.minute,
                            second=0,
                            microsecond=0,
                        ),
                    )
                    finish = local.replace(
                        year=day.year,
                        month=day.month,
                        day=day.day,
                        hour=end.hour,
                        minute=end.minute,
                        second=0,
                        microsecond=0,
                    )
                    if begin >= finish:
                        continue
                    if begin + remaining <= finish:
                        return begin + remaining
                    remaining -= finish - begin
            day += dt.timedelta(days=1)
            cursor = local.replace(
                year=day.year, month=day.month, day=day.day, hour=0, minute=0, second=0, microsecond=0
            )
        raise ValueError("no office hours configured")

    def working_days_between(self, start: dt.date, end: dt.date) -> int:
        """Working days after `start` up to and including `end` (negative if `end` is earlier)."""
        if end < start:
            return -self.working_days_between(end, start)
        return sum(
            1 for n in range(1, (end - start).days + 1) if self.is_workday(start + dt.timedelta(days=n))
        )


_lock = threading.Lock()
_cached: tuple[float, Calendar] | None = None


def current() -> Calendar:
    global _cached
    cached = _cached
    if cached is not None and time.monotonic() - cached[0] < CACHE_SECONDS:
        return cached[1]
    with _lock:
        calendar = _load()
        _cached = (time.monotonic(), calendar)
        return calendar


def invalidate() -> None:
    global _cached
    _cached = None


def _load() -> Calendar:
    from .models import CalendarException, OfficeHours

    rows = list(CalendarException.objects.values_list("date", "is_workday"))
    exceptions = dict(rows)
    hours = tuple(OfficeHours.objects.values_list("start", "end")) or DEFAULT_OFFICE_HOURS
    holiday_years = frozenset(day.year for day, workday in rows if not workday)
    return Calendar(exceptions=exceptions, office_hours=hours, years_with_holidays=holiday_years)


def years_without_holidays(years: range) -> list[int]:
    """Years whose statutory holidays are not entered yet: deadlines there would count only weekends."""
    known = current().years_with_holidays
    return [year for year in years if year not in known]
