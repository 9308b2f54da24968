"""The case page's panels from intake.

Answering a mailbox request by e-mail (邮件往来: the thread and the answer form, mail_answers). The callback-SMS
panel (CLS-2 by SMS for requests that did not come by SMS): while a case waits for its callback, an agent,
dispatcher or monitor who sees the case sends the rating SMS (reply 1–5) to the citizen's mobile; the invitations
sent are listed. SMS requests get theirs automatically (apps.py)."""

from __future__ import annotations

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from hotline.cases.lifecycle import CALLBACK_ROLES
from hotline.cases.models import Case, CaseStatus
from hotline.cases.selectors import case_get
from hotline.common.errors import NotFound, ServiceError
from hotline.common.validators import MOBILE_RE, normalize_phone
from hotline.orgs.models import User

from . import mail_answers, services
from .models import CallbackInvite, ChannelMessage, MailAnswer


def _case(request: HttpRequest, case_pk: int) -> tuple[Case, User]:
    user = request.user
    assert isinstance(user, User)
    try:
        return case_get(user=user, pk=case_pk), user
    except NotFound as exc:
        raise Http404 from exc


@login_required
def callback_sms(request: HttpRequest, case_pk: int) -> HttpResponse:
    case, user = _case(request, case_pk)
    may_send = (
        user.has_role(*CALLBACK_ROLES)
        and case.status == CaseStatus.CALLBACK
        and bool(MOBILE_RE.match(normalize_phone(case.citizen_phone)))
    )
    message, status = "", 200
    if request.method == "POST":
        if not may_send:
            message, status = _("该工单当前不能发送回访短信（需待回访状态且留有手机号码）"), 400
        elif services.callback_sms_send(case=case) is not None:
            message = _("回访短信已发送，市民回复数字1-5即完成评价。")
    invites = CallbackInvite.objects.filter(case=case).order_by("-sent_at")[:20]
    return render(
        request,
        "intake/_case_callback_sms.html",
        {"case": case, "may_send": may_send, "invites": invites, "message": message},
        status=status,
    )


def mail_answer_panel_context(request: HttpRequest, user: User, case: Case) -> dict[str, object] | None:
    """Shown on mailbox requests only (the case page is already scoped to what `user` may see)."""
    if case.channel not in mail_answers.MAIL_CHANNELS:
        return None
    return {"case": case}


@login_required
def mail_answer(request: HttpRequest, case_pk: int) -> HttpResponse:
    """The 邮件答复 card: the thread (the citizen's mails and our answers) and, for agents, the answer form."""
    case, user = _case(request, case_pk)
    may = mail_answers.may_answer(user, case)
    message, errors, status, text = "", [], 200, ""
    if request.method == "POST":
        text = request.POST.get("text", "")
        if not may:
            errors, status = [_("该工单不能通过邮件答复")], 400
        else:
            try:
                mail_answers.mail_answer_send(case=case, actor=user, text=text)
            except ServiceError as exc:
                errors, status = (
                    [e for es in (exc.field_errors or {"": [exc.message]}).values() for e in es],
                    400,
                )
            else:
                message, text = _("答复邮件已发送。"), ""
    rows: list[tuple[dt.datetime, str, str]] = [
        *(
            (m.received_at, "citizen", m.text)
            for m in ChannelMessage.objects.filter(channel__in=mail_answers.MAIL_CHANNELS, case=case)[:50]
        ),
        *((a.at, "answer", a.text) for a in MailAnswer.objects.filter(case=case).order_by("at")[:50]),
    ]
    thread = [{"at": at, "who": who, "text": text} for at, who, text in sorted(rows, key=lambda row: row[0])]
    return render(
        request,
        "intake/_case_mail_answer.html",
        {
            "case": case,
            "may_answer": may,
            "thread": thread,
            "message": message,
            "errors": errors,
            "text": text,
        },
        status=status,
    )
