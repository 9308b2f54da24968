"""How dates and times read in Chinese, wherever they are written (pages, messages, errors)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def chinese_datetime(moment: dt.datetime) -> str:
    """2026年11月25日 14:05, in the local time zone."""
    local = timezone.localtime(moment)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
