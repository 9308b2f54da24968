"""The SMS platform screens (短信平台): compose (to one or many phones, with common phrases, from the unit's
extension), the office's phrases and extension numbers, and the per-day / per-unit summary with its export."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.common import clock
from hotline.common.errors import ServiceError
from hotline.common.spreadsheet import write_table
from hotline.orgs.models import Unit, User

from . import outbound

CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
}


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _tabs(user: User, active: str) -> dict[str, Any]:
    from ..texts import may_edit_texts

    return {"tab": active, "may_manage": outbound.may_manage(user), "may_edit_texts": may_edit_texts(user)}


@login_required
def sms_page(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not outbound.may_send(user):
        raise Http404
    values = {"phones": "", "text": "", "case_number": request.GET.get("case", "")[:32]}
    errors: dict[str, list[str]] = {}
    error = ""
    revealed: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None = None
    if request.method == "POST" and request.POST.get("action") == "reveal":
        try:
            revealed = outbound.recent_reveal(user=user)  # full numbers, audited
        except ServiceError as exc:  # a role that may not see them (as on the contact group's screen)
            error = exc.message
    elif request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            result = outbound.sms_send(actor=user, **values)
        except ServiceError as exc:
            errors, error = exc.field_errors, exc.message
        else:
            request.session["sms_flash"] = _("已提交%(n)s条短信（发送号码%(sender)s）") % {
                "n": len(result.sent),
                "sender": result.from_number,
            }
            return redirect("intake-sms")
    extension = outbound.SmsExtension.objects.filter(unit=user.unit).first() if user.unit else None
    context = {
        **_tabs(user, "send"),
        "values": values,
        "errors": errors,
        "error": error,
        "flash": request.session.pop("sms_flash", ""),
        "phrases": outbound.phrases(),
        "from_number": outbound.from_number(extension),
        "sent": revealed[0] if revealed else outbound.recent_sent(user=user),
        "replies": revealed[1] if revealed else outbound.recent_replies(user=user),
        "revealed": revealed is not None,
        "may_reveal": outbound.may_reveal(user),
    }
    return render(request, "intake/sms/send.html", context, status=400 if error else 200)


@login_required
def sms_settings(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not outbound.may_manage(user):
        raise Http404
    errors: dict[str, list[str]] = {}
    error = ""
    if request.method == "POST":
        action = request.POST.get("action", "")
        try:
            if action == "phrase-add":
                order = request.POST.get("order", "100")
                outbound.sms_phrase_add(
                    actor=user,
                    text=request.POST.get("text", ""),
                    order=int(order) if order.isdigit() else 100,
                )
            elif action == "phrase-remove" and request.POST.get("phrase", "").isdigit():
                outbound.sms_phrase_remove(actor=user, pk=int(request.POST["phrase"]))
            elif action == "extension-set" and request.POST.get("unit", "").isdigit():
                unit = Unit.objects.filter(pk=int(request.POST["unit"]), is_active=True).first()
                if unit is None:
                    raise ServiceError(_("请选择单位"), field_errors={"unit": [_("请选择单位")]})
                outbound.sms_extension_set(actor=user, unit=unit, code=request.POST.get("code", ""))
            else:
                raise ServiceError(_("请求无效"), field_errors={"unit": [_("请选择单位")]})
        except ServiceError as exc:
            errors, error = exc.field_errors, exc.message
        else:
            return redirect("intake-sms-settings")
    context = {
        **_tabs(user, "settings"),
        "phrases": outbound.phrases(),
        "extensions": outbound.extensions(),
        "units": Unit.objects.filter(is_active=True).order_by("depth", "sort_order", "id"),
        "service_number": outbound.service_number(),
        "errors": errors,
        "error": error,
    }
    return render(request, "intake/sms/settings.html", context, status=400 if error else 200)


def _date(value: str, default: dt.date) -> dt.date:
    try:
        return dt.date.fromisoformat(value) if value else default
    except ValueError:
        raise ServiceError(_("日期格式不正确"), field_errors={"start": [_("日期格式为YYYY-MM-DD")]}) from None


@login_required
def sms_summary(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not outbound.may_send(user):
        raise Http404
    today = timezone.localdate(clock.now())
    error = ""
    rows: list[dict[str, Any]] = []
    start, end = today - dt.timedelta(days=6), today
    try:
        start = _date(request.GET.get("start", ""), start)
        end = _date(request.GET.get("end", ""), end)
        rows = outbound.summary(user=user, start=start, end=end)
    except ServiceError as exc:
        error = exc.message
    fmt = request.GET.get("format", "")
    if fmt in CONTENT_TYPES and not error:
        header = [
            _("日期"),
            _("单位"),
            _("扩展号"),
            _("发送"),
            _("成功送达"),
            _("失败"),
            _("待回执"),
            _("收到回复"),
        ]
        table = [
            [r["day"].isoformat(), r["unit"], r["extension"], r["sent"], r["delivered"], r["failed"],
             r["pending"], r["received"]]
            for r in rows
        ]  # fmt: skip
        response = HttpResponse(write_table(fmt, header, table, "短信汇总"), content_type=CONTENT_TYPES[fmt])
        name = f"sms-summary-{start.isoformat()}-{end.isoformat()}.{fmt}"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    context = {
        **_tabs(user, "summary"),
        "rows": rows,
        "totals": outbound.summary_totals(rows),
        "start": start,
        "end": end,
        "error": error,
    }
    return render(request, "intake/sms/summary.html", context, status=400 if error else 200)
