"""Supervision pages of the workbench (SLA-5). Thin: the selectors compute every figure."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from hotline.common.errors import NotAllowed

from . import api, exports, selectors

# The page's sections, one at a time (each computes only its own figures).
TABS = [
    ("ledger", _("红黄牌台账")),
    ("limits", _("时限督办")),
    ("results", _("结果督办")),
    ("quality", _("质量督办")),
]


def _links(period: selectors.Period) -> dict[str, Any]:
    """Search URLs behind each figure: the same definitions, the same period."""
    search = reverse("case-search")
    base = {"since": period.start.isoformat(), "until": period.end.isoformat()}

    def link(**params: Any) -> str:
        return f"{search}?{urlencode({**base, **params})}"

    return {
        "warnings": link(alert="warning"),
        "yellow": link(alert="yellow"),
        "red": link(alert="red"),
        "reminders": link(alert="reminder"),
        "extensions_requested": link(extension="requested"),
        "extensions_approved": link(extension="approved"),
        "late_reports": link(late_report="true"),
        "received": link(received="true"),
        "signed_late": link(late_stage="sign_for"),
        "replied_late": link(late_stage="reply"),
        "results": f"{search}?"
        + urlencode(
            {
                "status": "not_accepted,pending_not_accepted",
                "created_from": timezone.localtime(period.start).date().isoformat(),
                "created_to": timezone.localtime(period.end).date().isoformat(),
            }
        ),
        "dissatisfied": link(dissatisfied="true"),
    }


@login_required
def supervision(request: HttpRequest) -> HttpResponse:
    try:
        user = api.require_supervisor(request.user)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    error = ""
    try:
        period = api.period_from(request.GET)
    except ValidationError as exc:
        error = "；".join(str(m) for msgs in exc.detail.values() for m in msgs)  # type: ignore[union-attr]
        period = api.period_from({})
    if request.GET.get("export") == "xlsx":
        return exports.supervision_xlsx(user=user, period=period)
    tab = request.GET.get("tab", "ledger")
    tab = tab if tab in dict(TABS) else "ledger"
    context: dict[str, Any] = {
        "error": error,
        "tabs": TABS,
        "tab": tab,
        "period_from": timezone.localtime(period.start).date(),
        "period_to": (timezone.localtime(period.end) - dt.timedelta(days=1)).date(),
        "links": _links(period),
        "formulas": selectors.supervision_formulas().get(tab, {}),
    }
    if tab == "ledger":
        context["cards"] = selectors.card_ledger(user=user, period=period)
    elif tab == "limits":
        context["limits"] = selectors.time_limit_supervision(user=user, period=period)
    elif tab == "results":
        results = selectors.result_supervision(user=user, period=period)
        context["results"] = results[:100]
        context["results_total"] = results.count()
    else:
        quality = selectors.quality_supervision(user=user, period=period)
        api.record_quality_view(user=user, quality=quality, period=period)
        context["quality"] = quality
    return render(request, "sla/supervision.html", context)
