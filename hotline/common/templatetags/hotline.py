from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone, translation

from hotline.common.formats import chinese_datetime
from hotline.common.registry import MenuItem, choice_label, menu_for, user_may

register = template.Library()
# Month abbreviations in English mode, independent of the server's C locale.
MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def _english() -> bool:
    return (translation.get_language() or "").startswith("en")


@register.filter
def cn_datetime(value: dt.datetime | None) -> str:
    """2026年11月25日 14:05 (English: 25 Nov 2026 14:05)."""
    if not value:
        return "—"
    if _english():
        local = timezone.localtime(value)
        return f"{local.day} {MONTHS_EN[local.month - 1]} {local.year} {local:%H:%M}"
    return chinese_datetime(value)


@register.filter
def cn_date(value: dt.datetime | None) -> str:
    """2026年11月25日 (English: 25 Nov 2026)."""
    if not value:
        return "—"
    local = timezone.localtime(value)
    if _english():
        return f"{local.day} {MONTHS_EN[local.month - 1]} {local.year}"
    return f"{local.year}年{local.month}月{local.day}日"


@register.filter
def cn_short(value: dt.datetime | None) -> str:
    """11月25日 14:05 (this year) or 2025年11月25日; English: 25 Nov 14:05 or 25 Nov 2025."""
    if not value:
        return "—"
    local = timezone.localtime(value)
    this_year = local.year == timezone.localtime().year
    if _english():
        day = f"{local.day} {MONTHS_EN[local.month - 1]}"
        return f"{day} {local:%H:%M}" if this_year else f"{day} {local.year}"
    if this_year:
        return f"{local.month}月{local.day}日 {local:%H:%M}"
    return f"{local.year}年{local.month}月{local.day}日"


@register.filter
def stage_label(value: str | None) -> str:
    """The name of a deadline's stage (签收, 答复热线办, 回访 …); empty for none."""
    return choice_label("sla_stage", value)


@register.filter
def action_label(value: str) -> str:
    return choice_label("case_action", value)


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
    return choice_label("case_status", value)


@register.simple_tag(takes_context=True)
def main_menu(context: template.Context) -> list[MenuItem]:
    """The menu entries the packages registered that the signed-in user may see, the current page's active."""
    request = context.get("request")
    user = context.get("user") or getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return []
    match = getattr(request, "resolver_match", None)
    return menu_for(user, match.url_name if match else None)


@register.filter
def may(user: object, permission: str) -> bool:
    """`{% if user|may:"cases.intake" %}`: the registered permission's answer for the user."""
    return user_may(user, permission)
