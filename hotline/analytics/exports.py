"""The measures table as an Excel workbook: figures only (no case, citizen or caller appears), the filter stated."""

from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from hotline.common.audit import audit_access
from hotline.common.spreadsheet import safe_row
from hotline.orgs.models import User

from . import selectors
from .measures import RATE, Scope


def measures_xlsx(*, user: User, period: selectors.Period, scope: Scope) -> HttpResponse:
    book = Workbook()
    sheet = book.active
    sheet.title = _("运行指标")
    unit_name = scope.unit.name if scope.unit else _("全市")
    sheet.append(safe_row([_("统计区间"), f"{period.first_day.isoformat()} — {period.last_day.isoformat()}"]))
    sheet.append(safe_row([_("统计范围"), unit_name]))
    sheet.append([])
    header = [_("指标"), _("数值"), _("单位"), _("分子"), _("分母"), _("计算公式"), _("数据来源")]
    sheet.append(header)
    for cell in sheet[4]:
        cell.font = Font(bold=True)
    table = selectors.measure_table(scope=scope)
    for measure, figure in table:
        unit = "%" if measure.kind == RATE else _("件")
        value = figure.value if figure.applicable else _("不适用")
        sheet.append(
            safe_row(
                [
                    str(measure.name),
                    value,
                    unit,
                    figure.numerator,
                    figure.denominator,
                    str(measure.formula),
                    measure.source,
                ]
            )
        )
        for part in figure.breakdown:
            sheet.append(safe_row([f"  {measure.name}·{part['name']}", part["n"], unit]))
    for column, width in zip("ABCDEFG", (28, 10, 6, 10, 10, 60, 30), strict=True):
        sheet.column_dimensions[column].width = width
    audit_access(
        actor=user,
        object_type="analytics.measures",
        summary=f"导出运行指标 {len(table)} 项（{unit_name}）",
        filters={
            "from": period.first_day.isoformat(),
            "to": period.last_day.isoformat(),
            "unit": scope.unit.pk if scope.unit else None,
        },
        rows=len(table),
    )
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    response["Content-Disposition"] = f"attachment; filename=measures-{stamp}.xlsx"
    return response


def table_xlsx(
    *,
    user: User,
    name: str,
    title: str,
    stated: list[tuple[str, str]],
    header: list[str],
    rows: list[list[object]],
    formulas: list[str],
    filters: Mapping[str, object],
) -> HttpResponse:
    """Any report table as a workbook: the filter stated on top, a bold header, the formulas below; audited."""
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    for label, value in stated:
        sheet.append(safe_row([label, value]))
    sheet.append([])
    sheet.append(safe_row(header))
    for cell in sheet[len(stated) + 2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(safe_row(row))
    sheet.append([])
    for formula in formulas:
        sheet.append(safe_row([formula]))
    sheet.column_dimensions["A"].width = 24
    audit_access(
        actor=user, object_type=f"analytics.{name}", summary=f"导出{title} {len(rows)} 行", filters=filters,
        rows=len(rows),
    )  # fmt: skip
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    response["Content-Disposition"] = f"attachment; filename={name}-{stamp}.xlsx"
    return response
