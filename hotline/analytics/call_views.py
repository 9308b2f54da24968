"""The call reports page (/analytics/calls/): one report at a time over a period, printable, exported to Excel
with the filter stated. The call tables have no unit: only those who see the whole centre read them."""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from rest_framework.exceptions import ValidationError

from hotline.common.paging import paginate
from hotline.orgs.selectors import sees_everything

from . import call_tables, calls, exports, selectors
from .board_views import _viewer
from .call_tables import DETAIL_LABELS, DETAIL_PER_PAGE, DRILLED, EXPORT_LIMIT, REPORTS, table


@login_required
def call_reports(request: HttpRequest) -> HttpResponse:
    user = _viewer(request)
    if not sees_everything(user):
        raise PermissionDenied(_("话务报表仅对热线办和市领导开放"))
    errors: dict[str, list[str]] = {}
    try:
        period = selectors.period_from(request.GET)
    except ValidationError as exc:
        errors.update(exc.detail)  # type: ignore[arg-type]
        period = selectors.period_from({})
    report = request.GET.get("report") or "volume"
    grain = request.GET.get("grain") or "day"
    if report not in REPORTS:
        errors["report"] = [_("报表类型无效")]
    if grain not in calls.GRAINS:
        errors["grain"] = [_("统计粒度应为 month、week、day、hour 或 halfhour")]
    window = calls.Window(period.start, period.end)
    detail_filters = {k: request.GET[k].strip()[:64] for k in calls.DETAIL_FILTERS if request.GET.get(k)}
    control = detail_filters.get("control")
    if control and control not in {"any", "hold", *(str(kind) for _key, kind in calls.CONTROL_COLUMNS)}:
        errors["control"] = [_("通话控制类型无效")]
    if detail_filters.get("hour") and not calls.HOUR_FILTER.match(detail_filters["hour"]):
        errors["hour"] = [_("时段应为 00–23 点或半点（如 09、09:30）")]
    if errors:
        context = {"errors": errors, "reports": REPORTS, "grains": calls.GRAIN_LABELS, "period": period}
        return render(request, "analytics/calls.html", context, status=400)
    if report != "detail":
        detail_filters = {}
    page = None
    if report == "detail" and request.GET.get("export") != "xlsx":
        page = paginate(request, calls.detail_source(window, detail_filters), per_page=DETAIL_PER_PAGE)
    header, rows, raw = table(
        report, window, grain, detail_filters, list(page.object_list) if page is not None else None
    )
    filters = {
        "report": report,
        "grain": grain if report == "volume" else "",
        "from": period.first_day.isoformat(),
        "to": period.last_day.isoformat(),
        **detail_filters,
    }
    formulas = call_tables.formulas()
    if request.GET.get("export") == "xlsx":
        stated = [
            (_("报表"), str(REPORTS[report])),
            (_("统计区间"), f"{period.first_day.isoformat()} — {period.last_day.isoformat()}"),
            (_("统计粒度"), str(calls.GRAIN_LABELS[grain]) if report == "volume" else "—"),
            *[(str(DETAIL_LABELS[k]), v) for k, v in detail_filters.items()],
        ]
        if report == "detail" and len(rows) == EXPORT_LIMIT:
            stated.append((_("说明"), _("仅导出最新的 %(n)s 条，请缩小统计区间") % {"n": EXPORT_LIMIT}))
        return exports.table_xlsx(
            user=user, name=f"calls-{report}", title=str(REPORTS[report]), stated=stated,
            header=header, rows=rows, formulas=[str(v) for v in formulas.values()], filters=filters,
        )  # fmt: skip
    context = {
        "reports": REPORTS,
        "report": report,
        "grains": calls.GRAIN_LABELS,
        "grain": grain,
        "period": period,
        "header": header,
        "rows": rows,
        "detail": [{"row": row, "cases": r["cases"]} for row, r in zip(rows, raw, strict=True)]
        if report == "detail"
        else [],
        "formulas": formulas,
        "detail_filters": [(DETAIL_LABELS[k], v) for k, v in detail_filters.items()],
        # each row of the trunk / IVR / control / agent reports clicks through to the calls behind it
        "drill_rows": [
            {
                "row": row,
                "href": "?"
                + urlencode(
                    {"report": "detail", "from": filters["from"], "to": filters["to"], **r["detail_filter"]}
                ),
            }
            for row, r in zip(rows, raw, strict=True)
        ]
        if report in DRILLED
        else [],
        "export_query": urlencode({**filters, "export": "xlsx"}),
        "page": page,
    }
    return render(request, "analytics/calls.html", context)
