"""A cross-tab as an Excel workbook: the filter stated above the table, numbers formatted by kind (rates as
percentages, means as hours), totals in bold, the formulas below; set up to print on A4. Figures only."""

from __future__ import annotations

from io import BytesIO

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter

from hotline.common.audit import audit_access
from hotline.common.spreadsheet import safe_row
from hotline.orgs.models import User

from ..crosstab.engine import Table
from ..measures import AVERAGE, RATE

FORMATS = {RATE: "0.0%", AVERAGE: "0.0", "count": "#,##0"}
THIN = Side(style="thin", color="999999")


def crosstab_xlsx(*, user: User, table: Table, title: str) -> HttpResponse:
    spec = table.spec
    book = Workbook()
    sheet = book.active
    sheet.title = (title or _("自定义报表"))[:31].translate({ord(c): "_" for c in "[]:*?/\\"})
    sheet.append(safe_row([title or _("自定义报表")]))
    sheet["A1"].font = Font(bold=True, size=14)
    for label, value in spec.describe():
        sheet.append(safe_row([label, value]))
    sheet.append([])
    header_row = sheet.max_row + 1
    sheet.append(safe_row([str(spec.rows.name), *[c.label for c in table.columns]]))
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
        cell.fill = PatternFill("solid", fgColor="DDDDDD")
        cell.alignment = Alignment(horizontal="center", wrap_text=True)
        cell.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
    for row in table.rows:
        values: list[object] = [row.label]
        for col, cell in zip(table.columns, row.cells, strict=True):
            if cell.value is None:
                values.append("—")
            elif col.measure.kind == RATE:
                values.append(cell.value / 100)
            else:
                values.append(cell.value)
        sheet.append(safe_row(values))
        excel_row = sheet.max_row
        for i, col in enumerate(table.columns, start=2):
            target = sheet.cell(row=excel_row, column=i)
            target.number_format = FORMATS.get(col.measure.kind, "#,##0")
            target.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
            if row.total or col.total:
                target.font = Font(bold=True)
        first = sheet.cell(row=excel_row, column=1)
        first.border = Border(top=THIN, bottom=THIN, left=THIN, right=THIN)
        if row.total:
            first.font = Font(bold=True)
    sheet.append([])
    for gm in spec.measures:
        sheet.append(safe_row([str(gm.measure.name), str(gm.measure.formula)]))
    sheet.append(safe_row([_("导出时间"), timezone.localtime().strftime("%Y-%m-%d %H:%M")]))
    sheet.column_dimensions["A"].width = 28
    for i in range(2, len(table.columns) + 2):
        sheet.column_dimensions[get_column_letter(i)].width = 14
    sheet.freeze_panes = sheet.cell(row=header_row + 1, column=2)
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.orientation = "landscape" if len(table.columns) > 6 else "portrait"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.print_title_rows = f"{header_row}:{header_row}"
    audit_access(
        actor=user,
        object_type="analytics.crosstab",
        summary=f"导出自定义报表 {title}"[:255],
        filters={k: ",".join(v) for k, v in spec.params.items()},
        rows=len(table.rows),
    )
    buffer = BytesIO()
    book.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    response["Content-Disposition"] = f"attachment; filename=report-{stamp}.xlsx"
    return response
