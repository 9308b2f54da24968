"""The public citizen portal (WEB-1): submit a request, get a case number and query password, follow it, rate the
result (CLS-2 on the web), list one's own requests after proving the phone by SMS code.

Anonymous, throttled per client address in the shared throttle store; the phone proven by an SMS code is the
human check (no outside captcha service). A form carries a random submission id: posting it again (a double
click, a reload, a retry after a timeout) shows the first request instead of making a second one.
"""

from __future__ import annotations

import math
import uuid
from typing import Any

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hotline.bulletins import selectors as bulletin_selectors
from hotline.cases import services as case_services
from hotline.cases.models import Case, Channel, Rating
from hotline.cases.public_lookup import LookupLocked, public_case_lookup
from hotline.common.errors import NotFound, ServiceError
from hotline.common.paging import paginate
from hotline.common.throttles import AnonymousAddressRateThrottle

from . import citizen, services
from .models import ChannelMessage

PORTAL_ACCOUNT = "portal"
SESSION_PHONE = "portal_phone"
SESSION_GRANTS = "portal_grants"
SESSION_RESULT = "portal_result"


class PortalSubmitThrottle(AnonymousAddressRateThrottle):
    scope = "portal_submit"
    rate = "10/hour"


class PortalCodeThrottle(AnonymousAddressRateThrottle):
    scope = "portal_code"
    rate = "10/hour"


class PortalLookupThrottle(AnonymousAddressRateThrottle):
    scope = "portal_lookup"
    rate = "30/hour"


def _throttled(request: HttpRequest, throttle: AnonymousAddressRateThrottle) -> HttpResponse | None:
    if throttle.allow_request(request, None):
        return None
    wait = math.ceil(throttle.wait() or 60)
    response = render(
        request,
        "intake/portal/message.html",
        {
            "title": _("操作过于频繁"),
            "text": _("请 %(minutes)s 分钟后再试。") % {"minutes": math.ceil(wait / 60)},
        },
        status=429,
    )
    response["Retry-After"] = str(wait)
    return response


PHONE_FIELD = forms.RegexField(
    label=gettext_lazy("手机号码"),
    regex=r"^1[3-9]\d{9}$",
    max_length=11,
    error_messages={"invalid": gettext_lazy("请输入11位手机号码")},
)
CODE_FIELD = forms.RegexField(
    label=gettext_lazy("短信验证码"),
    regex=r"^\d{6}$",
    max_length=6,
    error_messages={"invalid": gettext_lazy("验证码为6位数字")},
)


class SubmitForm(forms.Form):
    submission_id = forms.UUIDField(widget=forms.HiddenInput)
    case_type = forms.ChoiceField(label=gettext_lazy("诉求类型"))
    title = forms.CharField(label=gettext_lazy("标题"), max_length=100, required=False)
    content = forms.CharField(
        label=gettext_lazy("诉求内容"),
        min_length=10,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=gettext_lazy("请写清时间、地点、事情经过和您的请求。"),
    )
    location = forms.CharField(label=gettext_lazy("事发地点"), max_length=200, required=False)
    phone = PHONE_FIELD
    code = CODE_FIELD
    is_public = forms.BooleanField(
        label=gettext_lazy("同意公开（办结后可在网站公开，不含个人信息）"), required=False
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        case_type = self.fields["case_type"]
        assert isinstance(case_type, forms.ChoiceField)
        case_type.choices = [(t.code, t.name) for t in citizen.citizen_types()]
        for name, field in self.fields.items():
            css = "form-check-input" if name == "is_public" else "form-control"
            if name == "case_type":
                css = "form-select"
            field.widget.attrs.setdefault("class", css)
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})
        self.fields["code"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "one-time-code"})


class PhoneLoginForm(forms.Form):
    phone = PHONE_FIELD
    code = CODE_FIELD

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")
        self.fields["phone"].widget.attrs.update({"inputmode": "tel", "autocomplete": "tel"})
        self.fields["code"].widget.attrs.update({"inputmode": "numeric", "autocomplete": "one-time-code"})


class LookupForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("工单编号"), max_length=32)
    password = forms.CharField(
        label=gettext_lazy("查询密码"), max_length=32, required=False, widget=forms.PasswordInput
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.widget.attrs.setdefault("class", "form-control")


class RatingForm(forms.Form):
    rating = forms.ChoiceField(label=gettext_lazy("满意度"), choices=Rating.choices, widget=forms.RadioSelect)
    words = forms.CharField(
        label=gettext_lazy("意见（选填）"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


def _errors_onto(form: forms.Form, exc: ServiceError) -> None:
    for field, errors in (exc.field_errors or {"": [exc.message]}).items():
        target = {"attachments": None, "citizen_phone": "phone", "case_type": "case_type"}.get(field, field)
        for error in errors:
            form.add_error(target if target in form.fields else None, error)


# --------------------------------------------------------------------------- pages


HOME_ANNOUNCEMENTS = 5


def index(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "intake/portal/index.html",
        {
            "phone": request.session.get(SESSION_PHONE),
            "announcements": bulletin_selectors.public_announcements()[:HOME_ANNOUNCEMENTS],
        },
    )


def announcements(request: HttpRequest) -> HttpResponse:
    """最新公告: the announcements published to the public with review, valid now."""
    return render(
        request,
        "intake/portal/announcements.html",
        {"page": paginate(request, bulletin_selectors.public_announcements(), per_page=20)},
    )


def announcement(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        item = bulletin_selectors.public_announcement_get(pk=pk)
    except NotFound as exc:
        raise Http404 from exc
    return render(request, "intake/portal/announcement.html", {"item": item})


def submit(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        form = SubmitForm(
            initial={"submission_id": uuid.uuid4(), "phone": request.session.get(SESSION_PHONE, "")}
        )
        return render(request, "intake/portal/submit.html", {"form": form})
    if limited := _throttled(request, PortalSubmitThrottle()):
        return limited
    form = SubmitForm(request.POST)
    submission_id = str(request.POST.get("submission_id", ""))[:64]
    earlier = (
        ChannelMessage.objects.filter(channel=Channel.WEB, account=PORTAL_ACCOUNT, external_id=submission_id)
        .select_related("case")
        .first()
    )
    if earlier is not None and earlier.case is not None:  # the same form posted again
        request.session[SESSION_RESULT] = {"number": earlier.case.number, "password": None, "again": True}
        return redirect("portal-submitted")
    photos = request.FILES.getlist("photos")
    if form.is_valid():
        values = form.cleaned_data
        try:
            phone = services.phone_code_check(phone=values["phone"], code=values["code"], consume=False)
            result = services.channel_request_submit(
                delivery=services.Delivery(
                    channel=Channel.WEB,
                    account=PORTAL_ACCOUNT,
                    external_id=str(values["submission_id"]),
                    sender=phone,
                    text=values["content"],
                ),
                data=case_services.CaseInput(
                    case_type=services.case_type(values["case_type"]),  # type: ignore[arg-type]
                    content=values["content"],
                    channel=Channel.WEB,
                    citizen_phone=phone,
                    title=values["title"],
                    location=values["location"],
                    is_public=values["is_public"],
                ),
                files=photos,
                images_only=True,
                ack_sms=phone,
                consume_code_of=phone,
            )
        except ServiceError as exc:
            _errors_onto(form, exc)
        else:
            assert result.case is not None
            request.session[SESSION_PHONE] = (
                phone  # the phone is proven: "my requests" opens without a new code
            )
            request.session[SESSION_RESULT] = {
                "number": result.case.number,
                "password": result.query_password,
                "again": not result.created,
            }
            return redirect("portal-submitted")
    return render(request, "intake/portal/submit.html", {"form": form}, status=400)


def submitted(request: HttpRequest) -> HttpResponse:
    result = request.session.pop(SESSION_RESULT, None)  # the password is shown once
    if not result:
        return redirect("portal-index")
    response = render(request, "intake/portal/submitted.html", {"result": result})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def send_code(request: HttpRequest) -> HttpResponse:
    """The "获取验证码" button (htmx): a code by SMS to the phone typed in the form."""
    if limited := _throttled(request, PortalCodeThrottle()):
        limited.content = _("验证码请求过于频繁，请稍后再试。").encode()
        return limited
    try:
        services.phone_code_send(phone=request.POST.get("phone", "")[:20])
    except ServiceError as exc:
        text, ok = exc.message, False
    else:
        text, ok = _("验证码已发送，10分钟内有效。"), True
    return render(request, "intake/portal/_code_status.html", {"text": text, "ok": ok})


def lookup(request: HttpRequest) -> HttpResponse:
    form = LookupForm(request.POST or None)
    if request.method == "POST":
        if limited := _throttled(request, PortalLookupThrottle()):
            return limited
        if form.is_valid():
            number = form.cleaned_data["number"].strip()
            try:
                case = public_case_lookup(number=number, password=form.cleaned_data["password"])
            except LookupLocked as locked:
                form.add_error(None, locked.message)
            except ServiceError as exc:  # NotFound: number or password wrong (one message for both)
                form.add_error(None, exc.message)
            else:
                grants = request.session.get(SESSION_GRANTS, {})
                # A public case opens without the password: it may be read, not rated.
                grants[case.number] = "public" if case.is_public else "password"
                request.session[SESSION_GRANTS] = grants
                return redirect("portal-case", number=case.number)
    return render(request, "intake/portal/lookup.html", {"form": form})


def _case_access(request: HttpRequest, number: str) -> tuple[Case, bool]:
    """The case this visitor opened (query password, or their proven phone) and whether they may rate it."""
    phone = request.session.get(SESSION_PHONE)
    if phone and (case := citizen.my_case(phone=phone, number=number)) is not None:
        return case, True
    grant = request.session.get(SESSION_GRANTS, {}).get(number)
    case = Case.objects.select_related("case_type").filter(number=number).first() if grant else None
    if case is None:
        raise Http404
    return case, grant == "password"


def case_page(request: HttpRequest, number: str) -> HttpResponse:
    case, may_act = _case_access(request, number[:32])
    stage, stages = citizen.case_stage(case)
    rating_form = RatingForm(request.POST or None) if may_act and citizen.may_rate(case) else None
    if request.method == "POST" and rating_form is not None and rating_form.is_valid():
        try:
            services.citizen_rate(
                case=case,
                channel=Channel.WEB,
                account=PORTAL_ACCOUNT,
                sender=request.session.get(SESSION_PHONE) or f"password:{case.number}",
                rating=rating_form.cleaned_data["rating"],
                words=rating_form.cleaned_data["words"],
            )
        except ServiceError as exc:
            rating_form.add_error(None, exc.message)
        else:
            return redirect("portal-case", number=case.number)
    context = {
        "case": case,
        "stage": stage,
        "stages": stages,
        "reply": citizen.case_reply(case),
        "rating_form": rating_form,
        "may_act": may_act,  # a public case opened by its number alone shows no content as typed
    }
    response = render(request, "intake/portal/case.html", context)
    response["Cache-Control"] = "no-store"
    return response


def mine(request: HttpRequest) -> HttpResponse:
    phone = request.session.get(SESSION_PHONE)
    if request.method == "POST" and request.POST.get("logout"):
        request.session.pop(SESSION_PHONE, None)
        return redirect("portal-mine")
    form = PhoneLoginForm(request.POST or None) if not phone else None
    if form is not None and request.method == "POST":
        if limited := _throttled(request, PortalLookupThrottle()):
            return limited
        if form.is_valid():
            try:
                phone = services.phone_code_check(**form.cleaned_data)
            except ServiceError as exc:
                _errors_onto(form, exc)
            else:
                request.session.cycle_key()
                request.session[SESSION_PHONE] = phone
                return redirect("portal-mine")
    cases = citizen.my_cases(phone=phone)[:50] if phone else None
    return render(request, "intake/portal/mine.html", {"form": form, "phone": phone, "cases": cases})
