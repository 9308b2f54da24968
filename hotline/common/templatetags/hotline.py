from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone

from hotline.cases.lifecycle import Action
from hotline.cases.models import CaseStatus
from hotline.common.formats import chinese_datetime

register = template.Library()


@register.filter
def cn_datetime(value: dt.datetime | None) -> str:
    """2026年11月25日 14:05"""
    return chinese_datetime(value) if value else "—"


@register.filter
def cn_short(value: dt.datetime | None) -> str:
    """11月25日 14:05 (this year) or 2025年11月25日"""
    if not value:
        return "—"
    local = timezone.localtime(value)
    if local.year == timezone.localtime().year:
        return f"{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local.year}年{local.month}月{local.day}日"


@register.filter
def action_label(value: str) -> str:
    try:
        return str(Action(value).label)
    except ValueError:
        return value


@register.filter
def is_past(value: dt.datetime | None) -> bool:
    return bool(value and value < timezone.now())


@register.filter
def get_item(mapping: dict[str, object], key: str) -> object:
    return mapping.get(key)


STATUS_TONES = {
    "draft": "secondary",
    "returned": "warning",
    "pending_not_accepted": "warning",
    "not_accepted": "dark",
    "submitted": "info",
    "leader_review": "info",
    "dispatched": "primary",
    "handling": "primary",
    "return_review": "warning",
    "result_review": "info",
    "callback": "info",
    "redo": "danger",
    "special_supervision": "danger",
    "closed": "success",
    "merged": "secondary",
}


@register.filter
def status_tone(value: str) -> str:
    return STATUS_TONES.get(value, "secondary")


@register.filter
def status_label(value: str) -> str:
    try:
        return str(CaseStatus(value).label)
    except ValueError:
        return value
