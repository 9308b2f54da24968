"""The assessment screens (/analytics/kpi/): schemes and periods, results with grades, adjustments, improvement
notes and replies, Excel export. Thin: the services compute and guard."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from io import BytesIO
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from openpyxl import Workbook
from openpyxl.styles import Font

from hotline.common.audit import audit_access
from hotline.common.errors import NotAllowed, NotFound, ServiceError
from hotline.common.spreadsheet import safe_row
from hotline.orgs.models import Unit, UnitKind, User
from hotline.orgs.selectors import sees_everything

from .. import api as measures_api
from .. import measures as m
from ..group_measures import GROUP_REGISTRY
from . import services
from .groups import visible_group_scores
from .models import AssessmentPeriod, ImprovementNote, Scheme


def _viewer(request: HttpRequest) -> User:
    try:
        return measures_api.require_viewer(request.user)
    except NotAllowed as exc:
        raise PermissionDenied(exc.message) from exc


def _period(pk: int) -> AssessmentPeriod:
    period = AssessmentPeriod.objects.select_related("scheme").filter(pk=pk).first()
    if period is None:
        raise Http404(_("考核期不存在"))
    return period


def _fail(request: HttpRequest, exc: ServiceError) -> None:
    detail = "；".join(f"{k}：{'、'.join(v)}" for k, v in exc.field_errors.items())
    messages.error(request, f"{exc.message}{'（' + detail + '）' if detail else ''}")


@login_required
def index(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    schemes = Scheme.objects.filter(is_active=True).prefetch_related("indicators")
    scheme_rows = [
        {
            "scheme": s,
            "indicators": [
                {"i": i, "name": m.REGISTRY[i.measure].name if i.measure in m.REGISTRY else i.measure}
                for i in s.indicators.all()
            ],
        }
        for s in schemes
    ]
    context = {
        "schemes": scheme_rows,
        "periods": AssessmentPeriod.objects.select_related("scheme"),
        "manager": services.may_manage(user),
    }
    return render(request, "analytics/kpi/index.html", context)


@login_required
@require_POST
def period_create(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    scheme = Scheme.objects.filter(pk=request.POST.get("scheme") or 0, is_active=True).first()
    try:
        first = dt.date.fromisoformat(request.POST.get("first_day", ""))
        last = dt.date.fromisoformat(request.POST.get("last_day", ""))
    except ValueError:
        return HttpResponse(status=400, content=_("日期格式应为 YYYY-MM-DD"))
    if scheme is None:
        return HttpResponse(status=400, content=_("考核方案不存在"))
    try:
        period = services.period_create(
            user=user, scheme=scheme, name=request.POST.get("name", ""), first_day=first, last_day=last
        )
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ServiceError as exc:
        _fail(request, exc)
        return redirect("analytics:kpi")
    return redirect("analytics:kpi-period", pk=period.pk)


@login_required
def period_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _viewer(request)
    period = _period(pk)
    scores = list(services.visible_scores(user=user, period=period))
    if request.GET.get("export") == "xlsx":
        return _export(user, period, scores)
    notes = services.visible_notes(user=user, period=period)
    adjustments = period.adjustments.select_related("unit", "case")
    if not services.may_manage(user) and user.unit is not None:
        adjustments = adjustments.filter(unit__path__startswith=user.unit.path)
    context = {
        "period": period,
        "scores": scores,
        "notes": notes,
        "adjustments": adjustments,
        "manager": services.may_manage(user),
        "units": Unit.objects.exclude(kind=UnitKind.OFFICE).order_by("path"),
        "indicators": [
            (m.REGISTRY[i.measure].name, i) for i in period.scheme.indicators.all() if i.measure in m.REGISTRY
        ],
        # agent groups (kpi/groups.py): the office's own groups, shown to those who see the whole centre
        "group_indicators": [
            (GROUP_REGISTRY[i.measure], i)
            for i in period.scheme.indicators.all()
            if i.measure in GROUP_REGISTRY
        ],
        "group_scores": visible_group_scores(period=period, centre=True) if sees_everything(user) else None,
    }
    return render(request, "analytics/kpi/period.html", context)


def _post_action(request: HttpRequest, pk: int, action: Any) -> HttpResponse:
    user = _viewer(request)
    period = _period(pk)
    if not services.may_manage(user):  # office actions: nobody else learns what exists
        raise Http404(_("考核期不存在"))
    try:
        action(user, period)
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ServiceError as exc:
        _fail(request, exc)
        response = redirect("analytics:kpi-period", pk=period.pk)
        response.status_code = 303
        return response
    return redirect("analytics:kpi-period", pk=period.pk)


@login_required
@require_POST
def period_compute(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(request, pk, lambda user, period: services.compute(period=period, user=user))


@login_required
@require_POST
def period_publish(request: HttpRequest, pk: int) -> HttpResponse:
    return _post_action(request, pk, lambda user, period: services.publish(period=period, user=user))


def _unit(raw: str | None) -> Unit:
    unit = Unit.objects.filter(pk=int(raw)).first() if raw and raw.isdigit() else None
    if unit is None:
        raise ServiceError(_("单位不存在"), field_errors={"unit": [_("单位不存在")]})
    return unit


@login_required
@require_POST
def period_adjust(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, period: AssessmentPeriod) -> None:
        try:
            value = Decimal(request.POST.get("points", ""))
        except InvalidOperation as exc:
            raise ServiceError(_("分值应为数字"), field_errors={"points": [_("分值应为数字")]}) from exc
        services.adjustment_add(
            period=period,
            user=user,
            unit=_unit(request.POST.get("unit")),
            kind=request.POST.get("kind", ""),
            points_=value,
            reason=request.POST.get("reason", ""),
            case_number=request.POST.get("case", ""),
            evidence=request.FILES.get("evidence"),
        )

    return _post_action(request, pk, act)


@login_required
@require_POST
def period_note(request: HttpRequest, pk: int) -> HttpResponse:
    def act(user: User, period: AssessmentPeriod) -> None:
        link = request.build_absolute_uri(request.path.rsplit("note/", 1)[0])
        services.note_send(
            period=period,
            user=user,
            unit=_unit(request.POST.get("unit")),
            text=request.POST.get("text", ""),
            link=link,
        )

    return _post_action(request, pk, act)


@login_required
@require_POST
def note_reply(request: HttpRequest, pk: int) -> HttpResponse:
    user = _viewer(request)
    note = ImprovementNote.objects.filter(pk=pk).first()
    if note is None:
        raise Http404(_("整改通知不存在"))
    try:
        services.note_reply(note=note, user=user, reply=request.POST.get("reply", ""))
    except NotFound as exc:
        raise Http404(exc.message) from exc
    except ServiceError as exc:
        _fail(request, exc)
    return redirect("analytics:kpi-period", pk=note.period_id)


def _export(user: User, period: AssessmentPeriod, scores: list[Any]) -> HttpResponse:
    book = Workbook()
    sheet = book.active
    sheet.title = _("考核结果")
    sheet.append(safe_row([f"{period.scheme.name} · {period.name}"]))
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.append(safe_row([_("考核区间"), f"{period.first_day.isoformat()} — {period.last_day.isoformat()}"]))
    sheet.append(safe_row([_("状态"), period.get_status_display()]))
    sheet.append([])
    indicators = list(period.scheme.indicators.all())
    header = [
        _("单位"),
        _("层级"),
        *[str(m.REGISTRY[i.measure].name) for i in indicators if i.measure in m.REGISTRY],
    ]
    header += [_("指标得分"), _("加减分"), _("总分"), _("等级"), _("排名"), _("计分方式")]
    sheet.append(safe_row(header))
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for s in scores:
        values = {d.get("measure"): d.get("points") for d in s.details if "measure" in d}
        row = [s.unit.name, s.unit.depth]
        row += [
            float(values[i.measure]) if values.get(i.measure) else None
            for i in indicators
            if i.measure in m.REGISTRY
        ]
        row += [
            float(s.base) if s.base is not None else None,
            float(s.adjustment),
            float(s.total) if s.total is not None else None,
            s.grade,
            s.rank,
            _("下级加权") if s.from_children else _("直接考核"),
        ]
        sheet.append(safe_row(row))
        for cell in sheet[sheet.max_row][2:]:
            cell.number_format = "0.00"
    sheet.column_dimensions["A"].width = 24
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    groups = [i for i in indicators if i.measure in GROUP_REGISTRY]
    group_scores = list(visible_group_scores(period=period, centre=sees_everything(user))) if groups else []
    if group_scores:  # agent groups: a second sheet, for those who see the whole centre
        gsheet = book.create_sheet(_("坐席组考核"))
        gsheet.append(safe_row([_("坐席组（技能组）"), *[str(GROUP_REGISTRY[i.measure].name) for i in groups],
                                _("总分"), _("等级"), _("排名")]))  # fmt: skip
        for g in group_scores:
            points_by = {d["measure"]: d["points"] for d in g.details}
            gsheet.append(
                safe_row([g.queue.name, *[float(points_by[i.measure]) if points_by.get(i.measure) else None
                                          for i in groups],
                          float(g.total) if g.total is not None else None, g.grade, g.rank])
            )  # fmt: skip
        for i in groups:
            gsheet.append(
                safe_row([str(GROUP_REGISTRY[i.measure].name), str(GROUP_REGISTRY[i.measure].formula)])
            )
        gsheet.page_setup.paperSize = gsheet.PAPERSIZE_A4
    audit_access(
        actor=user,
        object_type="analytics.kpi",
        summary=f"导出考核结果 {period.name}"[:255],
        filters={"period": period.pk},
        rows=len(scores),
    )
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    response["Content-Disposition"] = (
        f"attachment; filename=kpi-{period.pk}-{timezone.localtime():%Y%m%d%H%M}.xlsx"
    )
    return response
