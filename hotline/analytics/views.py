"""The leaders' page of measures (/analytics/). Thin: the measures compute, the selectors scope."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError

from hotline.common.errors import NotAllowed, NotFound
from hotline.orgs.models import Unit

from . import api, exports, selectors
from .measures import Scope

PERIOD_LABELS = [("day", _("今日")), ("week", _("本周")), ("month", _("本月")), ("custom", _("自定义"))]


def _links(scope: Scope, *, exact: bool, unit_param: int | None) -> dict[str, Any]:
    """Case-search URLs behind the figures the search can reproduce. `exact=False` (a unit with sub-units picked:
    the search filters one unit, not a subtree) gives none rather than a list that would not match."""
    if not exact:
        return {}
    search = reverse("case-search")
    unit = {"unit": unit_param} if unit_param else {}
    created = {"created_from": scope.start.isoformat(), "created_to": scope.end.isoformat(), **unit}
    events = {"since": scope.start.isoformat(), "until": scope.end.isoformat(), **unit}

    def link(params: dict[str, Any]) -> str:
        return f"{search}?{urlencode(params)}"

    return {
        "intake_volume": link(created),
        "intake_channel": {c: link({**created, "channel": c}) for c in _channels()},
        "on_time_sign_for": (_("超时签收"), link({**events, "late_stage": "sign_for"})),
        "on_time_completion": (_("超期上报"), link({**events, "late_report": "true"})),
    }


def _channels() -> list[str]:
    from hotline.cases.models import Channel

    return list(Channel.values)


@login_required
def measures(request: HttpRequest) -> HttpResponse:
    try:
        user = api.require_viewer(request.user)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc
    error = ""
    try:
        period = selectors.period_from(request.GET)
    except ValidationError as exc:
        error = "；".join(str(m) for msgs in exc.detail.values() for m in msgs)  # type: ignore[union-attr]
        period = selectors.period_from({})
    try:
        scope = selectors.scope_for(user=user, period=period, unit_id=request.GET.get("unit"))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ValidationError:
        error = error or str(_("单位编号应为整数"))
        scope = selectors.scope_for(user=user, period=period)
    if request.GET.get("export") == "xlsx":
        return exports.measures_xlsx(user=user, period=period, scope=scope)
    # The case search filters one unit, not a subtree: a picked unit links only when it has no sub-units. Without
    # a pick, the search is scoped to what the user sees already (everything, or a unit leader's subtree).
    picked = scope.unit if request.GET.get("unit") else None
    exact = picked is None or not Unit.objects.filter(parent=picked).exists()
    links = _links(scope, exact=exact, unit_param=picked.pk if picked else None)
    rows = []
    channel_links = links.get("intake_channel", {})
    for measure, figure in selectors.measure_table(scope=scope):
        breakdown = [{**b, "url": channel_links.get(b["key"], "")} for b in figure.breakdown]
        rows.append(
            {"measure": measure, "figure": figure, "breakdown": breakdown, "link": links.get(measure.key)}
        )
    query = {"period": period.kind, "from": period.first_day.isoformat(), "to": period.last_day.isoformat()}
    if request.GET.get("unit"):
        query["unit"] = str(scope.unit.pk) if scope.unit else ""
    context = {
        "error": error,
        "rows": rows,
        "period": period,
        "periods": PERIOD_LABELS,
        "scope": scope,
        "units": [{**u, "indent": "　" * (u["depth"] - 1)} for u in selectors.units_to_pick(user=user)],
        "picked_unit": picked.pk if picked else None,
        "export_query": urlencode({**query, "export": "xlsx"}),
    }
    return render(request, "analytics/measures.html", context)
