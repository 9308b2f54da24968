"""Online chat screens: the citizen's page on the portal (reached by the session's unguessable token; the app uses
the same token endpoints as JSON) and the agents' queue and session page. Lines are sent by POST and received over
SSE (common.push); every rule is in `chat`."""

from __future__ import annotations

import math
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from hotline.cases import services as case_services
from hotline.common.errors import ServiceError
from hotline.common.push import sse_response, stream_view
from hotline.common.throttles import AnonymousAddressRateThrottle
from hotline.orgs.models import User

from . import chat, citizen, services
from .models import ChannelKind, ChatSession, ChatStatus

KEEPALIVE_SECONDS = 15.0


class ChatOpenThrottle(AnonymousAddressRateThrottle):
    scope = "portal_chat_open"
    rate = "20/hour"


class ChatLineThrottle(AnonymousAddressRateThrottle):
    scope = "portal_chat_line"

    def __init__(self) -> None:
        self.rate = settings.HOTLINE_CHAT_LINE_RATE  # per address, every session together
        super().__init__()


def _error(exc: ServiceError) -> JsonResponse:
    return JsonResponse(
        {"detail": exc.message, "code": exc.code, "errors": exc.field_errors or {}}, status=exc.status_code
    )


def _lines(session: ChatSession, after: str | None) -> list[dict[str, Any]]:
    qs = session.lines.order_by("id")
    if after and after.isdigit():
        qs = qs.filter(pk__gt=int(after))
    return [chat.line_payload(line) for line in qs[:1000]]


def citizen_urls(token: str) -> dict[str, str]:
    return {
        "page_url": reverse("portal-chat", args=[token]),
        "lines_url": reverse("portal-chat-lines", args=[token]),
        "send_url": reverse("portal-chat-send", args=[token]),
        "events_url": reverse("portal-chat-events", args=[token]),
        "close_url": reverse("portal-chat-close", args=[token]),
    }


# --------------------------------------------------------------------------- the citizen's side


def citizen_start(request: HttpRequest) -> HttpResponse:
    """The portal's 在线客服 entry: a new session in the queue (the phone proven on the portal, if any)."""
    if request.method != "POST":
        return render(request, "intake/portal/chat_start.html", {})
    throttle = ChatOpenThrottle()
    if not throttle.allow_request(request, None):
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
    phone = request.session.get("portal_phone", "")
    session, token = chat.chat_open(channel=ChannelKind.WEB, account="portal", sender=phone, phone=phone)
    return redirect("portal-chat", token=token)


def _citizen_session(token: str) -> ChatSession:
    session = chat.session_for_token(token)
    if session is None:
        raise Http404
    return session


def citizen_page(request: HttpRequest, token: str) -> HttpResponse:
    session = _citizen_session(token)
    response = render(
        request,
        "intake/portal/chat.html",
        {"session": session, "urls": citizen_urls(token), "closed": session.status == ChatStatus.CLOSED},
    )
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "same-origin"  # the token is in the address: never sent to another site
    return response


def citizen_lines(request: HttpRequest, token: str) -> JsonResponse:
    session = _citizen_session(token)
    return JsonResponse(
        {"status": session.status, "lines": _lines(session, request.GET.get("after"))},
        json_dumps_params={"ensure_ascii": False},
    )


@require_POST
def citizen_send(request: HttpRequest, token: str) -> JsonResponse:
    """The citizen's line: the service finds the session by the token itself, so the view loads nothing (on
    PostgreSQL the line is one statement). The address's throttle comes first (a cache count, no database)."""
    if not ChatLineThrottle().allow_request(request, None):
        return JsonResponse({"detail": _("发送过于频繁，请稍后再试")}, status=429)
    try:
        line = chat.chat_say_citizen(session=token, text=request.POST.get("text", ""))
    except ServiceError as exc:
        if exc.status_code == 404:
            raise Http404 from exc
        return _error(exc)
    return JsonResponse(chat.line_payload(line), status=201, json_dumps_params={"ensure_ascii": False})


@stream_view
def citizen_events(request: HttpRequest, token: str) -> HttpResponseBase:
    session = _citizen_session(token)
    return sse_response(request, chat.session_channel(session.pk), keepalive=KEEPALIVE_SECONDS)


@require_POST
def citizen_close(request: HttpRequest, token: str) -> HttpResponse:
    session = _citizen_session(token)
    chat.chat_close(session=session)
    if request.headers.get("Accept", "").startswith("application/json"):
        return JsonResponse({"status": ChatStatus.CLOSED})
    return redirect("portal-chat", token=token)


# --------------------------------------------------------------------------- the agents' side


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _require_chat_viewer(request: HttpRequest) -> User:
    user = _user(request)
    if not chat.may_view_queue(user):
        raise Http404
    return user


def _agent_session(request: HttpRequest, pk: int) -> ChatSession:
    try:
        return chat.agent_session(user=_user(request), pk=pk)
    except ServiceError as exc:
        raise Http404 from exc


class ChatCaseForm(forms.Form):
    case_type = forms.ChoiceField(label=gettext_lazy("诉求类型"))
    title = forms.CharField(label=gettext_lazy("标题"), max_length=100, required=False)
    content = forms.CharField(
        label=gettext_lazy("诉求内容"),
        min_length=5,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    location = forms.CharField(label=gettext_lazy("事发地点"), max_length=200, required=False)
    phone = forms.RegexField(
        label=gettext_lazy("联系电话"),
        regex=r"^[0-9-]{7,20}$",
        max_length=20,
        required=False,
        error_messages={"invalid": gettext_lazy("请输入正确的电话号码")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        case_type = self.fields["case_type"]
        assert isinstance(case_type, forms.ChoiceField)
        case_type.choices = [(t.code, t.name) for t in citizen.citizen_types()]
        for name, field in self.fields.items():
            field.widget.attrs.setdefault(
                "class",
                "form-select form-select-sm" if name == "case_type" else "form-control form-control-sm",
            )


class AttachForm(forms.Form):
    number = forms.CharField(label=gettext_lazy("工单编号"), max_length=32)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["number"].widget.attrs.setdefault("class", "form-control form-control-sm")


@login_required
def agent_queue(request: HttpRequest) -> HttpResponse:
    user = _require_chat_viewer(request)
    context = {
        "waiting": chat.waiting_sessions(user=user)[:200],
        "mine": chat.my_sessions(agent=user),
        "may_serve": chat.may_serve(user),
    }
    template = "intake/chat/_queue.html" if request.GET.get("partial") else "intake/chat/queue.html"
    return render(request, template, context)


@stream_view
@login_required
def agent_queue_events(request: HttpRequest) -> HttpResponseBase:
    _require_chat_viewer(request)
    return sse_response(request, chat.QUEUE_CHANNEL, keepalive=KEEPALIVE_SECONDS)


@login_required
@require_POST
def agent_accept(request: HttpRequest, pk: int) -> HttpResponse:
    session = _agent_session(request, pk)
    try:
        chat.chat_accept(session=session, agent=_user(request))
    except ServiceError as exc:
        if exc.status_code == 404:
            raise Http404 from exc
        return render(
            request,
            "intake/chat/queue.html",
            {
                "waiting": chat.waiting_sessions(user=_user(request))[:200],
                "mine": chat.my_sessions(agent=_user(request)),
                "may_serve": chat.may_serve(_user(request)),
                "error": exc.message,
            },
            status=exc.status_code,
        )
    return redirect("intake-chat-session", pk=pk)


def _session_context(request: HttpRequest, session: ChatSession, **extra: Any) -> dict[str, Any]:
    pk = session.pk
    initial_content = "\n".join(
        line.text for line in session.lines.filter(author="citizen").order_by("id")[:50]
    )
    return {
        "session": session,
        "urls": {
            "lines_url": reverse("intake-chat-lines", args=[pk]),
            "send_url": reverse("intake-chat-send", args=[pk]),
            "events_url": reverse("intake-chat-events", args=[pk]),
        },
        "serving": session.agent_id == request.user.pk and session.status == ChatStatus.ACTIVE,
        "case_form": extra.pop("case_form", None)
        or ChatCaseForm(initial={"content": initial_content[:5000], "phone": session.phone}),
        "attach_form": extra.pop("attach_form", None) or AttachForm(),
        **extra,
    }


@login_required
def agent_session_page(request: HttpRequest, pk: int) -> HttpResponse:
    session = _agent_session(request, pk)
    return render(request, "intake/chat/session.html", _session_context(request, session))


@login_required
def agent_lines(request: HttpRequest, pk: int) -> JsonResponse:
    session = _agent_session(request, pk)
    return JsonResponse(
        {"status": session.status, "lines": _lines(session, request.GET.get("after"))},
        json_dumps_params={"ensure_ascii": False},
    )


@stream_view
@login_required
def agent_events(request: HttpRequest, pk: int) -> HttpResponseBase:
    session = _agent_session(request, pk)
    return sse_response(request, chat.session_channel(session.pk), keepalive=KEEPALIVE_SECONDS)


@login_required
@require_POST
def agent_send(request: HttpRequest, pk: int) -> JsonResponse:
    """An agent's line: only the serving agent may write (anyone else gets 404); the service reads and locks
    the session itself, so the view loads nothing (the busiest request of a chat desk)."""
    user = _require_chat_viewer(request)
    try:
        line = chat.chat_say_agent(session=pk, agent=user, text=request.POST.get("text", ""))
    except ServiceError as exc:
        if exc.status_code == 404:
            raise Http404 from exc
        return _error(exc)
    return JsonResponse(chat.line_payload(line), status=201, json_dumps_params={"ensure_ascii": False})


@login_required
@require_POST
def agent_close(request: HttpRequest, pk: int) -> HttpResponse:
    session = _agent_session(request, pk)
    try:
        chat.chat_close(session=session, agent=_user(request))
    except ServiceError as exc:
        raise Http404 from exc
    return redirect("intake-chat-session", pk=pk)


@login_required
@require_POST
def agent_make_case(request: HttpRequest, pk: int) -> HttpResponse:
    session = _agent_session(request, pk)
    form = ChatCaseForm(request.POST)
    if form.is_valid():
        values = form.cleaned_data
        try:
            chat.chat_make_case(
                session=session,
                agent=_user(request),
                data=case_services.CaseInput(
                    case_type=services.case_type(values["case_type"]),  # type: ignore[arg-type]
                    content=values["content"],
                    channel=chat.CASE_CHANNEL[session.channel],
                    citizen_phone=values["phone"],
                    title=values["title"],
                    location=values["location"],
                ),
            )
        except ServiceError as exc:
            if exc.status_code == 404:
                raise Http404 from exc
            for field, errors in (exc.field_errors or {"": [exc.message]}).items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            return redirect("intake-chat-session", pk=pk)
    session.refresh_from_db()
    return render(
        request, "intake/chat/session.html", _session_context(request, session, case_form=form), status=400
    )


@login_required
@require_POST
def agent_attach_case(request: HttpRequest, pk: int) -> HttpResponse:
    session = _agent_session(request, pk)
    form = AttachForm(request.POST)
    if form.is_valid():
        try:
            chat.chat_attach_case(session=session, agent=_user(request), number=form.cleaned_data["number"])
        except ServiceError as exc:
            if exc.status_code == 404:
                raise Http404 from exc
            for field, errors in (exc.field_errors or {"": [exc.message]}).items():
                for error in errors:
                    form.add_error(field if field in form.fields else None, error)
        else:
            return redirect("intake-chat-session", pk=pk)
    session.refresh_from_db()
    return render(
        request, "intake/chat/session.html", _session_context(request, session, attach_form=form), status=400
    )
