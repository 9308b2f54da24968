"""The cross-tab builder and saved reports (/analytics/reports/). Thin: the engine runs, the services save."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _l
from django.views.decorators.http import require_POST
from rest_framework.exceptions import ValidationError

from hotline.cases.models import CaseStatus, Channel
from hotline.common.errors import NotAllowed, NotFound
from hotline.common.models import DictItem, DictKind
from hotline.orgs.models import Unit, UnitKind, User
from hotline.orgs.selectors import sees_everything

from .. import api as measures_api
from .. import selectors
from ..crosstab import dimensions as dims
from ..crosstab import engine
from ..crosstab import grouped as g
from . import exports, presets, services
from .models import SavedReport

PERIOD_LABELS = [("day", _l("今日")), ("week", _l("本周")), ("month", _l("本月")), ("custom", _l("自定义"))]


def _viewer(request: HttpRequest) -> User:
    try:
        return measures_api.require_viewer(request.user)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc


def _errors(exc: ValidationError) -> dict[str, list[str]]:
    detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
    return {k: [str(m) for m in (v if isinstance(v, list) else [v])] for k, v in detail.items()}


def _form_context(user: User, params: QueryDict) -> dict[str, Any]:
    units = selectors.units_to_pick(user=user)
    return {
        "dimensions": dims.DIMENSIONS,
        "grouped": [x for x in g.GROUPED if sees_everything(user) or x.measure.unit_scoped],
        "periods": PERIOD_LABELS,
        "units": [{**u, "indent": "　" * (u["depth"] - 1)} for u in units],
        "all_units": [
            {**u, "indent": "　" * (u["depth"] - 1)}
            for u in Unit.objects.exclude(kind=UnitKind.OFFICE).order_by("path").values("pk", "name", "depth")
        ],
        "bureaus": Unit.objects.filter(kind=UnitKind.BUREAU, parent__isnull=True).order_by(
            "sort_order", "id"
        ),
        "districts": Unit.objects.filter(kind=UnitKind.DISTRICT).order_by("sort_order", "id"),
        "case_types": DictItem.objects.filter(kind=DictKind.CASE_TYPE, is_active=True),
        "natures": DictItem.objects.filter(kind=DictKind.NATURE, is_active=True),
        "urgencies": DictItem.objects.filter(kind=DictKind.URGENCY, is_active=True),
        "channels": Channel.choices,
        "statuses": CaseStatus.choices,
        "p": {k: params.get(k, "") for k in params},
        "p_measures": params.getlist("measure"),
        "p_statuses": [s for item in params.getlist("status") for s in item.split(",")],
        "saved": services.visible_reports(user=user),
        "presets": [p for p in presets.presets() if sees_everything(user) or not p.centre_only],
    }


def _qd(params: dict[str, list[str]]) -> QueryDict:
    qd = QueryDict(mutable=True)
    for k, v in params.items():
        qd.setlist(k, v)
    return qd


def _render(
    request: HttpRequest, user: User, params: QueryDict, *, report: SavedReport | None = None
) -> HttpResponse:
    context = _form_context(user, params)
    context["report"] = report
    status = 200
    if "rows" in params:
        try:
            spec = engine.parse(params, user=user)
            table = engine.run(spec)
        except NotFound as exc:
            raise Http404(exc.message) from exc
        except ValidationError as exc:
            context["errors"] = _errors(exc)
            return render(request, "analytics/reports/builder.html", context, status=400)
        title = report.name if report else _("自定义报表")
        if request.GET.get("export") == "xlsx":
            return exports.crosstab_xlsx(user=user, table=table, title=title)
        query = urlencode(spec.params, doseq=True)
        context.update(
            {
                "table": table,
                "spec": spec,
                "title": title,
                "query": query,
                "drill_base": reverse("analytics:reports"),
                "printed_at": timezone.localtime(),
            }
        )
        if request.GET.get("print") == "1":
            return render(request, "analytics/reports/print.html", context)
    return render(request, "analytics/reports/builder.html", context, status=status)


@login_required
def builder(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    params = request.GET.copy()
    for key in ("export", "print"):
        params.pop(key, None)
    return _render(request, user, params)


@login_required
def report_run(request: HttpRequest, pk: int) -> HttpResponse:
    user = _viewer(request)
    try:
        report = services.report_get(user=user, pk=pk)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    return _render(request, user, _qd(report.params), report=report)


@login_required
@require_POST
def report_save(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    params = QueryDict(request.POST.get("query", ""))
    try:
        report = services.report_save(
            user=user,
            name=request.POST.get("name", ""),
            shared=request.POST.get("shared") == "on",
            params=params,
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ValidationError as exc:
        context = _form_context(user, params)
        context["errors"] = _errors(exc)
        return render(request, "analytics/reports/builder.html", context, status=400)
    messages.success(request, _("报表已保存"))
    return redirect("analytics:report-run", pk=report.pk)


@login_required
@require_POST
def report_delete(request: HttpRequest, pk: int) -> HttpResponse:
    user = _viewer(request)
    try:
        services.report_delete(user=user, report=services.report_get(user=user, pk=pk))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    messages.success(request, _("报表已删除"))
    return redirect("analytics:reports")
