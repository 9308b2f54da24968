"""/analytics/topics/: the most asked topics with their change, and emerging issues."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from rest_framework.exceptions import ValidationError

from hotline.cases.permissions import may_see_clusters
from hotline.common.errors import NotFound

from ..crosstab import dimensions as dims
from ..reports.views import PERIOD_LABELS, _errors, _viewer
from . import analysis


@login_required
def topics(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    dimension = request.GET.get("dimension") or "case_type"
    params = {k: v for k, v in request.GET.items() if k in ("period", "from", "to", "unit")}
    params.setdefault("period", "month")
    context: dict[str, Any] = {
        "dimensions": [dims.REGISTRY[k] for k in analysis.TOPIC_DIMENSIONS],
        "dimension": dimension,
        "periods": PERIOD_LABELS,
        "p": params,
    }
    if dimension not in analysis.TOPIC_DIMENSIONS:
        context["errors"] = {"dimension": ["维度无效"]}
        return render(request, "analytics/topics.html", context, status=400)
    try:
        spec, rows = analysis.most_asked(params, user=user, dimension=dimension)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ValidationError as exc:
        context["errors"] = _errors(exc)
        return render(request, "analytics/topics.html", context, status=400)
    context.update({"spec": spec, "rows": rows[:30]})
    if may_see_clusters(user):
        context["emerging"] = analysis.emerging(user=user)
    return render(request, "analytics/topics.html", context)
