"""The case page's callback-SMS panel (CLS-2 by SMS for requests that did not come by SMS): while a case waits
for its callback, an agent, dispatcher or monitor who sees the case sends the rating SMS (reply 1–5) to the
citizen's mobile; the invitations sent are listed. SMS requests get theirs automatically (apps.py)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _

from hotline.cases.lifecycle import CALLBACK_ROLES
from hotline.cases.models import Case, CaseStatus
from hotline.cases.selectors import case_get
from hotline.common.errors import NotFound
from hotline.common.validators import MOBILE_RE, normalize_phone
from hotline.orgs.models import User

from . import services
from .models import CallbackInvite


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
