import csv
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hotline.sla import calendar
from hotline.sla.checks import check_calendar
from hotline.sla.models import CalendarException

SH = ZoneInfo("Asia/Shanghai")
SHARED_CALENDAR = (
    Path(__file__).resolve().parents[3] / "shared" / "data" / "calendar" / "holidays_and_makeup_workdays.csv"
)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


@pytest.fixture
def cal(db):
    calendar.invalidate()
    return calendar.current()


def test_spring_festival_2026_with_makeup_saturday(cal):
    # Fri 13 Feb; Sat 14 Feb is a make-up workday; 15–23 Feb are the holiday; work resumes Tue 24 Feb.
    assert cal.shift_working_days(at(2026, 2, 13, 10), 1) == at(2026, 2, 14, 10)
    assert cal.shift_working_days(at(2026, 2, 13, 10), 2) == at(2026, 2, 24, 10)
    assert cal.shift_working_days(at(2026, 2, 13, 10), 5) == at(2026, 2, 27, 10)
    assert cal.working_days_between(dt.date(2026, 2, 13), dt.date(2026, 2, 27)) == 5


def test_national_day_2026_and_its_makeup_saturday(cal):
    assert cal.shift_working_days(at(2026, 9, 30, 9), 1) == at(2026, 10, 8, 9)
    assert cal.is_workday(dt.date(2026, 10, 10))  # Saturday, make-up workday
    assert cal.shift_working_days(at(2026, 10, 9, 9), 1) == at(2026, 10, 10, 9)
    assert cal.shift_working_days(at(2026, 10, 8, 9), -1) == at(2026, 9, 30, 9)  # the working day before


def test_working_hours_skip_nights_lunch_and_weekends(cal):
    assert cal.add_working_hours(at(2026, 11, 27, 17), 2) == at(2026, 11, 30, 10)  # Fri 17:00 → Mon 10:00
    assert cal.add_working_hours(at(2026, 11, 25, 11), 2) == at(2026, 11, 25, 14, 30)  # across lunch
    assert cal.add_working_hours(at(2026, 11, 25, 7), 1) == at(2026, 11, 25, 9, 30)  # before office hours


@pytest.mark.skipif(not SHARED_CALENDAR.exists(), reason="shared calendar data not present")
def test_seeded_calendar_matches_the_published_calendar(cal):
    with SHARED_CALENDAR.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            day = dt.date.fromisoformat(row["date"])
            assert cal.is_workday(day) == (row["type"] == "workday_makeup"), row


def test_admin_edit_takes_effect_at_once(cal):
    day = dt.date(2027, 1, 1)
    assert calendar.current().is_workday(day)
    CalendarException.objects.create(date=day, is_workday=False, name="元旦")
    assert not calendar.current().is_workday(day)


def test_year_without_holidays_is_a_visible_warning(cal):
    from hotline.common import clock

    with clock.frozen_now(at(2026, 11, 25, 9)):
        messages = check_calendar()
    assert [m.id for m in messages] == ["sla.W001"] and "2027年" in messages[0].msg
    CalendarException.objects.create(date=dt.date(2027, 1, 1), is_workday=False, name="元旦")
    calendar.invalidate()
    with clock.frozen_now(at(2026, 11, 25, 9)):
        assert check_calendar() == []
