"""Call reports (STAT-1) over telephony's tables: the CDR (`telephony_call`, `telephony_callleg`), the queue log
and the agent-state log. Each report is one grouped query per table over a period; the formulas are shown
beside the figures (FORMULAS) and tested on hand-computed rows.

Definitions (the same as the measures in measures.py where both exist):
- inbound: calls that arrived (`started_at` in the bucket);
- to queue: of those, calls that asked for a person (`enqueued_at` set);
- answered: calls a person answered (`answered_at` set); abandoned: disposition "abandoned";
- talk time: answered → end, over answered calls that ended;
- service level (20 s): calls connected after waiting ≤ 20 s in a queue ÷ calls to queue;
- outbound: outbound legs to outside numbers (transfers out, external consults);
- wait bands: the wait of each queue-log "connect" (answered) and "abandon" event: < 20 s, 20–40, 40–60, > 60 s;
  a band holds its lower bound (0–19.999 s is "< 20", 20–39.999 s is "20–40", 60 s and more is "> 60").
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Avg,
    Case,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)
from django.db.models.functions import ExtractHour, TruncDate, TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from hotline.telephony.models import (
    Agent,
    AgentStateLog,
    Call,
    CallCase,
    CallControl,
    CallLeg,
    ControlKind,
    Disposition,
    IvrStep,
    IvrStepEvent,
    LegRole,
    NotReadyReason,
    Number,
    Queue,
    QueueEvent,
    QueueLog,
)
from hotline.telephony.states import AgentEvent, AgentState

SERVICE_SECONDS = 20
GRAINS = ("month", "week", "day", "hour", "halfhour")
GRAIN_LABELS = {
    "month": _("按月"),
    "week": _("按周"),
    "day": _("按日"),
    "hour": _("按小时（时段）"),
    "halfhour": _("按半小时（时段）"),
}
BANDS = (("lt20", 0, 20), ("20_40", 20, 40), ("40_60", 40, 60), ("gt60", 60, None))
BAND_LABELS = {"lt20": "<20秒", "20_40": "20–40秒", "40_60": "40–60秒", "gt60": ">60秒"}
FORMULAS = {
    "inbound": _("呼入时间在该时段内的呼叫数"),
    "to_queue": _("呼入后进入人工排队的呼叫数"),
    "answered": _("人工应答的呼叫数"),
    "abandoned": _("排队中放弃（挂机）的呼叫数"),
    "talk": _("人工应答到挂机的秒数之和（已结束的呼叫）"),
    "service_level": _("排队20秒内（含）接通的呼叫数 ÷ 进入排队的呼叫数"),
    "answer_rate": _("人工应答的呼叫数 ÷ 进入排队的呼叫数"),
    "outbound": _("呼出外部号码的话路数（转外线、外部咨询）"),
    "bands": _("按排队等待时长分段：接通（connect）与放弃（abandon）事件的已等待秒数"),
    "states": _("坐席离开某状态时记录的该状态持续时长之和（状态日志 previous_ms）"),
    "agent_service_level": _("坐席20秒服务水平：该坐席排队20秒内（含）接通的呼叫数 ÷ 分配给该坐席的呼叫数"),
    "occupancy": _(
        "坐席占用率：（振铃 + 通话 + 保持 + 话后处理）时长 ÷（空闲 + 振铃 + 通话 + 保持 + 话后处理）时长，"
        "示忙时长不计"
    ),
}


@dataclass(frozen=True)
class Window:
    start: dt.datetime
    end: dt.datetime


def pct(num: int, den: int) -> float | None:
    return round(100 * num / den, 1) if den else None


def _talk() -> ExpressionWrapper:
    return ExpressionWrapper(F("ended_at") - F("answered_at"), output_field=DurationField())


def _seconds(value: Any) -> int:
    if value is None:
        return 0
    if isinstance(value, dt.timedelta):
        return round(value.total_seconds())
    return round(float(value) / 1_000_000)  # microseconds (SQLite's duration sums)


def _fast_connect() -> Exists:
    return Exists(
        QueueLog.objects.filter(
            call_id=OuterRef("pk"), event=QueueEvent.CONNECT, wait_ms__lte=SERVICE_SECONDS * 1000
        )
    )


def _calls(window: Window) -> QuerySet[Call]:
    return Call.objects.filter(started_at__gte=window.start, started_at__lt=window.end)


def _bucket(grain: str) -> dict[str, Any]:
    tz = timezone.get_current_timezone()
    if grain == "month":
        return {"b": TruncMonth("started_at", tzinfo=tz)}
    if grain == "week":
        return {"b": TruncWeek("started_at", tzinfo=tz)}
    if grain == "day":
        return {"b": TruncDate("started_at", tzinfo=tz)}
    if grain == "hour":
        return {"b": ExtractHour("started_at", tzinfo=tz)}
    # 0 or 1 on every database (minute / 30 is a fraction on PostgreSQL, an integer on SQLite)
    second_half = Case(
        When(Q(started_at__minute__gte=30), then=Value(1)), default=Value(0), output_field=IntegerField()
    )
    return {"b": ExtractHour("started_at", tzinfo=tz), "half": second_half}


def _label(grain: str, row: dict[str, Any]) -> str:
    b = row["b"]
    if grain == "month":
        return f"{b:%Y-%m}"
    if grain in ("week", "day"):
        day = b.date() if isinstance(b, dt.datetime) else b
        return day.isoformat() if grain == "day" else f"{day.isoformat()} 起"
    if grain == "hour":
        return f"{b:02d}:00–{b:02d}:59"
    start = 30 if row["half"] else 0
    return f"{b:02d}:{start:02d}–{b:02d}:{start + 29:02d}"


def _bucket_filter(grain: str, row: dict[str, Any], window: Window) -> dict[str, str]:
    """The call-detail filter of one volume bucket: its days (a month or week cut to the period) or, for the
    times of day, its hour or half-hour over the whole period."""
    b = row["b"]
    if grain == "hour":
        return {"hour": f"{b:02d}"}
    if grain == "halfhour":
        return {"hour": f"{b:02d}:{30 if row['half'] else 0:02d}"}
    first = b.date() if isinstance(b, dt.datetime) else b
    if grain == "day":
        last = first
    elif grain == "week":
        last = first + dt.timedelta(days=6)
    else:
        last = (first.replace(day=28) + dt.timedelta(days=4)).replace(day=1) - dt.timedelta(days=1)
    tz = timezone.get_current_timezone()
    period_first = timezone.localtime(window.start, tz).date()
    period_last = timezone.localtime(window.end - dt.timedelta(microseconds=1), tz).date()
    return {"from": max(first, period_first).isoformat(), "to": min(last, period_last).isoformat()}


def volume(window: Window, grain: str) -> list[dict[str, Any]]:
    """The comprehensive call volume by bucket: inbound, to queue, answered, talk seconds, abandoned,
    outbound, service level and answer rate. Hour and half-hour are times of day over the whole period."""
    if grain not in GRAINS:
        raise ValueError(grain)
    bucket = _bucket(grain)
    keys = list(bucket)
    rows = (
        _calls(window)
        .annotate(**bucket, fast=_fast_connect())
        .values(*keys)
        .annotate(
            inbound=Count("id"),
            to_queue=Count("id", filter=Q(enqueued_at__isnull=False)),
            answered=Count("id", filter=Q(answered_at__isnull=False)),
            abandoned=Count("id", filter=Q(disposition=Disposition.ABANDONED)),
            talk=Sum(_talk(), filter=Q(answered_at__isnull=False, ended_at__isnull=False)),
            n_fast=Count("id", filter=Q(fast=True, enqueued_at__isnull=False)),
        )
        .order_by(*keys)
    )
    outbound_rows = (
        CallLeg.objects.filter(
            direction="out", role=LegRole.EXTERNAL, started_at__gte=window.start, started_at__lt=window.end
        )
        .annotate(**_bucket(grain))  # legs have `started_at` too
        .values(*keys)
        .annotate(n=Count("id"))
        .order_by()
    )
    outbound = {tuple(r[k] for k in keys): r["n"] for r in outbound_rows}
    result = []
    for r in rows:
        key = tuple(r[k] for k in keys)
        result.append(
            {
                "bucket": _label(grain, r),
                "detail_filter": _bucket_filter(grain, r, window),
                "inbound": r["inbound"],
                "to_queue": r["to_queue"],
                "answered": r["answered"],
                "abandoned": r["abandoned"],
                "talk_seconds": _seconds(r["talk"]),
                "outbound": outbound.pop(key, 0),
                "service_level": pct(r["n_fast"], r["to_queue"]),
                "answer_rate": pct(r["answered"], r["to_queue"]),
            }
        )
    for key, n in sorted(outbound.items(), key=lambda item: str(item[0])):  # buckets with outbound legs only
        row = dict(zip(keys, key, strict=True))
        result.append(
            {
                "bucket": _label(grain, row),
                "detail_filter": _bucket_filter(grain, row, window),
                "inbound": 0,
                "to_queue": 0,
                "answered": 0,
                "abandoned": 0,
                "talk_seconds": 0,
                "outbound": n,
                "service_level": None,
                "answer_rate": None,
            }
        )
    return result


def totals(rows: list[dict[str, Any]], window: Window) -> dict[str, Any]:
    """The period's total row (service level recomputed from counts, not averaged over buckets)."""
    calls = _calls(window).annotate(fast=_fast_connect())
    agg = calls.aggregate(
        to_queue=Count("id", filter=Q(enqueued_at__isnull=False)),
        n_fast=Count("id", filter=Q(fast=True, enqueued_at__isnull=False)),
        answered=Count("id", filter=Q(answered_at__isnull=False)),
    )
    return {
        "bucket": str(_("合计")),
        "detail_filter": {},
        **{
            k: sum(r[k] for r in rows)
            for k in ("inbound", "to_queue", "answered", "abandoned", "talk_seconds", "outbound")
        },
        "service_level": pct(agg["n_fast"], agg["to_queue"]),
        "answer_rate": pct(agg["answered"], agg["to_queue"]),
    }


def _band_case() -> Case:
    whens = []
    for key, low, high in BANDS:
        cond = Q(wait_ms__gte=low * 1000)
        if high is not None:
            cond &= Q(wait_ms__lt=high * 1000)
        whens.append(When(cond, then=Value(key)))
    return Case(*whens, default=Value("gt60"))


def per_queue(window: Window) -> list[dict[str, Any]]:
    """Per skill group (queue): calls entering it (enqueue + transfer in), answered, abandoned, overflowed out,
    average wait of the answered, and the answered / abandoned calls by wait band."""
    log = QueueLog.objects.filter(at__gte=window.start, at__lt=window.end)
    counts = {
        r["queue_id"]: r
        for r in log.values("queue_id")
        .annotate(
            entered=Count("id", filter=Q(event__in=[QueueEvent.ENQUEUE, QueueEvent.TRANSFER])),
            answered=Count("id", filter=Q(event=QueueEvent.CONNECT)),
            abandoned=Count("id", filter=Q(event=QueueEvent.ABANDON)),
            overflow=Count("id", filter=Q(event=QueueEvent.OVERFLOW)),
            wait=Avg("wait_ms", filter=Q(event=QueueEvent.CONNECT)),
            fast=Count("id", filter=Q(event=QueueEvent.CONNECT, wait_ms__lte=SERVICE_SECONDS * 1000)),
        )
        .order_by()
    }
    bands: dict[int, dict[str, int]] = {}
    for r in (
        log.filter(event__in=[QueueEvent.CONNECT, QueueEvent.ABANDON])
        .annotate(band=_band_case())
        .values("queue_id", "event", "band")
        .annotate(n=Count("id"))
        .order_by()
    ):
        bands.setdefault(r["queue_id"], {})[f"{r['event']}_{r['band']}"] = r["n"]
    result = []
    for q in Queue.objects.filter(pk__in=counts).order_by("code"):
        c = counts[q.pk]
        b = bands.get(q.pk, {})
        result.append(
            {
                "queue": q.name,
                "code": q.code,
                "detail_filter": {"queue": q.code},
                "entered": c["entered"],
                "answered": c["answered"],
                "abandoned": c["abandoned"],
                "overflow": c["overflow"],
                "average_wait": round(c["wait"] / 1000, 1) if c["wait"] is not None else None,
                "service_level": pct(c["fast"], c["entered"]),
                **{f"answered_{k}": b.get(f"connect_{k}", 0) for k, _l, _h in BANDS},
                **{f"abandoned_{k}": b.get(f"abandon_{k}", 0) for k, _l, _h in BANDS},
            }
        )
    return result


BUSY_STATES = (AgentState.RINGING, AgentState.TALKING, AgentState.HOLD, AgentState.WRAP_UP)


def per_agent(window: Window) -> list[dict[str, Any]]:
    """Per agent: calls offered, answered, not answered (rang out), talk seconds and average talk, wrap-up and
    not-ready (break) seconds, logins; answer rate = answered ÷ offered; the agent's 20-second service level =
    calls it connected after waiting ≤ 20 s ÷ calls offered to it; occupancy = seconds ringing, talking, on hold
    and in wrap-up ÷ those plus the seconds ready (not-ready time excluded). Each row clicks through to the
    agent's calls."""
    log = QueueLog.objects.filter(at__gte=window.start, at__lt=window.end, agent__isnull=False)
    offers = {
        r["agent_id"]: r
        for r in log.values("agent_id")
        .annotate(
            offered=Count("id", filter=Q(event=QueueEvent.OFFER)),
            answered=Count("id", filter=Q(event=QueueEvent.CONNECT)),
            no_answer=Count("id", filter=Q(event=QueueEvent.NO_ANSWER)),
            fast=Count("id", filter=Q(event=QueueEvent.CONNECT, wait_ms__lte=SERVICE_SECONDS * 1000)),
        )
        .order_by()
    }
    talk = {
        r["agent_id"]: r
        for r in Call.objects.filter(
            agent__isnull=False,
            answered_at__gte=window.start,
            answered_at__lt=window.end,
            ended_at__isnull=False,
        )
        .values("agent_id")
        .annotate(talk=Sum(_talk()), n=Count("id"))
        .order_by()
    }
    states = _state_ms(window)
    logins = {
        r["agent_id"]: r["n"]
        for r in AgentStateLog.objects.filter(at__gte=window.start, at__lt=window.end, event="login")
        .values("agent_id")
        .annotate(n=Count("id"))
        .order_by()
    }
    ids = set(offers) | set(talk) | set(states) | set(logins)
    result = []
    for a in Agent.objects.filter(pk__in=ids).select_related("user").order_by("agent_id"):
        o = offers.get(a.pk, {"offered": 0, "answered": 0, "no_answer": 0, "fast": 0})
        t = talk.get(a.pk, {"talk": None, "n": 0})
        s = states.get(a.pk, {})
        talk_s = _seconds(t["talk"])
        busy_ms = sum(s.get(state, 0) for state in BUSY_STATES)
        result.append(
            {
                "agent": a.agent_id,
                "name": str(a.user) if a.user_id else "",
                "offered": o["offered"],
                "answered": o["answered"],
                "no_answer": o["no_answer"],
                "answer_rate": pct(o["answered"], o["offered"]),
                "service_level": pct(o["fast"], o["offered"]),
                "occupancy": pct(busy_ms, busy_ms + s.get(AgentState.READY, 0)),
                "talk_seconds": talk_s,
                "average_talk": round(talk_s / t["n"], 1) if t["n"] else None,
                "wrap_up_seconds": round(s.get(AgentState.WRAP_UP, 0) / 1000),
                "not_ready_seconds": round(s.get(AgentState.NOT_READY, 0) / 1000),
                "logins": logins.get(a.pk, 0),
                "detail_filter": {"agent": a.agent_id},
            }
        )
    return result


def _state_ms(window: Window) -> dict[int, dict[str, int]]:
    out: dict[int, dict[str, int]] = {}
    for r in (
        AgentStateLog.objects.filter(at__gte=window.start, at__lt=window.end)
        .values("agent_id", "from_state")
        .annotate(ms=Sum("previous_ms"))
        .order_by()
    ):
        out.setdefault(r["agent_id"], {})[r["from_state"]] = int(r["ms"] or 0)
    return out


def agent_states(window: Window) -> list[dict[str, Any]]:
    """Per agent: seconds in each state (ready, not ready, ringing, talking, hold, wrap-up), and the breaks
    (not ready) by reason: how many and how long. A state counts when the agent left it inside the period."""
    states = _state_ms(window)
    breaks: dict[int, dict[str, int]] = {}
    for r in (
        AgentStateLog.objects.filter(at__gte=window.start, at__lt=window.end, to_state=AgentState.NOT_READY)
        .values("agent_id", "reason")
        .annotate(n=Count("id"))
        .order_by()
    ):
        breaks.setdefault(r["agent_id"], {})[r["reason"] or "other"] = r["n"]
    # How long each break lasted is logged when the agent leaves "not ready" (previous_ms of the next row);
    # the reason is the one the agent entered it with: pair each leave with the latest entry before it.
    rows = (
        AgentStateLog.objects.filter(at__gte=window.start, at__lt=window.end)
        .filter(Q(to_state=AgentState.NOT_READY) | Q(from_state=AgentState.NOT_READY))
        .order_by("agent_id", "at", "id")
    )
    reason_now: dict[int, str] = {}
    durations: dict[int, dict[str, int]] = {}
    for row in rows.values("agent_id", "from_state", "to_state", "reason", "previous_ms").iterator():
        agent = row["agent_id"]
        if row["from_state"] == AgentState.NOT_READY and agent in reason_now:
            bucket = durations.setdefault(agent, {})
            bucket[reason_now[agent]] = bucket.get(reason_now[agent], 0) + row["previous_ms"]
            reason_now.pop(agent)
        if row["to_state"] == AgentState.NOT_READY:
            reason_now[agent] = row["reason"] or "other"
    labels = dict(NotReadyReason.choices)
    result = []
    for a in (
        Agent.objects.filter(pk__in=set(states) | set(breaks)).select_related("user").order_by("agent_id")
    ):
        s = states.get(a.pk, {})
        result.append(
            {
                "agent": a.agent_id,
                "name": str(a.user) if a.user_id else "",
                **{f"{state}_seconds": round(s.get(state, 0) / 1000) for state in STATE_COLUMNS},
                "breaks": [
                    {
                        "reason": str(labels.get(reason, reason)),
                        "count": n,
                        "seconds": round(durations.get(a.pk, {}).get(reason, 0) / 1000),
                    }
                    for reason, n in sorted(breaks.get(a.pk, {}).items())
                ],
            }
        )
    return result


STATE_COLUMNS = (
    AgentState.READY,
    AgentState.NOT_READY,
    AgentState.RINGING,
    AgentState.TALKING,
    AgentState.HOLD,
    AgentState.WRAP_UP,
)


def detail_source(window: Window, filters: dict[str, str] | None = None) -> QuerySet[Call]:
    """The calls of the call detail, newest first; `filters` narrows them to the calls behind one figure
    (`detail_calls`)."""
    source = detail_calls(window, filters) if filters else _calls(window)
    return source.select_related("queue", "agent").order_by("-started_at", "-id")


def call_detail(calls: list[Call]) -> list[dict[str, Any]]:
    """Rows of the call detail for `calls` (one page, or an export): queue, agent, times, result and the cases
    linked to each call."""
    links: dict[int, list[tuple[int, str]]] = {}
    for link in CallCase.objects.filter(call__in=calls).select_related("case").order_by("linked_at"):
        links.setdefault(link.call_id, []).append((link.case_id, link.case.number))
    labels = dict(Disposition.choices)
    return [
        {
            "call_id": c.call_id,
            "pk": c.pk,
            "started_at": timezone.localtime(c.started_at),
            "queue": c.queue.name if c.queue else "",
            "agent": c.agent.agent_id if c.agent else "",
            "wait_seconds": round((c.answered_at - c.enqueued_at).total_seconds())
            if c.answered_at and c.enqueued_at
            else None,
            "talk_seconds": round((c.ended_at - c.answered_at).total_seconds())
            if c.ended_at and c.answered_at
            else None,
            "result": str(labels.get(c.disposition, c.disposition)),
            "cases": links.get(c.pk, []),
        }
        for c in calls
    ]


def _ended_by(reason: str) -> str:
    return str(_("班长强制签出") if reason == NotReadyReason.SUPERVISOR else _("签出"))


def login_sessions(window: Window) -> list[dict[str, Any]]:
    """Seed 3.8.1's login details: each sign-in inside the period with its sign-out (by the agent, a supervisor's
    forced logout, or a reset) and how long the agent stayed signed in; a session still open has no end."""
    entries = AgentStateLog.objects.filter(
        event=AgentEvent.LOGIN, at__gte=window.start, at__lt=window.end
    ).values_list("agent_id", "at")
    starts: dict[int, list[Any]] = {}
    for agent, at in entries.order_by("agent_id", "at", "id"):
        starts.setdefault(agent, []).append(at)
    if not starts:
        return []
    ends: dict[int, list[tuple[Any, str]]] = {}
    leaving = (
        AgentStateLog.objects.filter(
            agent_id__in=starts, to_state=AgentState.LOGGED_OUT, at__gte=min(min(v) for v in starts.values())
        )
        .order_by("agent_id", "at", "id")
        .values_list("agent_id", "at", "reason")
    )
    for agent, at, reason in leaving:
        ends.setdefault(agent, []).append((at, reason))
    agents = {a.pk: a for a in Agent.objects.filter(pk__in=starts).select_related("user")}
    now = timezone.now()
    rows = []
    for agent_pk, logins in starts.items():
        outs = ends.get(agent_pk, [])
        for i, start in enumerate(logins):
            following = logins[i + 1] if i + 1 < len(logins) else None
            end = next(
                ((at, ev) for at, ev in outs if at >= start and (following is None or at <= following)), None
            )
            seat = agents[agent_pk]
            rows.append(
                {
                    "agent": seat.agent_id,
                    "name": str(seat.user) if seat.user_id else "",
                    "login_at": timezone.localtime(start),
                    "logout_at": timezone.localtime(end[0]) if end else None,
                    "ended_by": _ended_by(end[1]) if end else "",
                    "seconds": round(((end[0] if end else now) - start).total_seconds()),
                }
            )
    rows.sort(key=lambda r: (r["login_at"], r["agent"]), reverse=True)
    return rows


# --------------------------------------------------------------------------- trunk, IVR nodes, call controls
# Seed 3.8.1's trunk inbound, IVR volume by node, and transfers / consults / conferences / holds. Every row names
# the call-detail filter (`detail_filter`) its figures click through to.
#
# What the tables lack: no carrier trunk (SIP gateway / circuit) is recorded on a call, only the access number
# dialled (`telephony_number`, `telephony_call.dialed`); the "trunk" report is therefore per access number.

CONTROL_COLUMNS = (
    ("blind_transfer", ControlKind.BLIND_TRANSFER),
    ("consult", ControlKind.CONSULT),
    ("consult_transfer", ControlKind.CONSULT_TRANSFER),
    ("conference", ControlKind.CONFERENCE),
)
FORMULAS_MORE = {
    "trunk": _(
        "中继（接入号码）呼入：按被叫接入号码统计呼入的呼叫数，其中进入人工排队、人工接通、排队放弃、"
        "自助结束、黑名单处理的呼叫数；系统未记录运营商中继（网关）编号"
    ),
    "ivr": _(
        "语音导航节点：每个节点被进入的次数与经过的呼叫数（去重），按键、按键超时、无效按键次数，"
        "以及该节点上的自助查询结果（语音导航日志）"
    ),
    "controls": _(
        "转接、咨询、三方、保持：坐席发起的直接转接、咨询、咨询后转接、三方通话次数（通话控制记录），"
        "保持次数与保持秒数（坐席状态日志：进入保持的次数，离开保持时记录的持续时长之和）"
    ),
}


def trunk_inbound(window: Window) -> list[dict[str, Any]]:
    """Per access number dialled: inbound calls and what became of them."""
    names = dict(Number.objects.values_list("number", "name"))
    rows = (
        _calls(window)
        .filter(direction="in")
        .values("dialed")
        .annotate(
            inbound=Count("id"),
            to_queue=Count("id", filter=Q(enqueued_at__isnull=False)),
            answered=Count("id", filter=Q(answered_at__isnull=False)),
            abandoned=Count("id", filter=Q(disposition=Disposition.ABANDONED)),
            self_service=Count("id", filter=Q(disposition=Disposition.IVR_END)),
            blacklisted=Count("id", filter=Q(disposition=Disposition.BLACKLISTED)),
        )
        .order_by("-inbound", "dialed")
    )
    return [
        {
            "dialed": r["dialed"],
            "name": names.get(r["dialed"], ""),
            **{
                k: r[k]
                for k in ("inbound", "to_queue", "answered", "abandoned", "self_service", "blacklisted")
            },
            "answer_rate": pct(r["answered"], r["to_queue"]),
            "detail_filter": {"dialed": r["dialed"]},
        }
        for r in rows
    ]


def ivr_nodes(window: Window) -> list[dict[str, Any]]:
    """Per IVR flow and node: entries, distinct calls, keys, timeouts, invalid keys, self-service results."""
    rows = (
        IvrStep.objects.filter(at__gte=window.start, at__lt=window.end)
        .values("version__flow__code", "version__flow__name", "node")
        .annotate(
            entries=Count("id", filter=Q(event=IvrStepEvent.ENTER)),
            calls=Count("call_id", distinct=True),
            keys=Count("id", filter=Q(event=IvrStepEvent.KEYS)),
            timeouts=Count("id", filter=Q(event=IvrStepEvent.TIMEOUT)),
            invalid=Count("id", filter=Q(event=IvrStepEvent.INVALID)),
            found=Count("id", filter=Q(event=IvrStepEvent.FOUND)),
            not_found=Count("id", filter=Q(event__in=[IvrStepEvent.NOT_FOUND, IvrStepEvent.REFUSED])),
        )
        .order_by("version__flow__code", "-entries", "node")
    )
    return [
        {
            "flow": r["version__flow__name"],
            "node": r["node"],
            **{k: r[k] for k in ("entries", "calls", "keys", "timeouts", "invalid", "found", "not_found")},
            "detail_filter": {"ivr_flow": r["version__flow__code"], "ivr_node": r["node"]},
        }
        for r in rows
    ]


def call_controls(window: Window) -> list[dict[str, Any]]:
    """Per agent: transfers, consults, consult-transfers and conferences it made; holds (count, seconds)."""
    controls: dict[int, dict[str, Any]] = {
        r["agent_id"]: dict(r)
        for r in CallControl.objects.filter(at__gte=window.start, at__lt=window.end, agent__isnull=False)
        .values("agent_id")
        .annotate(**{key: Count("id", filter=Q(kind=kind)) for key, kind in CONTROL_COLUMNS})
        .order_by()
    }
    holds: dict[int, dict[str, Any]] = {
        r["agent_id"]: dict(r)
        for r in AgentStateLog.objects.filter(at__gte=window.start, at__lt=window.end)
        .filter(Q(to_state=AgentState.HOLD) | Q(from_state=AgentState.HOLD))
        .values("agent_id")
        .annotate(
            holds=Count("id", filter=Q(to_state=AgentState.HOLD)),
            hold_ms=Sum("previous_ms", filter=Q(from_state=AgentState.HOLD)),
        )
        .order_by()
    }
    result = []
    for a in (
        Agent.objects.filter(pk__in=set(controls) | set(holds)).select_related("user").order_by("agent_id")
    ):
        c = controls.get(a.pk, {})
        h = holds.get(a.pk, {})
        row = {
            "agent": a.agent_id,
            "name": str(a.user) if a.user_id else "",
            **{key: c.get(key, 0) for key, _kind in CONTROL_COLUMNS},
            "holds": h.get("holds", 0),
            "hold_seconds": round(int(h.get("hold_ms") or 0) / 1000),
            "detail_filter": {"agent": a.agent_id, "control": "any"},
        }
        if any(row[k] for k in (*[k for k, _kind in CONTROL_COLUMNS], "holds")):
            result.append(row)
    return result


DETAIL_FILTERS = ("dialed", "ivr_flow", "ivr_node", "agent", "control", "queue", "hour")
HOUR_FILTER = re.compile(r"^([01][0-9]|2[0-3])(:[03]0)?$")  # "09" (an hour) or "09:30" (a half-hour)


def detail_calls(window: Window, filters: dict[str, str]) -> QuerySet[Call]:
    """The calls behind a figure of the reports above (the same definitions): by access number dialled, by IVR
    node passed through, by agent, with a transfer / consult / conference (`control` = a kind or `any`, `hold`
    included with `any`), by skill group entered (`queue`: its code; an enqueue or transfer into it, as the skill
    group report counts) and by time of day (`hour`: "09" or "09:30", local time, as the volume by hour and
    half-hour). The volume by month, week and day clicks through with the bucket's days as the period."""
    calls = _calls(window)
    if filters.get("queue"):
        entered = QueueLog.objects.filter(
            call_id=OuterRef("pk"),
            queue__code=filters["queue"],
            event__in=[QueueEvent.ENQUEUE, QueueEvent.TRANSFER],
            at__gte=window.start,
            at__lt=window.end,
        )
        calls = calls.filter(Exists(entered))
    hour = HOUR_FILTER.match(filters.get("hour", ""))
    if hour:
        tz = timezone.get_current_timezone()
        calls = calls.annotate(_hour=ExtractHour("started_at", tzinfo=tz)).filter(_hour=int(hour.group(1)))
        if hour.group(2):
            half = Q(started_at__minute__gte=30)
            calls = calls.filter(half if hour.group(2) == ":30" else ~half)
    if filters.get("dialed"):
        calls = calls.filter(dialed=filters["dialed"], direction="in")
    if filters.get("ivr_node"):
        steps = IvrStep.objects.filter(
            call_id=OuterRef("pk"), node=filters["ivr_node"], at__gte=window.start, at__lt=window.end
        )
        if filters.get("ivr_flow"):
            steps = steps.filter(version__flow__code=filters["ivr_flow"])
        calls = calls.filter(Exists(steps))
    control = filters.get("control", "")
    agent = filters.get("agent", "")
    if control:
        made = CallControl.objects.filter(call_id=OuterRef("pk"))
        held = AgentStateLog.objects.filter(call_id=OuterRef("pk"), to_state=AgentState.HOLD)
        if agent:
            made = made.filter(agent__agent_id=agent)
            held = held.filter(agent__agent_id=agent)
        if control == "any":
            calls = calls.filter(
                Exists(made.filter(kind__in=[k for _c, k in CONTROL_COLUMNS])) | Exists(held)
            )
        elif control == "hold":
            calls = calls.filter(Exists(held))
        else:
            calls = calls.filter(Exists(made.filter(kind=control)))
    elif agent:
        calls = calls.filter(agent__agent_id=agent)
    return calls
