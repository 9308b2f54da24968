"""The contact-group screens (通讯组) of the SMS platform: a unit's groups, one group's members (masked; full
numbers revealed on request, audited) with sending to it, and a send's per-recipient delivery report."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from hotline.common.errors import NotFound, ServiceError

from . import groups, outbound
from .staff_views import _tabs, _user


@login_required
def group_list(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    if not groups.may_use(user):
        raise Http404
    values = {"name": "", "note": "", "phones": ""}
    errors: dict[str, list[str]] = {}
    error = ""
    if request.method == "POST":
        values = {k: request.POST.get(k, "") for k in values}
        try:
            group = groups.sms_group_create(actor=user, **values)
        except ServiceError as exc:
            errors, error = exc.field_errors, exc.message
        else:
            return redirect("intake-sms-group", pk=group.pk)
    context = {
        **_tabs(user, "groups"),
        "groups": groups.groups_visible(user=user),
        "values": values,
        "errors": errors,
        "error": error,
    }
    return render(request, "intake/sms/groups.html", context, status=400 if error else 200)


def _group_or_404(request: HttpRequest, pk: int) -> Any:
    try:
        return groups.group_get(user=_user(request), pk=pk)
    except NotFound:
        raise Http404 from None


@login_required
def group_detail(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    group = _group_or_404(request, pk)
    errors: dict[str, list[str]] = {}
    error = ""
    values = {"phones": "", "text": "", "case_number": ""}
    revealed = False
    if request.method == "POST":
        action = request.POST.get("action", "")
        values.update({k: request.POST.get(k, "") for k in values})
        try:
            if action == "reveal":
                members = groups.group_reveal(user=user, group=group)
                revealed = True
            elif action == "add":
                added = groups.sms_group_members_add(actor=user, pk=pk, phones=values["phones"])
                request.session["sms_flash"] = _("已加入%(n)s个号码") % {"n": added}
                return redirect("intake-sms-group", pk=pk)
            elif action == "remove" and request.POST.get("member", "").isdigit():
                groups.sms_group_member_remove(actor=user, pk=pk, member=int(request.POST["member"]))
                return redirect("intake-sms-group", pk=pk)
            elif action == "delete":
                groups.sms_group_delete(actor=user, pk=pk)
                return redirect("intake-sms-groups")
            elif action == "send":
                send = groups.sms_group_send(
                    actor=user, pk=pk, text=values["text"], case_number=values["case_number"]
                )
                return redirect("intake-sms-group-send", pk=send.pk)
            else:
                raise ServiceError(_("请求无效"))
        except NotFound:
            raise Http404 from None
        except ServiceError as exc:
            errors, error = exc.field_errors, exc.message
    if not revealed:
        members = groups.group_members(group=group)
    sends = groups.sends_with_counts(user=user, group=group)
    extension = outbound.SmsExtension.objects.filter(unit=user.unit).first() if user.unit else None
    context = {
        **_tabs(user, "groups"),
        "group": group,
        "members": members,
        "revealed": revealed,
        "may_reveal": groups.may_reveal(user),
        "sends": sends,
        "phrases": outbound.phrases(),
        "from_number": outbound.from_number(extension),
        "values": values,
        "errors": errors,
        "error": error,
        "flash": request.session.pop("sms_flash", ""),
    }
    return render(request, "intake/sms/group.html", context, status=400 if error else 200)


@login_required
def group_send_report(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    try:
        report = groups.send_report(user=user, pk=pk)
    except NotFound:
        raise Http404 from None
    context = {**_tabs(user, "groups"), "report": report, "send": report.send}
    return render(request, "intake/sms/group_send.html", context)
