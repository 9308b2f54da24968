"""The workbench call bar (htmx partial) and its event stream (SSE). Thin: every rule is in services."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from hotline.common import clock
from hotline.common.audit import audit_access
from hotline.common.errors import ServiceError
from hotline.common.http import error_text, get_or_404, report_error
from hotline.common.push import sse_response, stream_view
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
        "consult": selectors.open_consult(call=call) if call is not None else None,
        "messages": selectors.agent_messages(agent=agent) if agent else [],
        "help_pending": selectors.agent_help_pending(agent=agent) if agent else False,
        "help_handled": selectors.agent_help_handled(agent=agent) if agent else None,
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


@login_required
@require_POST
def agent_note(request: HttpRequest) -> HttpResponse:
    """The agent's own notes: ask the supervisors for help, or mark a supervisor's message read."""
    user = _user(request)
    agent = selectors.agent_for_user(user=user)
    if agent is None:
        return _bar(request, error=str(_no_seat()), status=404)
    try:
        if request.POST.get("read"):
            try:
                pk = int(request.POST.get("read", "")[:12])
            except ValueError:
                return _bar(request, error=str(_("消息不存在")), status=404)
            services.note_handled(note_pk=pk, actor=user, agent=agent)
        else:
            services.help_request(agent=agent, text=request.POST.get("text", "")[:400], actor=user)
    except ServiceError as exc:
        return _bar(request, error=error_text(exc), status=exc.status_code)
    return _bar(request)


def _no_seat() -> str:
    return _("当前账号未绑定坐席工号")


@stream_view
@login_required
def events(request: HttpRequest) -> HttpResponseBase:
    """SSE: the signed-in agent's own state and ringing calls (never anyone else's)."""
    agent = selectors.agent_for_user(user=_user(request))
    if agent is None:
        return HttpResponse(_no_seat(), status=404, content_type="text/plain; charset=utf-8")
    return sse_response(request, push.agent_channel(agent.pk), keepalive=KEEPALIVE_SECONDS)


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
    """Hold, retrieve, hang up, transfer, consult, conference on the agent's own current call."""
    agent = selectors.agent_for_user(user=_user(request))
    if agent is None:
        return _bar(request, error=str(_no_seat()), status=404)
    try:
        services.agent_call_action(
            agent=agent,
            action=request.POST.get("action", "")[:32],
            actor=_user(request),
            target_kind=request.POST.get("target_kind", "")[:16],
            target=request.POST.get("target", "")[:32],
        )
    except ServiceError as exc:
        return _bar(request, error=error_text(exc), status=exc.status_code)
    return _bar(request)


@login_required
@require_POST
def dial(request: HttpRequest) -> HttpResponse:
    """Click-to-call from a case, a citizen or the callback list: the browser names the object, the server finds
    the number (masked numbers are never sent to the browser); the call bar comes back showing the call."""
    user = _user(request)
    agent = selectors.agent_for_user(user=user)
    if agent is None:
        return _bar(request, error=str(_no_seat()), status=404)
    try:
        pk = int(request.POST.get("pk", "")[:12])
    except ValueError:
        return _bar(request, error=str(_("号码来源有误")), status=400)
    try:
        services.click_to_call(agent=agent, source=request.POST.get("source", "")[:16], pk=pk, actor=user)
    except ServiceError as exc:
        return _bar(request, error=error_text(exc), status=exc.status_code)
    return _bar(request)


# --------------------------------------------------------------------------- IVR editor (hotline admin)


def _ivr_forbidden(request: HttpRequest) -> HttpResponse | None:
    from .permissions import may_edit_ivr

    return None if may_edit_ivr(_user(request)) else HttpResponse(status=403)


@login_required
def ivr_list(request: HttpRequest) -> HttpResponse:
    """The flows, the numbers running them, new flow and recorded-prompt upload forms."""
    if (refused := _ivr_forbidden(request)) is not None:
        return refused
    user, errors, status = _user(request), {}, 200
    if request.method == "POST":
        try:
            if request.POST.get("form") == "prompt":
                upload = request.FILES.get("audio")
                services.ivr_prompt_upload(
                    name=request.POST.get("name", "")[:64],
                    label=request.POST.get("label", "")[:100],
                    data=upload.read(services.MAX_PROMPT_BYTES + 1) if upload else b"",
                    actor=user,
                )
                return redirect("tel-ivr-list")
            flow = services.ivr_flow_create(
                code=request.POST.get("code", "")[:64],
                name=request.POST.get("name", "")[:100],
                description=request.POST.get("description", "")[:300],
                actor=user,
            )
            return redirect("tel-ivr-edit", code=flow.code)
        except ServiceError as exc:
            errors, status = (
                {"form": request.POST.get("form", "flow"), "text": error_text(exc), **exc.field_errors},
                exc.status_code,
            )
    from .models import IvrPrompt

    return render(
        request,
        "telephony/ivr_list.html",
        {
            "flows": selectors.ivr_flows(user=user),
            "prompts": IvrPrompt.objects.all(),
            "errors": errors,
            "post": request.POST,
        },
        status=status,
    )


@login_required
def ivr_edit(request: HttpRequest, code: str) -> HttpResponse:
    """Edit the draft node by node, see the outline (preview) and the problems; publish when there are none."""
    from . import forms, ivr
    from .models import IvrPrompt, IvrVersionStatus, Queue

    if (refused := _ivr_forbidden(request)) is not None:
        return refused
    user = _user(request)
    flow = get_or_404(selectors.ivr_flow_get, user=user, code=code)
    status, notice = 200, ""
    problems: list[ivr.Problem] = []
    graph: dict[str, Any] | None = None
    if request.method == "POST":
        action = request.POST.get("action", "save")
        try:
            if action == "new_draft":
                services.ivr_draft_start(flow=flow, actor=user)
                return redirect("tel-ivr-edit", code=flow.code)
            graph, parse_problems = forms.graph_from_post(request.POST)
            _draft, saved_problems = services.ivr_draft_save(flow=flow, graph=graph, actor=user)
            problems = parse_problems + saved_problems
            if action == "publish":
                if parse_problems:
                    raise ServiceError(_("流程有误，不能发布"), code="invalid_flow")
                services.ivr_publish(flow=flow, actor=user)
                return redirect("tel-ivr-edit", code=flow.code)
            notice = _("草稿已保存") if not problems else _("草稿已保存，但仍有问题，不能发布")
        except ServiceError as exc:
            status, notice = exc.status_code, error_text(exc, limit=3)
            if not problems and graph is not None:
                problems = services.ivr_problems(graph)
    version = selectors.ivr_editable_version(flow)
    if graph is None:
        graph = version.graph if version else {"start": "", "nodes": []}
        if version is not None and version.status == IvrVersionStatus.DRAFT:
            problems = services.ivr_problems(graph)
    by_node: dict[str, list[str]] = {}
    for p in problems:
        by_node.setdefault(p.node, []).append(p.message)
    editable = version is None or version.status == IvrVersionStatus.DRAFT
    rows = forms.rows_for(graph, blank=3 if editable else 0)
    for row in rows:
        row["problems"] = by_node.get(row["id"], []) if row["id"] else []
    return render(
        request,
        "telephony/ivr_edit.html",
        {
            "flow": flow,
            "version": version,
            "editable": editable,
            "graph": graph,
            "rows": rows,
            "graph_problems": by_node.get("", []),
            "problem_count": len(problems),
            "outline": ivr.outline(graph),
            "node_types": [(t, ivr_type_label(t)) for t in ivr.NODE_TYPES],
            "queues": Queue.objects.order_by("code"),
            "prompts": IvrPrompt.objects.order_by("name"),
            "versions": flow.versions.order_by("-number"),
            "notice": notice,
        },
        status=status,
    )


def ivr_type_label(kind: str) -> str:
    labels = {
        "play": _("播放提示"),
        "menu": _("按键菜单"),
        "hours": _("服务时间判断"),
        "queue": _("转人工队列"),
        "voicemail": _("语音留言"),
        "hangup": _("挂机"),
        "transfer": _("转外部号码"),
        "case_progress": _("工单进度自助查询"),
        "collect": _("收号（固定位数）"),
        "condition": _("条件判断"),
        "back": _("返回坐席/队列"),
    }
    return labels.get(kind, kind)


# --------------------------------------------------------------------------- supervisors (SPV-1, MON-1)


def _masked(number: str) -> str:
    from hotline.common.crypto import mask_phone

    return mask_phone(number) if number else ""


def _board_context(user: User) -> dict[str, Any]:
    calls = [
        {"call": c, "caller": _masked(c.caller), "controls": list(c.controls.order_by("-at")[:1])}
        for c in selectors.live_calls(user=user)[:200]
    ]
    return {
        "agents": selectors.agent_board(user=user),
        "queues": selectors.queue_board(user=user),
        "calls": calls,
        "help_requests": selectors.help_requests(user=user),
        "now": clock.now(),
    }


@login_required
def monitor(request: HttpRequest) -> HttpResponse:
    """The live board: queues, agents by state (force busy / idle / logout), calls in progress with listen /
    whisper / barge / intercept (the supervisor's own phone rings and joins in that mode) and force release.
    The page refreshes itself when the board channel says something changed (SSE)."""
    from .permissions import may_supervise

    user = _user(request)
    if not may_supervise(user):
        return HttpResponse(status=403)
    status, error = 200, ""
    if request.method == "POST":
        try:
            if request.POST.get("force"):
                services.agent_force_state(
                    agent_id=request.POST.get("agent_id", "")[:16],
                    target=request.POST.get("force", "")[:16],
                    actor=user,
                )
            elif request.POST.get("message_to"):
                services.supervisor_message(
                    agent_id=request.POST.get("message_to", "")[:16],
                    text=request.POST.get("text", "")[:400],
                    actor=user,
                )
            elif request.POST.get("help_done"):
                try:
                    note_pk = int(request.POST.get("help_done", "")[:12])
                except ValueError:
                    note_pk = 0
                services.note_handled(note_pk=note_pk, actor=user)
            elif request.POST.get("release"):
                services.call_force_release(call_id=request.POST.get("call_id", "")[:40], actor=user)
            else:
                services.call_monitor(
                    call_id=request.POST.get("call_id", "")[:40],
                    mode=request.POST.get("mode", "")[:16],
                    actor=user,
                )
            return redirect("tel-monitor")
        except ServiceError as exc:
            status, error = exc.status_code, error_text(exc)
    context = {**_board_context(user), "error": error}
    return render(request, "telephony/monitor.html", context, status=status)


@login_required
def monitor_board(request: HttpRequest) -> HttpResponse:
    """The board alone (the page re-reads it when pushed a change)."""
    from .permissions import may_supervise

    user = _user(request)
    if not may_supervise(user):
        return HttpResponse(status=403)
    return render(request, "telephony/_monitor_board.html", _board_context(user))


@stream_view
@login_required
def monitor_events(request: HttpRequest) -> HttpResponseBase:
    """SSE: board changes (agent states, calls arriving, queued, answered, ended) for supervisors."""
    from .permissions import may_supervise

    if not may_supervise(_user(request)):
        return HttpResponse(status=403)
    return sse_response(request, push.BOARD_CHANNEL, keepalive=KEEPALIVE_SECONDS)


@login_required
def cdr(request: HttpRequest) -> HttpResponse:
    """Call detail records for supervisors: each call with its legs, recordings and call-control rows."""
    import datetime as dt

    from .permissions import may_supervise

    user = _user(request)
    if not may_supervise(user):
        return HttpResponse(status=403)
    day_text = request.GET.get("day", "")[:10]
    errors: dict[str, str] = {}
    day = None
    if day_text:
        try:
            day = dt.date.fromisoformat(day_text)
        except ValueError:
            errors["day"] = _("日期格式应为 YYYY-MM-DD")
    caller = "".join(ch for ch in request.GET.get("caller", "")[:20] if ch.isdigit())
    agent_id = request.GET.get("agent", "")[:16].strip()
    calls = (
        [] if errors else list(selectors.cdr_list(user=user, day=day, caller=caller, agent_id=agent_id)[:200])
    )
    rows = [{"call": c, "caller": _masked(c.caller)} for c in calls]
    return render(
        request,
        "telephony/cdr.html",
        {"rows": rows, "errors": errors, "day": day_text, "caller": caller, "agent": agent_id},
        status=400 if errors else 200,
    )


# --------------------------------------------------------------------------- recordings (REC-1)


@login_required
def case_recordings(request: HttpRequest, case_pk: int) -> HttpResponse:
    """The case page's panel: recordings of the calls linked to the case (404 if the case is not visible)."""
    recordings = get_or_404(selectors.case_recordings, user=_user(request), case_pk=case_pk)
    return render(request, "telephony/_case_recordings.html", {"recordings": list(recordings)})


@login_required
def recording_audio(request: HttpRequest, pk: int) -> HttpResponseBase:
    """The WAV file, for those who may see a case linked to the call (or supervisors); every play audited."""
    from pathlib import Path

    from django.conf import settings
    from django.http import FileResponse, Http404

    user = _user(request)
    recording = get_or_404(selectors.recording_get, user=user, pk=pk)
    path = Path(settings.VAR_DIR) / recording.path
    if recording.ended_at is None or not path.is_file():
        raise Http404(_("录音文件不存在"))
    services.recording_played(recording=recording, actor=user)
    response = FileResponse(path.open("rb"), content_type="audio/wav")
    response["Cache-Control"] = "private, no-store"
    return response
