"""Trunk (access number) inbound, IVR volume by node, transfers / consults / conferences / holds: hand-computed
rows, the edge cases (no calls, all abandoned), click-through to the calls behind a figure, Excel, who may read."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client
from openpyxl import load_workbook

from hotline.analytics import calls
from hotline.telephony import services as tel
from hotline.telephony.models import (
    AgentStateLog,
    Call,
    CallControl,
    CallStatus,
    ControlKind,
    Disposition,
    IvrFlow,
    IvrStep,
    IvrStepEvent,
    IvrVersion,
    Number,
    Queue,
)
from hotline.telephony.states import AgentEvent, AgentState

SH = ZoneInfo("Asia/Shanghai")
DAY = dt.datetime(2026, 11, 24, tzinfo=SH)
WINDOW = calls.Window(DAY, DAY + dt.timedelta(days=1))


def at(hh: int, mm: int) -> dt.datetime:
    return DAY.replace(hour=hh, minute=mm)


@pytest.fixture
def world(people):
    queue = Queue.objects.create(code="general", name="综合")
    flow = IvrFlow.objects.create(code="main", name="主菜单", created_at=DAY)
    version = IvrVersion.objects.create(
        flow=flow, number=1, status="published", graph={}, created_at=DAY, updated_at=DAY
    )
    Number.objects.create(number="12345", name="12345热线", queue=queue, ivr_flow=flow)
    a1 = tel.agent_create(
        agent_id="1001", password="secret1", extension="1001", skills=[queue], user=people.agent, actor=None
    )
    a2 = tel.agent_create(agent_id="1002", password="secret2", extension="1002", skills=[queue], actor=None)

    def call(name, started, *, dialed="12345", disposition=Disposition.ANSWERED, agent=None, queued=True):
        answered = disposition == Disposition.ANSWERED
        return Call.objects.create(
            call_id=name, caller="13800000000", dialed=dialed, queue=queue if queued else None,
            status=CallStatus.ENDED, disposition=disposition, started_at=started,
            enqueued_at=started + dt.timedelta(seconds=10) if queued else None,
            answered_at=started + dt.timedelta(seconds=20) if answered else None,
            ended_at=started + dt.timedelta(minutes=3), agent=agent if answered else None,
        )  # fmt: skip

    def step(c, node, event=IvrStepEvent.ENTER, digits=""):
        IvrStep.objects.create(
            call=c, version=version, node=node, event=event, digits=digits, at=c.started_at
        )

    return queue, (a1, a2), call, step


def test_trunk_ivr_and_controls_by_hand(world):
    queue, (a1, a2), call, step = world
    assert calls.trunk_inbound(WINDOW) == [] and calls.ivr_nodes(WINDOW) == []
    assert calls.call_controls(WINDOW) == []  # no calls: empty, no division by zero
    c1 = call("c1", at(9, 0), agent=a1)
    c2 = call("c2", at(9, 5), agent=a1)
    c3 = call("c3", at(9, 10), disposition=Disposition.ABANDONED)
    c4 = call("c4", at(9, 15), disposition=Disposition.IVR_END, queued=False)
    call("c5", at(9, 20), dialed="96345", disposition=Disposition.BLACKLISTED, queued=False)
    call("late", at(9, 0) + dt.timedelta(days=1), agent=a1)  # the next day: not counted
    Call.objects.create(  # an outbound call (click-to-call) is no trunk inbound
        call_id="out",
        direction="out",
        caller="13900000000",
        dialed="13900000000",
        status=CallStatus.ENDED,
        started_at=at(10, 0),
    )

    trunk = {r["dialed"]: r for r in calls.trunk_inbound(WINDOW)}
    assert set(trunk) == {"12345", "96345"}
    t = trunk["12345"]
    assert (t["name"], t["inbound"], t["to_queue"], t["answered"], t["abandoned"], t["self_service"]) == (
        "12345热线", 4, 3, 2, 1, 1,
    )  # fmt: skip
    assert t["answer_rate"] == 66.7  # 2 of 3 to queue
    assert (trunk["96345"]["name"], trunk["96345"]["blacklisted"], trunk["96345"]["answer_rate"]) == (
        "",
        1,
        None,
    )

    for c in (c1, c2, c3, c4):
        step(c, "welcome")
        step(c, "main_menu")
    step(c1, "main_menu", IvrStepEvent.KEYS, "1")
    step(c2, "main_menu", IvrStepEvent.TIMEOUT)
    step(c2, "main_menu", IvrStepEvent.ENTER)  # the menu again after the timeout
    step(c2, "main_menu", IvrStepEvent.KEYS, "9")
    step(c2, "main_menu", IvrStepEvent.INVALID)
    step(c4, "progress")
    step(c4, "progress", IvrStepEvent.FOUND)
    nodes = {r["node"]: r for r in calls.ivr_nodes(WINDOW)}
    menu = nodes["main_menu"]
    assert (menu["entries"], menu["calls"], menu["keys"], menu["timeouts"], menu["invalid"]) == (
        5,
        4,
        2,
        1,
        1,
    )
    assert (nodes["welcome"]["entries"], nodes["welcome"]["calls"]) == (4, 4)
    assert (nodes["progress"]["found"], nodes["progress"]["not_found"], nodes["progress"]["flow"]) == (
        1,
        0,
        "主菜单",
    )

    for kind, agent, c in (
        (ControlKind.BLIND_TRANSFER, a1, c1),
        (ControlKind.CONSULT, a1, c2),
        (ControlKind.CONSULT_TRANSFER, a1, c2),
        (ControlKind.CONFERENCE, a2, c1),
        (ControlKind.LISTEN, a2, c1),  # a supervisor mode: not a transfer, consult or conference
    ):
        CallControl.objects.create(call=c, kind=kind, agent=agent, at=c.answered_at)
    for from_state, to_state, ms, event in (
        (AgentState.TALKING, AgentState.HOLD, 40_000, AgentEvent.HOLD),
        (AgentState.HOLD, AgentState.TALKING, 25_000, AgentEvent.RETRIEVE),
        (AgentState.TALKING, AgentState.HOLD, 10_000, AgentEvent.HOLD),
        (AgentState.HOLD, AgentState.TALKING, 5_500, AgentEvent.RETRIEVE),
    ):
        AgentStateLog.objects.create(
            agent=a1,
            event=event,
            from_state=from_state,
            to_state=to_state,
            call=c1,
            previous_ms=ms,
            at=at(9, 2),
        )
    rows = {r["agent"]: r for r in calls.call_controls(WINDOW)}
    r1, r2 = rows["1001"], rows["1002"]
    assert (r1["blind_transfer"], r1["consult"], r1["consult_transfer"], r1["conference"]) == (1, 1, 1, 0)
    assert (r1["holds"], r1["hold_seconds"]) == (2, 30)  # 25 s + 5.5 s, rounded
    assert (r2["conference"], r2["holds"], r2["hold_seconds"]) == (1, 0, 0)

    # click-through: the same definitions pick the calls behind each figure
    ids = lambda f: sorted(c.call_id for c in calls.detail_calls(WINDOW, f))  # noqa: E731
    assert ids({"dialed": "12345"}) == ["c1", "c2", "c3", "c4"]
    assert ids({"ivr_flow": "main", "ivr_node": "progress"}) == ["c4"]
    assert ids({"ivr_node": "main_menu"}) == ["c1", "c2", "c3", "c4"]
    assert ids({"agent": "1001", "control": "any"}) == ["c1", "c2"]
    assert ids({"agent": "1002", "control": "any"}) == ["c1"]
    assert ids({"control": "hold"}) == ["c1"]
    assert ids({"control": ControlKind.CONSULT}) == ["c2"]


def test_all_abandoned(world):
    queue, agents, call, step = world
    call("a1", at(9, 0), disposition=Disposition.ABANDONED)
    call("a2", at(9, 1), disposition=Disposition.ABANDONED)
    (t,) = calls.trunk_inbound(WINDOW)
    assert (t["inbound"], t["to_queue"], t["answered"], t["abandoned"], t["answer_rate"]) == (2, 2, 0, 2, 0.0)
    assert calls.call_controls(WINDOW) == []


def test_pages_drill_export_and_who_may_read(people, world):
    queue, (a1, a2), call, step = world
    c1 = call("c1", at(9, 0), agent=a1)
    call("c2", at(9, 5), dialed="96345", agent=a1)
    step(c1, "welcome")
    CallControl.objects.create(call=c1, kind=ControlKind.CONFERENCE, agent=a1, at=c1.answered_at)
    office = Client()
    office.force_login(people.dispatcher)
    query = {"from": "2026-11-24", "to": "2026-11-24"}
    for report, link in (
        ("trunk", "report=detail&amp;from=2026-11-24&amp;to=2026-11-24&amp;dialed=12345"),
        ("ivr", "ivr_flow=main&amp;ivr_node=welcome"),
        ("controls", "agent=1001&amp;control=any"),
    ):
        page = office.get("/analytics/calls/", {**query, "report": report})
        assert page.status_code == 200
        assert link in page.content.decode(), report
    detail = office.get("/analytics/calls/", {**query, "report": "detail", "dialed": "96345"})
    body = detail.content.decode()
    assert "c2" in body and ">c1<" not in body and 'data-testid="calls-detail-filters"' in body
    export = office.get("/analytics/calls/", {**query, "report": "controls", "export": "xlsx"})
    values = [list(r) for r in load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True)]
    assert ["1001", str(people.agent), 0, 0, 0, 1, 0, 0] in [v[:8] for v in values]
    filtered = office.get(
        "/analytics/calls/", {**query, "report": "detail", "agent": "1001", "export": "xlsx"}
    )
    stated = [list(r) for r in load_workbook(BytesIO(filtered.content)).active.iter_rows(values_only=True)]
    assert any(r[0] == "坐席工号" and r[1] == "1001" for r in stated)  # the filter is stated in the file
    assert (
        office.get("/analytics/calls/", {**query, "report": "detail", "control": "nope"}).status_code == 400
    )
    leader = Client()
    leader.force_login(people.east_leader)  # call tables have no unit: a district never reads them
    assert leader.get("/analytics/calls/", {**query, "report": "trunk"}).status_code == 403


def test_fixture_generator_fills_trunk_ivr_and_controls(city, people):
    call_command("fake_calls", "--days", "2", "--per-day", "60")
    window = calls.Window(DAY - dt.timedelta(days=3650), DAY + dt.timedelta(days=3650))
    assert sum(r["inbound"] for r in calls.trunk_inbound(window)) == 120
    assert {r["dialed"] for r in calls.trunk_inbound(window)} <= {"12345", "96345"}
    nodes = {r["node"]: r for r in calls.ivr_nodes(window)}
    assert nodes["welcome"]["calls"] == 120 and nodes["main_menu"]["keys"] == 120
    controls = calls.call_controls(window)
    assert sum(r["holds"] for r in controls) > 0
    assert (
        sum(r["blind_transfer"] + r["consult"] + r["consult_transfer"] + r["conference"] for r in controls)
        > 0
    )
