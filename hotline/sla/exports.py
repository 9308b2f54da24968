"""The supervision figures as an Excel workbook: one sheet per section, as on the page (numbers masked alike)."""

from __future__ import annotations

from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font

from hotline.common.spreadsheet import safe_row
from hotline.orgs.models import User

from . import api, selectors


def _sheet(book: Workbook, title: str, header: list[str], rows: list[list[Any]]) -> None:
    sheet = book.create_sheet(title)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(safe_row(row))
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = 16
    sheet.column_dimensions["A"].width = 28


def supervision_xlsx(*, user: User, period: selectors.Period) -> HttpResponse:
    book = Workbook()
    book.remove(book.active)
    cards = selectors.card_ledger(user=user, period=period)
    _sheet(
        book,
        _("红黄牌台账"),
        [
            _("单位"),
            _("预警"),
            _("黄牌"),
            _("红牌"),
            _("办理提醒"),
            _("申请延期"),
            _("同意延期"),
            _("超期上报"),
        ],
        [
            [
                r["unit_name"],
                r["warnings"],
                r["yellow"],
                r["red"],
                r["reminders"],
                r["extensions_requested"],
                r["extensions_approved"],
                r["late_reports"],
            ]
            for r in cards
        ],
    )
    limits = selectors.time_limit_supervision(user=user, period=period)
    _sheet(
        book,
        _("时限督办"),
        [
            _("单位"),
            _("收到交办"),
            _("超时签收"),
            _("超时答复"),
            _("平均签收用时（小时）"),
            _("平均答复用时（小时）"),
        ],
        [
            [
                r["unit_name"],
                r["received"],
                r["signed_late"],
                r["replied_late"],
                r["avg_hours_to_sign"],
                r["avg_hours_to_reply"],
            ]
            for r in limits
        ],
    )
    results = selectors.result_supervision(user=user, period=period)[:5000]
    _sheet(
        book,
        _("结果督办"),
        [_("工单编号"), _("标题"), _("原因"), _("状态")],
        [
            [
                c.number,
                c.title,
                c.not_accepted_reason.name if c.not_accepted_reason else "",
                str(c.get_status_display()),
            ]
            for c in results
        ],
    )
    quality = selectors.quality_supervision(user=user, period=period)
    api.record_quality_view(user=user, quality=quality, period=period)
    _sheet(
        book,
        _("重复来电"),
        [_("来电号码"), _("来电次数")],
        [[r["citizen_phone"], r["n"]] for r in quality["repeat_callers"]],
    )
    _sheet(
        book,
        _("不满意工单"),
        [_("工单编号"), _("标题"), _("不满意次数"), _("主办单位")],
        [
            [c.number, c.title, c.dissatisfied_count, c.main_unit.name if c.main_unit else ""]
            for c in quality["dissatisfied"]
        ],
    )
    from hotline.common.audit import audit_access

    audit_access(  # every export is audited: who, which period, how many rows
        actor=user,
        object_type="sla.supervision",
        summary="导出督办统计",
        filters={"from": period.start, "to": period.end},
        rows=sum(max(sheet.max_row - 1, 0) for sheet in book.worksheets),
    )
    response = HttpResponse(content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    book.save(response)
    start = timezone.localtime(period.start).date().isoformat()
    response["Content-Disposition"] = f"attachment; filename=supervision-{start}.xlsx"
    return response
