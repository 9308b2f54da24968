"""The public portal's data broadcast page (数据播报, WEB-1): centre-wide figures from the measures registry,
for anyone, cached for a few minutes (anonymous traffic never recomputes them per request)."""

from __future__ import annotations

from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework import serializers

from . import selectors

CACHE_SECONDS = 300


def broadcast(request: HttpRequest) -> HttpResponse:
    kind = request.GET.get("period") or "month"
    try:
        period = selectors.period_from({"period": kind if kind in ("week", "month") else "month"})
    except serializers.ValidationError:  # pragma: no cover - only week/month reach it
        period = selectors.period_from({"period": "month"})
    key = f"portal:broadcast:{period.kind}:{period.first_day}:{period.last_day}"
    data = cache.get(key)
    if data is None:
        data = selectors.public_broadcast(period=period)
        data["measures"] = [
            {"name": str(m.name), "formula": str(m.formula), "kind": m.kind, "value": f.value,
             "numerator": f.numerator, "denominator": f.denominator}
            for m, f in data["measures"]
        ]  # fmt: skip
        cache.set(key, data, CACHE_SECONDS)
    return render(request, "analytics/portal_broadcast.html", {"period": period, "data": data})
