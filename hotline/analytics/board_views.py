"""The live boards and the big screen (MON-1..3): pages render the first snapshot, SSE streams push the next
ones (hotline/analytics/live.py). Scoped like /analytics/: `?unit=` narrows to a subtree the viewer may see,
another unit is 404; the call board is the whole centre's and shown to those who see everything."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from hotline.common.errors import NotAllowed, NotFound
from hotline.common.push import stream_view
from hotline.orgs.models import Unit, User
from hotline.orgs.selectors import sees_everything

from . import api, bigscreen, boards, live, selectors


def _viewer(request: HttpRequest) -> User:
    try:
        return api.require_viewer(request.user)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc


def _unit(request: HttpRequest, user: User) -> Unit | None:
    """The subtree asked for (`?unit=`), or the viewer's own scope; another unit is 404, a bad id 400."""
    try:
        return selectors.scope_unit(user=user, unit_id=request.GET.get("unit"))
    except NotFound as exc:
        raise Http404(exc.message) from exc


def _bad_unit() -> HttpResponse:
    return HttpResponseBadRequest(_("单位编号应为整数"), content_type="text/plain; charset=utf-8")


def _unit_query(request: HttpRequest) -> str:
    unit = request.GET.get("unit")
    return f"?unit={unit}" if unit else ""


@login_required
def board(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    try:
        unit = _unit(request, user)
    except ValidationError:
        return _bad_unit()
    calls = sees_everything(user) and unit is None
    context = {
        "cases": boards.case_board(unit),
        "calls": boards.call_board() if calls else None,
        "unit": unit,
        "units": [{**u, "indent": "　" * (u["depth"] - 1)} for u in selectors.units_to_pick(user=user)],
        "cases_stream": f"{request.path}stream/cases/{_unit_query(request)}",
        "calls_stream": f"{request.path}stream/calls/" if calls else "",
    }
    return render(request, "analytics/board.html", context)


@stream_view
@login_required
def cases_stream(request: HttpRequest) -> HttpResponseBase:
    user = _viewer(request)
    try:
        unit = _unit(request, user)
    except ValidationError:
        return _bad_unit()
    key = ("cases", unit.pk if unit else None)
    return live.snapshot_stream(request, live.CASES, key, lambda: boards.case_board(unit))


@stream_view
@login_required
def calls_stream(request: HttpRequest) -> HttpResponseBase:
    user = _viewer(request)
    if not sees_everything(user):
        raise PermissionDenied(_("坐席与队列监控仅对热线办和市领导开放"))
    if request.GET.get("unit"):
        return HttpResponseBadRequest(
            _("坐席与队列看板不按单位筛选"), content_type="text/plain; charset=utf-8"
        )
    return live.snapshot_stream(request, live.CALLS, ("calls",), boards.call_board)


@login_required
def screen(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    try:
        unit = _unit(request, user)
    except ValidationError:
        return _bad_unit()
    context = {
        "data": bigscreen.snapshot(unit, opening=True),
        "echarts": bigscreen.ECHARTS if bigscreen.echarts_available() else "",
        "stream": f"{request.path}stream/{_unit_query(request)}",
    }
    return render(request, "analytics/screen.html", context)


@stream_view
@login_required
def screen_stream(request: HttpRequest) -> HttpResponseBase:
    user = _viewer(request)
    try:
        unit = _unit(request, user)
    except ValidationError:
        return _bad_unit()
    key = ("screen", unit.pk if unit else None)
    return live.snapshot_stream(request, live.CASES, key, lambda: bigscreen.snapshot(unit))
