"""Telephony reads: the user's own seat, whether telephony runs on this installation."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.common.errors import NotFound
from hotline.orgs.models import Role, User

from .models import (
    Agent,
    Call,
    CallbackStatus,
    CallLeg,
    CallStatus,
    IvrFlow,
    IvrVersion,
    IvrVersionStatus,
    MissedCall,
    Recording,
)
from .states import AgentState


def telephony_enabled() -> bool:
    """`HOTLINE_TELEPHONY`: off, on, or auto (on when Kamailio and pjsua2 are installed)."""
    mode = getattr(settings, "HOTLINE_TELEPHONY", "auto")
    if mode == "off":
        return False
    if mode == "on":
        return True
    from .runtime import missing_binaries

    return not missing_binaries()


def shows_numbers(user: User | None) -> bool:
    """ORG-4: the same rule as every other screen (citizens.selectors.sees_personal_data): hotline staff who
    work with citizens see a caller's full number, anyone else bound to a seat sees it masked."""
    from hotline.citizens.selectors import sees_personal_data

    return user is not None and sees_personal_data(user)


def caller_shown(*, user: User | None, number: str) -> str:
    from hotline.common.crypto import mask_phone

    return number if shows_numbers(user) else mask_phone(number)


def agent_for_user(*, user: User) -> Agent | None:
    """The seat bound to this staff account (one at most)."""
    return Agent.objects.select_related("current_call").filter(user=user).first()


# Hotline staff who call citizens back see the callback list (full numbers: they dial them).
CALLBACK_ROLES = frozenset({Role.AGENT, Role.DISPATCHER, Role.MONITOR})


def may_work_callbacks(user: User) -> bool:
    return user.is_superuser or user.has_role(*CALLBACK_ROLES)


def missed_calls(*, user: User, status: str = CallbackStatus.OPEN) -> QuerySet[MissedCall]:
    if not may_work_callbacks(user):
        return MissedCall.objects.none()
    return (
        MissedCall.objects.filter(status=status).select_related("call", "recording").order_by("due_at", "id")
    )


def missed_call_get(*, user: User, pk: int) -> MissedCall:
    found = missed_calls(user=user).filter(pk=pk).first()
    if found is None:
        raise NotFound(_("未接来电不存在或无权处理"))
    return found


# --------------------------------------------------------------------------- IVR flows


def ivr_flows(*, user: User) -> QuerySet[IvrFlow]:
    from .permissions import may_edit_ivr

    if not may_edit_ivr(user):
        return IvrFlow.objects.none()
    return IvrFlow.objects.prefetch_related("versions", "numbers").order_by("code")


def ivr_flow_get(*, user: User, code: str) -> IvrFlow:
    found = ivr_flows(user=user).filter(code=code).first()
    if found is None:
        raise NotFound(_("语音导航流程不存在"))
    return found


def ivr_editable_version(flow: IvrFlow) -> IvrVersion | None:
    """The draft if one is open, else the published version (shown read-only)."""
    return (
        flow.versions.filter(status=IvrVersionStatus.DRAFT).first()
        or flow.versions.filter(status=IvrVersionStatus.PUBLISHED).first()
    )


# --------------------------------------------------------------------------- supervisors: live board, CDR


def live_calls(*, user: User) -> QuerySet[Call]:
    from .permissions import may_supervise

    if not may_supervise(user):
        return Call.objects.none()
    return (
        Call.objects.exclude(status=CallStatus.ENDED).select_related("agent", "queue").order_by("started_at")
    )


def agent_board(*, user: User) -> QuerySet[Agent]:
    from .permissions import may_supervise

    if not may_supervise(user):
        return Agent.objects.none()
    return (
        Agent.objects.exclude(state=AgentState.LOGGED_OUT).select_related("current_call").order_by("agent_id")
    )


def queue_board(*, user: User) -> list[dict[str, object]]:
    """Per queue: calls waiting, ringing and talking, the longest wait, agents ready / signed in with its skill."""
    from django.db.models import Count, Min

    from hotline.common import clock

    from .models import Queue
    from .permissions import may_supervise

    if not may_supervise(user):
        return []
    counts: dict[tuple[int, str], int] = {}
    oldest: dict[int, dt.datetime] = {}
    for row in (
        Call.objects.exclude(status=CallStatus.ENDED)
        .filter(queue__isnull=False)
        .values("queue_id", "status")
        .annotate(n=Count("id"), first=Min("enqueued_at"))
    ):
        counts[(row["queue_id"], row["status"])] = row["n"]
        if row["status"] == CallStatus.QUEUED and row["first"]:
            oldest[row["queue_id"]] = row["first"]
    agents: dict[tuple[int, str], int] = {}
    for seat in (
        Agent.objects.exclude(state=AgentState.LOGGED_OUT)
        .values("skills", "state")
        .annotate(n=Count("id"))
        .filter(skills__isnull=False)
    ):
        agents[(seat["skills"], seat["state"])] = seat["n"]
    now = clock.now()
    return [
        {
            "queue": q,
            "waiting": counts.get((q.pk, CallStatus.QUEUED), 0),
            "ringing": counts.get((q.pk, CallStatus.RINGING), 0),
            "talking": counts.get((q.pk, CallStatus.TALKING), 0),
            "longest_wait": int((now - oldest[q.pk]).total_seconds()) if q.pk in oldest else 0,
            "ready": agents.get((q.pk, AgentState.READY), 0),
            "signed_in": sum(n for (pk, _state), n in agents.items() if pk == q.pk),
        }
        for q in Queue.objects.order_by("code")
    ]


def cdr_list(
    *, user: User, day: dt.date | None = None, caller: str = "", agent_id: str = ""
) -> QuerySet[Call]:
    """Calls with their legs (the CDR) for supervisors, newest first, filtered by day, caller, agent."""
    from .permissions import may_supervise

    if not may_supervise(user):
        return Call.objects.none()
    calls = Call.objects.select_related("agent", "queue").prefetch_related("legs", "recordings", "controls")
    if day is not None:
        start = timezone.make_aware(dt.datetime.combine(day, dt.time.min))
        calls = calls.filter(started_at__gte=start, started_at__lt=start + dt.timedelta(days=1))
    if caller:
        calls = calls.filter(caller__contains=caller)
    if agent_id:
        calls = calls.filter(legs__agent__agent_id=agent_id).distinct()
    return calls.order_by("-started_at")


def open_consult(*, call: Call) -> CallLeg | None:
    """The consult or conference leg still up on this call (the call bar shows its buttons)."""
    return (
        CallLeg.objects.filter(call=call, purpose__in=("consult", "conference"), ended_at__isnull=True)
        .select_related("agent")
        .first()
    )


# --------------------------------------------------------------------------- recordings (REC-1)


def case_recordings(*, user: User, case_pk: int) -> QuerySet[Recording]:
    """The recordings of the calls linked to a case the user may see (NotFound otherwise)."""
    from hotline.cases.selectors import case_require_visible

    case_require_visible(user=user, pk=case_pk)
    return (
        Recording.objects.filter(call__case_links__case_id=case_pk)
        .select_related("call")
        .order_by("started_at")
    )


def case_calls(*, user: User, case_pk: int) -> QuerySet[Call]:
    """The calls linked to a case the user may see (NotFound otherwise), with their recordings."""
    from hotline.cases.selectors import case_require_visible

    case_require_visible(user=user, pk=case_pk)
    return (
        Call.objects.filter(case_links__case_id=case_pk).prefetch_related("recordings").order_by("started_at")
    )


def recording_get(*, user: User, pk: int) -> Recording:
    """A recording the user may play: one of a call linked to a case the user may see, or any for supervisors
    (quality checks). NotFound for everyone else."""
    from hotline.cases.selectors import case_visible

    from .permissions import may_supervise

    recording = Recording.objects.select_related("call").filter(pk=pk, deleted_at__isnull=True).first()
    if recording is None:
        raise NotFound(_("录音不存在或无权收听"))
    if may_supervise(user):
        return recording
    linked = recording.call.case_links.values_list("case_id", flat=True)
    if not case_visible(user=user).filter(pk__in=linked).exists():
        raise NotFound(_("录音不存在或无权收听"))
    return recording


NOT_READ: Any = object()  # `ivr_facts(citizen=...)`: the profile has not been read yet


def ivr_facts(*, caller: str, moment: dt.datetime, citizen: Any = NOT_READ) -> dict[str, str]:
    """What an IVR condition may test about a call (`ivr_expr.FACTS`): the caller's citizen level, the case type
    and urgency of the caller's newest open case (matched by the caller's profile or the number), whether the
    day is a working day and the local time. Two queries, only when a condition node is entered; one when the
    caller's profile (`citizen_for_number`, None for none) was already read (the call controller reads it when
    the call arrives)."""
    from django.db.models import Q

    from hotline.cases.lifecycle import FINISHED_STATUSES
    from hotline.cases.models import Case
    from hotline.citizens.selectors import citizen_for_number
    from hotline.common.validators import normalize_phone
    from hotline.common.workdays import is_workday

    local = timezone.localtime(moment)
    facts = {
        "level": "normal",
        "business": "",
        "urgency": "",
        "open_case": "no",
        "workday": "yes" if is_workday(local.date()) else "no",
        "time": local.strftime("%H:%M"),
    }
    number = normalize_phone(caller)
    if not number:
        return facts
    if citizen is NOT_READ:
        citizen = citizen_for_number(number)
    if citizen is not None:
        facts["level"] = citizen.level or "normal"
    mine = Q(citizen_phone=number) | (Q(citizen_id=citizen.pk) if citizen is not None else Q(pk__in=[]))
    case = (
        Case.objects.filter(mine)
        .exclude(status__in=FINISHED_STATUSES)
        .exclude(status="draft")
        .order_by("-created_at")
        .values("case_type__code", "urgency__code")
        .first()
    )
    if case is not None:
        facts["open_case"] = "yes"
        facts["business"] = case["case_type__code"] or ""
        facts["urgency"] = case["urgency__code"] or ""
    return facts


def agent_messages(*, agent: Agent, limit: int = 3) -> list[Any]:
    """The supervisors' messages the agent has not read yet (newest first), for the call bar."""
    from .models import AgentNote, AgentNoteKind

    return list(
        AgentNote.objects.filter(agent=agent, kind=AgentNoteKind.MESSAGE, handled_at__isnull=True)
        .select_related("author")
        .order_by("-created_at", "-id")[:limit]
    )


def agent_help_pending(*, agent: Agent) -> bool:
    from .models import AgentNote, AgentNoteKind

    return AgentNote.objects.filter(agent=agent, kind=AgentNoteKind.HELP, handled_at__isnull=True).exists()


HELP_HANDLED_SHOWN_SECONDS = 600


def agent_help_handled(*, agent: Agent) -> Any:
    """The agent's newest help request if a supervisor took it in the last `HELP_HANDLED_SHOWN_SECONDS` (the
    call bar says so, with who and when), else None."""
    from hotline.common import clock

    from .models import AgentNote, AgentNoteKind

    since = clock.now() - dt.timedelta(seconds=HELP_HANDLED_SHOWN_SECONDS)
    newest = (
        AgentNote.objects.filter(agent=agent, kind=AgentNoteKind.HELP)
        .select_related("handled_by")
        .order_by("-created_at", "-id")
        .first()
    )
    if newest is None or newest.handled_at is None or newest.handled_at < since:
        return None
    return newest


def help_requests(*, user: User) -> list[Any]:
    """Open help requests for the supervisors' board (oldest first); nothing for anyone else."""
    from .models import AgentNote, AgentNoteKind
    from .permissions import may_supervise

    if not may_supervise(user):
        return []
    return list(
        AgentNote.objects.filter(kind=AgentNoteKind.HELP, handled_at__isnull=True)
        .select_related("agent", "call")
        .order_by("created_at", "id")[:50]
    )
