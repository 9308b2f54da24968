"""The workbench call bar (htmx partial) and its event stream (SSE). Thin: every rule is in services."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from hotline.common import clock
from hotline.common.audit import audit_access
from hotline.common.errors import ServiceError
from hotline.common.http import error_text, get_or_404, report_error
from hotline.orgs.models import User

from . import push, selectors, services
from .models import CallStatus, NotReadyReason
from .states import AgentState

KEEPALIVE_SECONDS = 15.0
# Reasons an agent may pick (the others are set by the system).
AGENT_REASONS = [
    NotReadyReason.BREAK,
    NotReadyReason.MEAL,
    NotReadyReason.TRAINING,
    NotReadyReason.MEETING,
    NotReadyReason.OTHER,
]


def _user(request: HttpRequest) -> User:
    assert isinstance(request.user, User)
    return request.user


def _bar(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    user = _user(request)
    enabled = selectors.telephony_enabled()
    agent = selectors.agent_for_user(user=user) if enabled else None
    call = agent.current_call if agent else None
    context: dict[str, Any] = {
        "enabled": enabled,
        "agent": agent,
        "call": call,
        "error": error,
        "reasons": [(r.value, r.label) for r in AGENT_REASONS],
        "states": AgentState,
        "events_url": reverse("tel-events") if agent else "",
        "missed_count": selectors.missed_calls(user=user).count() if agent else 0,
    }
    if call is not None:
        # Masked for a seat user whose role does not see numbers (the offer audited the unmasked view).
        context["caller"] = selectors.caller_shown(user=user, number=call.caller)
    if (
        call is not None
        and call.status in (CallStatus.RINGING, CallStatus.TALKING)
        or (call is not None and agent is not None and agent.state == AgentState.WRAP_UP)
    ):
        shown = {"citizen_phone": call.caller} if selectors.shows_numbers(user) else {}
        query = urlencode({**shown, "call_id": call.call_id})
        context["intake_url"] = f"{reverse('case-new')}?{query}"
    return render(request, "telephony/_callbar.html", context, status=status)


@login_required
def callbar(request: HttpRequest) -> HttpResponse:
    return _bar(request)


@login_required
@require_POST
def agent_login(request: HttpRequest) -> HttpResponse:
    try:
        services.agent_login(
            agent_id=request.POST.get("agent_id", "")[:16],
            password=request.POST.get("password", "")[:128],
            actor=_user(request),
        )
    except ServiceError as exc:
        return _bar(request, error=error_text(exc), status=exc.status_code)
    return _bar(request)


@login_required
@require_POST
def agent_state(request: HttpRequest) -> HttpResponse:
    agent = selectors.agent_for_user(user=_user(request))
    if agent is None:
        return _bar(request, error=str(_no_seat()), status=404)
    try:
        services.agent_set_state(
            agent=agent,
            event=request.POST.get("event", ""),
            reason=request.POST.get("reason", ""),
            actor=_user(request),
        )
    except ServiceError as exc:
        return _bar(request, error=error_text(exc), status=exc.status_code)
    return _bar(request)


def _no_seat() -> str:
    from django.utils.translation import gettext as _

    return _("当前账号未绑定坐席工号")


def _sync_stream(channel: str) -> Iterator[str]:
    listener = push.broker().listen(channel, timeout=KEEPALIVE_SECONDS)
    yield "retry: 2000\n\n"
    for message in listener:
        yield f"data: {message}\n\n" if message else ": keep-alive\n\n"


async def _async_stream(channel: str) -> AsyncIterator[str]:
    listener = push.broker().listen(channel, timeout=KEEPALIVE_SECONDS)
    yield "retry: 2000\n\n"
    try:
        while True:
            message = await asyncio.to_thread(next, listener)
            yield f"data: {message}\n\n" if message else ": keep-alive\n\n"
    finally:
        await asyncio.to_thread(listener.close)


@login_required
def events(request: HttpRequest) -> HttpResponseBase:
    """SSE: the signed-in agent's own state and ringing calls (never anyone else's)."""
    agent = selectors.agent_for_user(user=_user(request))
    if agent is None:
        return HttpResponse(_no_seat(), status=404, content_type="text/plain; charset=utf-8")
    channel = push.agent_channel(agent.pk)
    stream = _async_stream(channel) if isinstance(request, ASGIRequest) else _sync_stream(channel)
    response = StreamingHttpResponse(stream, content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response


@login_required
def missed_list(request: HttpRequest) -> HttpResponse:
    """The callback list: abandoned calls and voicemails, earliest deadline first."""
    user = _user(request)
    if not selectors.may_work_callbacks(user):
        return HttpResponse(status=403)
    missed = list(selectors.missed_calls(user=user)[:200])
    # Full numbers (the staff dial them back): the view is audited like every unmasked list (ORG-4).
    audit_access(
        actor=user,
        object_type="telephony.missedcall",
        summary=f"查看未接来电回拨列表 {len(missed)} 行",
        filters={"status": "open"},
        rows=len(missed),
    )
    return render(request, "telephony/missed.html", {"missed": missed, "now": clock.now()})


@login_required
@require_POST
def missed_done(request: HttpRequest, pk: int) -> HttpResponse:
    user = _user(request)
    missed = get_or_404(selectors.missed_call_get, user=user, pk=pk)
    try:
        services.missed_call_done(missed=missed, actor=user)
    except ServiceError as exc:
        report_error(request, exc)
    return redirect("tel-missed")


@login_required
@require_POST
def call_action(request: HttpRequest) -> HttpResponse:
    """Hold, retrieve, hang up the agent's own current call."""
    agent = selectors.agent_for_user(user=_user(request))
    if agent is None:
        return _bar(request, error=str(_no_seat()), status=404)
    try:
        services.agent_call_action(agent=agent, action=request.POST.get("action", ""), actor=_user(request))
    except ServiceError as exc:
        return _bar(request, error=error_text(exc), status=exc.status_code)
    return _bar(request)
