"""The citizen portal's "找回查询密码" page (INT-6): a code to the phone or e-mail given at intake, then a new query
password shown to the citizen alone. Anonymous, throttled per address; the rules are in services/password_reset.py."""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hotline.common.errors import ServiceError
from hotline.common.throttles import AnonymousAddressRateThrottle

from . import services


class PortalPasswordThrottle(AnonymousAddressRateThrottle):
    """Per address, for anonymous visitors: both steps together."""

    scope = "portal_query_password"
    rate = "30/hour"


class CodeForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("工单编号"), max_length=32)
    contact = forms.CharField(label=gettext_lazy("受理时登记的手机号码或电子邮箱"), max_length=100)


class ResetForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("工单编号"), max_length=32)
    code = forms.RegexField(
        label=gettext_lazy("验证码"),
        regex=r"^\d{6}$",
        error_messages={"invalid": gettext_lazy("验证码为6位数字")},
    )


def _styled(form: forms.Form) -> forms.Form:
    for name, field in form.fields.items():
        field.widget.attrs.update({"class": "form-control", "autocomplete": "off"})
        if name == "code":
            field.widget.attrs.update({"inputmode": "numeric", "autocomplete": "one-time-code"})
    return form


def query_password_reset(request: HttpRequest) -> HttpResponse:
    context: dict[str, Any] = {}
    step = request.POST.get("step", "") if request.method == "POST" else ""
    if step:
        throttle = PortalPasswordThrottle()
        if not throttle.allow_request(request, None):
            wait = math.ceil(throttle.wait() or 60)
            context["error"] = _("操作过于频繁，请 %(minutes)s 分钟后再试。") % {
                "minutes": math.ceil(wait / 60)
            }
            response = render(
                request,
                "cases/portal/query_password.html",
                {
                    **context,
                    "code_form": _styled(CodeForm(auto_id="code_%s")),
                    "reset_form": _styled(ResetForm(auto_id="reset_%s")),
                },
                status=429,
            )
            response["Retry-After"] = str(wait)
            return response
    code_form = _styled(CodeForm(request.POST if step == "code" else None, auto_id="code_%s"))
    reset_form = _styled(ResetForm(request.POST if step == "reset" else None, auto_id="reset_%s"))
    if step == "code" and code_form.is_valid():
        try:
            services.query_password_code_request(**code_form.cleaned_data)
        except ServiceError as exc:
            code_form.add_error(None, exc.message)
        else:
            context["code_sent"] = True
            reset_form = _styled(
                ResetForm(initial={"number": code_form.cleaned_data["number"].strip()}, auto_id="reset_%s")
            )
    elif step == "reset" and reset_form.is_valid():
        try:
            context["new_password"] = services.query_password_reset(**reset_form.cleaned_data)
            context["number"] = reset_form.cleaned_data["number"].strip()
        except ServiceError as exc:
            for field, errors in (exc.field_errors or {"": [exc.message]}).items():
                for error in errors:
                    reset_form.add_error(field if field in reset_form.fields else None, error)
    context.update({"code_form": code_form, "reset_form": reset_form, "step": step})
    response = render(request, "cases/portal/query_password.html", context)
    response["Cache-Control"] = "no-store"  # the page may show a new password
    return response
