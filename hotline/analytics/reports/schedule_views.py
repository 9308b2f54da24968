"""Scheduled reports (/analytics/reports/schedules/): the user's schedules, a form to add one, delete. Thin."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from hotline.common.errors import NotFound
from hotline.orgs.models import User
from hotline.orgs.selectors import sees_everything

from . import presets, schedules, services
from .models import Frequency
from .views import _errors, _viewer


def _context(user: User) -> dict[str, Any]:
    return {
        "schedules": [(s, schedules.source_name(s)) for s in schedules.visible_schedules(user=user)],
        "call_reports": schedules.call_presets() if sees_everything(user) else [],
        "reports": services.visible_reports(user=user),
        "presets": [p for p in presets.presets() if sees_everything(user) or not p.centre_only],
        "frequencies": Frequency.choices,
        "hours": range(24),
        "recipients": schedules.recipients_in_scope(user=user),
    }


@login_required
def schedule_list(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    if request.method == "POST":
        choice = request.POST.get("source", "")
        kind, _sep, value = choice.partition(":")
        try:
            schedules.schedule_create(
                user=user,
                report_id=value if kind == "report" else None,
                preset=value if kind == "preset" else "",
                frequency=request.POST.get("frequency", ""),
                hour=request.POST.get("hour", ""),
                recipient_ids=request.POST.getlist("recipients"),
            )
        except ValidationError as exc:
            context = {**_context(user), "errors": _errors(exc), "posted": request.POST}
            return render(request, "analytics/reports/schedules.html", context, status=400)
        messages.success(request, _("定时报表已设置"))
        return redirect("analytics:report-schedules")
    return render(request, "analytics/reports/schedules.html", _context(user))


@login_required
@require_POST
def schedule_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _viewer(request)
    try:
        schedules.schedule_delete(user=user, schedule=schedules.schedule_get(user=user, pk=pk))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    messages.success(request, _("定时报表已删除"))
    return redirect("analytics:report-schedules")
