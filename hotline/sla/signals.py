from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from . import calendar
from .models import CalendarException, OfficeHours


@receiver([post_save, post_delete], sender=CalendarException)
@receiver([post_save, post_delete], sender=OfficeHours)
def _calendar_changed(**_: Any) -> None:
    calendar.invalidate()
