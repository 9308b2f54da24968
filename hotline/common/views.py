"""The shell's own page: the home page, made of the panels the packages register (common.registry)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from .registry import home_panels, user_may


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """Each role lands on its own work: every registered panel the user may see and that has something to show."""
    user = request.user
    slots: dict[str, list[str]] = {"header": [], "main": []}
    for panel in home_panels():
        if panel.permission is not None and not user_may(user, panel.permission):
            continue
        context = panel.context(request, user)
        if context is None:
            continue
        html = render_to_string(panel.template, context, request=request)
        slots.setdefault(panel.slot, []).append(mark_safe(html))  # noqa: S308 - rendered by our own templates
    return render(request, "common/home.html", {"header": slots["header"], "sections": slots["main"]})
