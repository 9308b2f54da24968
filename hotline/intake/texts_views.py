"""市民文案: every citizen-facing text on one screen, edited with its placeholders checked (rules in `texts`)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from hotline.common.errors import ServiceError

from . import texts
from .models import WeChatNoticeTemplate
from .sms import outbound
from .wechat import notice_templates


def _wechat_templates() -> dict[str, dict[str, object]]:
    """Per notice that may go as a template message: its settings (or none) and the placeholders it offers."""
    rows = {t.code: t for t in WeChatNoticeTemplate.objects.filter(code__in=list(notice_templates.NOTICES))}
    return {
        code: {
            "name": name,
            "row": rows.get(code),
            "fields": notice_templates.fields_text(rows.get(code)),
            "placeholders": placeholders,
        }
        for code, (name, placeholders) in notice_templates.NOTICES.items()
    }


@login_required
def texts_page(request: HttpRequest) -> HttpResponse:
    user = request.user
    if not texts.may_edit_texts(user):
        raise Http404
    errors: dict[str, list[str]] = {}
    error, edited = "", ""
    values: dict[str, str] = {}
    tvalues: dict[str, str] = {}  # the template-message form's
    if request.method == "POST":
        edited = request.POST.get("code", "")[:50]
        values = {"subject": request.POST.get("subject", ""), "body": request.POST.get("body", "")}
        try:
            if request.POST.get("action") == "wechat-template":
                values, tvalues = {}, {k: request.POST.get(k, "") for k in ("template_id", "fields", "url")}
                notice_templates.notice_template_save(
                    actor=user, code=edited, **tvalues, is_active=request.POST.get("is_active") == "on"
                )
            elif request.POST.get("action") == "reset":
                texts.text_reset(actor=user, code=edited)
            else:
                texts.text_save(
                    actor=user,
                    code=edited,
                    subject=values["subject"],
                    body=values["body"],
                    is_active=request.POST.get("is_active") == "on",
                )
        except ServiceError as exc:
            errors, error = exc.field_errors, exc.message
        else:
            request.session["texts_flash"] = _("已保存")
            return redirect(f"{request.path}#text-{edited}")
    context = {
        "tab": "texts",
        "may_manage": outbound.may_manage(user),
        "may_edit_texts": True,
        "groups": texts.rows(),
        "edited": edited,
        "values": values,
        "tvalues": tvalues,
        "errors": errors,
        "error": error,
        "flash": request.session.pop("texts_flash", ""),
        "wechat_templates": _wechat_templates(),
        "template_sends": notice_templates.recent_sends(),
    }
    return render(request, "intake/texts.html", context, status=400 if error else 200)
