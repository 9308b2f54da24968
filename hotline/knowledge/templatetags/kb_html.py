"""`{{ item.content|kb_html }}`: an item body sanitised again when shown, so content stored under an older, looser
rule (classes such as `position-fixed` were once allowed) cannot restyle the page around it."""

from __future__ import annotations

from django import template
from django.utils.safestring import SafeString, mark_safe

from hotline.knowledge.text import sanitize_html

register = template.Library()


@register.filter
def kb_html(value: object) -> SafeString:
    return mark_safe(sanitize_html(str(value or "")))  # noqa: S308 - sanitised by nh3 just above
