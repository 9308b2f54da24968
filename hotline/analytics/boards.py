"""The live boards' snapshots (MON-1, MON-2): agents and queues now, and the case side (open, due today, overdue
by unit) over a unit subtree. Every figure comes from a measure; this module only arranges them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Count, Min
from django.urls import reverse
from django.utils import timezone

from hotline.common import clock
from hotline.common.crypto import mask_phone
from hotline.orgs.models import Unit
from hotline.telephony.models import Agent, Call, CallCase, CallStatus, Queue
from hotline.telephony.states import AgentState

from . import measures as m
from .measures import Scope

STATE_LABELS = dict(AgentState.choices)


def today(now: dt.datetime, unit: Unit | None = None) -> Scope:
    """From local midnight to now (the boards' "today")."""
    return Scope(start=m.timezone_midnight(now), end=now + dt.timedelta(seconds=1), now=now, unit=unit)


def _iso(moment: dt.datetime | None) -> str | None:
    return timezone.localtime(moment).isoformat() if moment else None


def call_board(now: dt.datetime | None = None) -> dict[str, Any]:
    """Every signed-in agent (state, since when, current call and its case) and every queue (waiting calls,
    longest wait, agents by state, average wait and talk today). The whole centre: calls have no unit."""
    now = now or clock.now()
    agents = list(
        Agent.objects.exclude(state=AgentState.LOGGED_OUT)
        .select_related("user", "current_call")
        .order_by("agent_id")
    )
    call_ids = [a.current_call_id for a in agents if a.current_call_id]
    cases: dict[int, tuple[int, str]] = {}
    for link in CallCase.objects.filter(call_id__in=call_ids).select_related("case").order_by("linked_at"):
        cases[link.call_id] = (link.case_id, link.case.number)
    agent_rows = []
    for a in agents:
        call = a.current_call
        case = cases.get(a.current_call_id or 0)
        agent_rows.append(
            {
                "agent_id": a.agent_id,
                "name": str(a.user) if a.user_id else "",
                "state": a.state,
                "state_label": str(STATE_LABELS.get(a.state, a.state)),
                "reason": a.state_reason,
                "since": _iso(a.state_since),
                "seconds": int((now - a.state_since).total_seconds()) if a.state_since else None,
                "call": {
                    "caller": mask_phone(call.caller),
                    "since": _iso(call.answered_at or call.started_at),
                }
                if call
                else None,
                "case": {"number": case[1], "url": reverse("case-detail", args=[case[0]])} if case else None,
            }
        )
    waiting = {
        r["queue_id"]: r
        for r in Call.objects.filter(status=CallStatus.QUEUED)
        .values("queue_id")
        .annotate(n=Count("id"), oldest=Min("enqueued_at"))
        .order_by()
    }
    by_state: dict[int, dict[str, int]] = {}
    for r in (
        Agent.objects.exclude(state=AgentState.LOGGED_OUT)
        .filter(skills__isnull=False)
        .values("skills", "state")
        .annotate(n=Count("id"))
        .order_by()
    ):
        by_state.setdefault(r["skills"], {})[r["state"]] = r["n"]
    day = today(now)
    wait = {b["key"]: b["seconds"] for b in m.average_wait(day).breakdown}
    talk = {b["key"]: b["seconds"] for b in m.average_talk(day).breakdown}
    queue_rows = []
    for q in Queue.objects.order_by("code"):
        w = waiting.get(q.pk)
        oldest = w["oldest"] if w else None
        queue_rows.append(
            {
                "code": q.code,
                "name": q.name,
                "waiting": w["n"] if w else 0,
                "longest_wait": int((now - oldest).total_seconds()) if oldest else 0,
                "agents": {
                    s: by_state.get(q.pk, {}).get(s, 0) for s in STATE_LABELS if s != AgentState.LOGGED_OUT
                },
                "average_wait": wait.get(q.pk),
                "average_talk": talk.get(q.pk),
            }
        )
    return {
        "board": "calls",
        "now": _iso(now),
        "agents": agent_rows,
        "queues": queue_rows,
        "states": {s: str(label) for s, label in STATE_LABELS.items() if s != AgentState.LOGGED_OUT},
    }


def case_board(unit: Unit | None, now: dt.datetime | None = None) -> dict[str, Any]:
    """Open, due later today and overdue cases of the unit subtree (the centre for None), and by unit."""
    now = now or clock.now()
    scope = today(now, unit)
    units = m.open_by_unit(scope).breakdown
    return {
        "board": "cases",
        "now": _iso(now),
        "unit": unit.name if unit else None,
        "open": m.open_cases(scope).value,
        "due_today": m.due_today(scope).value,
        "overdue": m.overdue_cases(scope).value,
        "intake_today": m.intake_volume(scope).value,
        "units": [
            {
                "unit": u["key"],
                "name": u["name"],
                "open": u["n"],
                "due_today": u["due_today"],
                "overdue": u["overdue"],
            }
            for u in units
        ],
    }
