"""Supervision pages of the workbench (SLA-5). Thin: the selectors compute every figure."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from rest_framework.exceptions import ValidationError

from hotline.common.errors import NotAllowed

from . import api, selectors


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
    quality = selectors.quality_supervision(user=user, period=period)
    api.record_quality_view(user=user, quality=quality, period=period)
    return render(
        request,
        "sla/supervision.html",
        {
            "error": error,
            "period_from": timezone.localtime(period.start).date(),
            "period_to": (timezone.localtime(period.end) - dt.timedelta(days=1)).date(),
            "cards": selectors.card_ledger(user=user, period=period),
            "limits": selectors.time_limit_supervision(user=user, period=period),
            "results": selectors.result_supervision(user=user, period=period)[:100],
            "quality": quality,
        },
    )
