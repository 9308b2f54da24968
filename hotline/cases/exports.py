"""Excel export of a case search (RPT-1's first piece), with openpyxl.

The caller columns are what the user sees on screen (`masking.caller`: secret callers hidden, numbers masked by
role), every cell goes through `safe_cell` (no formula injection), and the export is audited (who, filter,
rows)."""

from __future__ import annotations

from collections.abc import Mapping
from io import BytesIO

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from hotline.common.audit import audit_access
from hotline.common.spreadsheet import safe_row
from hotline.orgs.models import User

from . import lifecycle, masking
from .models import Case

MAX_EXPORT_ROWS = 10_000
COLUMNS = [
    "工单编号",
    "受理时间",
    "来源渠道",
    "诉求类型",
    "紧急程度",
    "标题",
    "来电人",
    "联系电话",
    "所属区县",
    "主办单位",
    "状态",
    "办理阶段",
    "办理时限",
    "办结时间",
]


def _local(value: object) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""  # type: ignore[arg-type]


def cases_xlsx(qs: QuerySet[Case], *, user: User, filters: Mapping[str, object]) -> HttpResponse:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "工单查询结果"
    sheet.append(COLUMNS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    rows = unmasked = 0
    for case in qs[:MAX_EXPORT_ROWS]:
        caller = masking.caller(case, user)
        rows += 1
        unmasked += caller.unmasked
        sheet.append(
            safe_row(
                [
                    case.number,
                    _local(case.created_at),
                    str(case.get_channel_display()),
                    case.case_type.name,
                    case.urgency.name if case.urgency else "",
                    case.title,
                    caller.name,
                    caller.phone,
                    case.district.name if case.district else "",
                    case.main_unit.name if case.main_unit else "",
                    str(case.get_status_display()),
                    str(lifecycle.Processing(lifecycle.PROCESSING_OF_STATUS[case.status]).label),
                    _local(case.due_at),
                    _local(case.closed_at),
                ]
            )
        )
    for column, width in zip(
        "ABCDEFGHIJKLMN", (16, 17, 9, 9, 9, 40, 10, 14, 10, 16, 12, 9, 17, 17), strict=True
    ):
        sheet.column_dimensions[column].width = width
    audit_access(
        actor=user,
        object_type="cases.case",
        summary=f"导出工单 {rows} 行（完整个人信息 {unmasked} 行）",
        filters=filters,
        rows=rows,
    )
    buffer = BytesIO()
    workbook.save(buffer)
    response = HttpResponse(
        buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    stamp = timezone.localtime().strftime("%Y%m%d%H%M")
    response["Content-Disposition"] = f"attachment; filename=cases-{stamp}.xlsx"
    return response
