"""Call reports (STAT-1) against hand-computed rows, edge cases (no calls, all abandoned), the page, its export
and who may read it; the fixture generator fills rows the reports read."""

from __future__ import annotations

import datetime as dt
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.test import Client
from openpyxl import load_workbook

from hotline.analytics import calls
from hotline.analytics import measures as m
from hotline.analytics.measures import Scope
from hotline.common.models import AuditLog
from hotline.telephony import services as tel
from hotline.telephony.models import (
    AgentStateLog,
    Call,
    CallCase,
    CallLeg,
    CallStatus,
    Disposition,
    LegRole,
    Queue,
    QueueEvent,
    QueueLog,
)
from hotline.telephony.states import AgentEvent, AgentState
from tests.conftest import submitted_case

SH = ZoneInfo("Asia/Shanghai")
DAY = dt.datetime(2026, 11, 24, tzinfo=SH)
WINDOW = calls.Window(DAY, DAY + dt.timedelta(days=1))


def at(hh: int, mm: int, ss: int = 0) -> dt.datetime:
    return DAY.replace(hour=hh, minute=mm, second=ss)


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def world(people):
    queue = Queue.objects.create(code="general", name="综合")
    agent = tel.agent_create(
        agent_id="1001", password="secret1", extension="1001", skills=[queue], user=people.agent, actor=None
    )

    def call(name, started, *, wait=None, talk=None, abandoned=False, queued=True):
        enqueued = started + dt.timedelta(seconds=10) if queued else None
        c = Call.objects.create(
            call_id=name, caller="13800000000", dialed="12345", queue=queue if queued else None,
            status=CallStatus.ENDED, started_at=started, enqueued_at=enqueued,
            disposition=Disposition.ABANDONED if abandoned else (Disposition.ANSWERED if talk else Disposition.IVR_END),
        )  # fmt: skip
        if queued:
            QueueLog.objects.create(call=c, queue=queue, event=QueueEvent.ENQUEUE, at=enqueued)
        if abandoned:
            c.ended_at = enqueued + dt.timedelta(seconds=wait)
            QueueLog.objects.create(
                call=c, queue=queue, event=QueueEvent.ABANDON, wait_ms=wait * 1000, at=c.ended_at
            )
        elif talk:
            c.agent, c.answered_at = agent, enqueued + dt.timedelta(seconds=wait)
            c.ended_at = c.answered_at + dt.timedelta(seconds=talk)
            QueueLog.objects.create(
                call=c, queue=queue, event=QueueEvent.OFFER, agent=agent, at=c.answered_at
            )
            QueueLog.objects.create(
                call=c,
                queue=queue,
                event=QueueEvent.CONNECT,
                agent=agent,
                wait_ms=wait * 1000,
                at=c.answered_at,
            )
        else:
            c.ended_at = started + dt.timedelta(seconds=30)
        c.save()
        return c

    return queue, agent, call


def test_volume_per_queue_per_agent_by_hand(world):
    queue, agent, call = world
    c1 = call("c1", at(9, 10), wait=15, talk=120)
    call("c2", at(9, 40), wait=25, talk=60)
    call("c5", at(9, 20), wait=20, talk=30)  # exactly 20 s: within the service level, band 20–40
    call("c3", at(10, 5), wait=45, abandoned=True)
    call("c4", at(10, 20), queued=False)  # self-service only
    call("late", at(23, 59) + dt.timedelta(minutes=2), wait=5, talk=10)  # the next day: not counted
    CallLeg.objects.create(
        call=c1, leg_id="x1", role=LegRole.EXTERNAL, direction="out", remote="sip:x", started_at=at(9, 12)
    )
    QueueLog.objects.create(call=c1, queue=queue, event=QueueEvent.NO_ANSWER, agent=agent, at=at(9, 10, 5))
    for from_state, ms, reason in (
        (AgentState.WRAP_UP, 30_000, ""),
        (AgentState.WRAP_UP, 20_000, ""),
        (AgentState.READY, 0, "meal"),  # → not ready (meal)
        (AgentState.NOT_READY, 300_000, ""),  # back from the meal after 5 minutes
    ):
        to_state = AgentState.NOT_READY if reason else AgentState.READY
        AgentStateLog.objects.create(
            agent=agent, event=AgentEvent.READY, from_state=from_state, to_state=to_state, reason=reason,
            previous_ms=ms, at=at(12, 0),
        )  # fmt: skip
    AgentStateLog.objects.create(
        agent=agent, event=AgentEvent.LOGIN, from_state=AgentState.LOGGED_OUT, to_state=AgentState.NOT_READY,
        reason="login", at=at(8, 0),
    )  # fmt: skip

    hours = calls.volume(WINDOW, "hour")
    assert [(r["bucket"], r["inbound"], r["to_queue"], r["answered"], r["talk_seconds"], r["abandoned"],
             r["outbound"], r["service_level"], r["answer_rate"]) for r in hours] == [
        ("09:00–09:59", 3, 3, 3, 210, 0, 1, 66.7, 100.0),
        ("10:00–10:59", 2, 1, 0, 0, 1, 0, 0.0, 0.0),
    ]  # fmt: skip
    total = calls.totals(hours, WINDOW)
    assert (total["inbound"], total["to_queue"], total["service_level"], total["answer_rate"]) == (
        5,
        4,
        50.0,
        75.0,
    )
    # the report and the measures are one definition
    scope = Scope(start=WINDOW.start, end=WINDOW.end, now=WINDOW.end)
    assert m.service_level(20)(scope).value == total["service_level"]
    assert m.answer_rate(scope).value == total["answer_rate"]
    halves = calls.volume(WINDOW, "halfhour")
    assert [(r["bucket"], r["inbound"]) for r in halves] == [
        ("09:00–09:29", 2), ("09:30–09:59", 1), ("10:00–10:29", 2)
    ]  # fmt: skip
    assert [(r["bucket"], r["inbound"]) for r in calls.volume(WINDOW, "day")] == [("2026-11-24", 5)]
    assert [(r["bucket"], r["inbound"]) for r in calls.volume(WINDOW, "month")] == [("2026-11", 5)]

    (q,) = calls.per_queue(WINDOW)
    assert (q["entered"], q["answered"], q["abandoned"], q["average_wait"], q["service_level"]) == (
        4,
        3,
        1,
        20.0,
        50.0,
    )
    assert (q["answered_lt20"], q["answered_20_40"], q["answered_40_60"], q["answered_gt60"]) == (1, 2, 0, 0)
    assert (q["abandoned_lt20"], q["abandoned_40_60"]) == (0, 1)

    (a,) = calls.per_agent(WINDOW)
    assert (a["offered"], a["answered"], a["no_answer"], a["answer_rate"]) == (3, 3, 1, 100.0)
    assert (a["talk_seconds"], a["average_talk"], a["wrap_up_seconds"], a["not_ready_seconds"], a["logins"]) == (
        210, 70.0, 50, 300, 1,
    )  # fmt: skip
    # the agent's 20 s service level: c1 (15 s) and c5 (exactly 20 s) of the 3 calls offered to it
    assert a["service_level"] == 66.7
    # occupancy: busy 50 s of wrap-up over 50 s busy + 0 s ready; then 210 s talking and 90 s ready left
    assert a["occupancy"] == 100.0
    for from_state, ms in ((AgentState.TALKING, 210_000), (AgentState.READY, 90_000)):
        AgentStateLog.objects.create(
            agent=agent, event=AgentEvent.HANGUP, from_state=from_state, to_state=AgentState.WRAP_UP,
            previous_ms=ms, at=at(13, 0),
        )  # fmt: skip
    (a,) = calls.per_agent(WINDOW)
    assert a["occupancy"] == round(100 * 260 / 350, 1)  # (210 + 50) ÷ (210 + 50 + 90); not-ready excluded
    assert a["detail_filter"] == {"agent": "1001"}
    (s,) = calls.agent_states(WINDOW)
    assert (s["wrap_up_seconds"], s["not_ready_seconds"]) == (50, 300)
    assert {b["reason"]: (b["count"], b["seconds"]) for b in s["breaks"]} == {
        "用餐": (1, 300),
        "刚签入": (1, 0),
    }


def test_no_calls_and_all_abandoned(world):
    queue, agent, call = world
    assert calls.volume(WINDOW, "day") == []
    assert calls.totals([], WINDOW)["service_level"] is None  # nothing offered: "—", not 0 or 100
    assert calls.per_queue(WINDOW) == [] and calls.per_agent(WINDOW) == []
    call("a1", at(9, 0), wait=70, abandoned=True)
    call("a2", at(9, 5), wait=10, abandoned=True)
    (row,) = calls.volume(WINDOW, "day")
    assert (row["to_queue"], row["answered"], row["abandoned"], row["talk_seconds"]) == (2, 0, 2, 0)
    assert (row["service_level"], row["answer_rate"]) == (0.0, 0.0)
    (q,) = calls.per_queue(WINDOW)
    assert q["average_wait"] is None and (q["abandoned_lt20"], q["abandoned_gt60"]) == (1, 1)


def test_page_export_detail_links_and_who_may_read(city, people, world):
    queue, agent, call = world
    c1 = call("c1", at(9, 10), wait=15, talk=120)
    case = submitted_case(city, people)
    CallCase.objects.create(call=c1, case=case, linked_at=at(9, 12))
    office = client_for(people.dispatcher)
    query = {"from": "2026-11-24", "to": "2026-11-24"}
    page = office.get("/analytics/calls/", {**query, "report": "detail"})
    assert page.status_code == 200
    assert f'href="/cases/{case.pk}/"' in page.content.decode() and case.number in page.content.decode()
    for report in ("volume", "queues", "agents", "states"):
        assert office.get("/analytics/calls/", {**query, "report": report}).status_code == 200
    # the agent report: service level and occupancy with their formulas, each row clicks through to its calls
    agents = office.get("/analytics/calls/", {**query, "report": "agents"}).content.decode()
    assert "占用率" in agents and "坐席20秒服务水平" in agents
    assert 'href="?report=detail&amp;from=2026-11-24&amp;to=2026-11-24&amp;agent=1001"' in agents
    detail = office.get("/analytics/calls/", {**query, "report": "detail", "agent": "1001"}).content.decode()
    assert "c1" in detail
    export = office.get("/analytics/calls/", {**query, "report": "volume", "grain": "hour", "export": "xlsx"})
    assert export.status_code == 200
    sheet = load_workbook(BytesIO(export.content)).active
    values = [[c for c in row] for row in sheet.iter_rows(values_only=True)]
    assert values[1][1] == "2026-11-24 — 2026-11-24"
    assert ["09:00–09:59", 1, 1, 1, 120, 0, 0, "100.0%", "100.0%"] in [list(v[:9]) for v in values]
    assert AuditLog.objects.filter(object_type="analytics.calls-volume").exists()
    assert office.get("/analytics/calls/", {"grain": "minute"}).status_code == 400
    assert office.get("/analytics/calls/", {"report": "nope"}).status_code == 400
    assert office.get("/analytics/calls/", {"from": "2026-13-01"}).status_code == 400
    assert client_for(people.east_leader).get("/analytics/calls/").status_code == 403  # calls have no unit
    assert client_for(people.agent).get("/analytics/calls/").status_code == 403


def test_fixture_generator_fills_what_the_reports_read(city, people):
    call_command("fake_calls", "--days", "2", "--per-day", "40")
    assert Call.objects.count() == 80
    now_window = calls.Window(DAY - dt.timedelta(days=3650), DAY + dt.timedelta(days=3650))
    total = calls.totals(calls.volume(now_window, "day"), now_window)
    assert total["inbound"] == 80 and total["answered"] + total["abandoned"] == 80
    assert sum(q["entered"] for q in calls.per_queue(now_window)) == 80
    with pytest.raises(Exception, match="--append"):
        call_command("fake_calls", "--days", "1")


def test_login_details_pair_each_sign_in_with_its_sign_out(city, people, world):
    """Seed 3.8.1 登录明细: two sessions of one agent, the second ended by a supervisor; a third still open."""
    from hotline.common import clock

    _queue, agent, _call = world
    with clock.frozen_now(at(8, 0)):
        tel.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
    with clock.frozen_now(at(8, 30)):
        tel.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGOUT)
    with clock.frozen_now(at(9, 0)):
        tel.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
    with clock.frozen_now(at(11, 0)):
        tel.agent_force_state(agent_id="1001", target="logout", actor=people.monitor)
    with clock.frozen_now(at(13, 0)):
        tel.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
    rows = calls.login_sessions(WINDOW)
    assert [(r["login_at"].hour, r["logout_at"] and r["logout_at"].hour, r["ended_by"]) for r in rows] == [
        (13, None, ""),
        (9, 11, "班长强制签出"),
        (8, 8, "签出"),
    ]
    assert [r["seconds"] for r in rows[1:]] == [7200, 1800]
    page = client_for(people.dispatcher).get(
        "/analytics/calls/", {"from": "2026-11-24", "to": "2026-11-24", "report": "logins"}
    )
    assert page.status_code == 200 and "仍在线" in page.content.decode()
    assert calls.login_sessions(calls.Window(DAY + dt.timedelta(days=1), DAY + dt.timedelta(days=2))) == []


def test_call_detail_pages_with_the_true_count_and_exports_every_call(city, people, world):
    _queue, _agent, call = world
    for i in range(53):
        call(f"p{i:02d}", at(10, i), wait=5, talk=30)
    office = client_for(people.dispatcher)
    query = {"from": "2026-11-24", "to": "2026-11-24", "report": "detail"}
    first = office.get("/analytics/calls/", query).content.decode()
    assert "共 53 件" in first and "p52" in first and "p02" not in first  # newest first, 50 a page
    second = office.get("/analytics/calls/", {**query, "page": "2"}).content.decode()
    assert "p02" in second and "p00" in second and "p52" not in second
    export = office.get("/analytics/calls/", {**query, "export": "xlsx"})
    ids = {row[0] for row in load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True)}
    assert {f"p{i:02d}" for i in range(53)} <= ids


def test_volume_and_skill_group_rows_click_through_to_their_calls(city, people, world):
    """Each volume bucket (days of a month / week / day cut to the period; an hour or half-hour of the day) and
    each skill group row links to the call detail of exactly the calls it counts; the total row to the
    period's calls. Only whole-centre readers see them; a bad time of day is a 400."""
    queue, agent, call = world
    call("c1", at(9, 10), wait=15, talk=120)
    call("c2", at(9, 40), wait=25, talk=60)
    call("c3", at(10, 5), wait=45, abandoned=True)
    call("c4", at(10, 20), queued=False)  # self-service only: in the volume, in no skill group
    call("n1", at(9, 15) + dt.timedelta(days=1), wait=5, talk=10)  # 25 November
    other = Queue.objects.create(code="tax", name="税务")
    o1 = Call.objects.create(
        call_id="o1", caller="13900000000", dialed="12345", queue=other, status=CallStatus.ENDED,
        started_at=at(11, 0), enqueued_at=at(11, 0, 5), disposition=Disposition.ABANDONED,
        ended_at=at(11, 1),
    )  # fmt: skip
    QueueLog.objects.create(call=o1, queue=other, event=QueueEvent.ENQUEUE, at=at(11, 0, 5))
    two_days = calls.Window(DAY, DAY + dt.timedelta(days=2))

    def ids(filters, window=two_days):
        return sorted(calls.detail_source(window, filters).values_list("call_id", flat=True))

    hours = calls.volume(two_days, "hour")
    assert [(r["bucket"], r["inbound"], r["detail_filter"]) for r in hours] == [
        ("09:00–09:59", 3, {"hour": "09"}),
        ("10:00–10:59", 2, {"hour": "10"}),
        ("11:00–11:59", 1, {"hour": "11"}),
    ]
    assert ids({"hour": "09"}) == ["c1", "c2", "n1"]  # the same hour on both days, as the bucket counts
    halves = calls.volume(two_days, "halfhour")
    assert {r["bucket"]: (r["inbound"], r["detail_filter"]["hour"]) for r in halves}["09:30–09:59"] == (
        1,
        "09:30",
    )
    assert ids({"hour": "09:30"}) == ["c2"] and ids({"hour": "09:00"}) == ["c1", "n1"]
    for row in halves:
        assert len(ids(row["detail_filter"])) == row["inbound"]
    days = calls.volume(two_days, "day")
    assert [r["detail_filter"] for r in days] == [
        {"from": "2026-11-24", "to": "2026-11-24"},
        {"from": "2026-11-25", "to": "2026-11-25"},
    ]
    (month,) = calls.volume(two_days, "month")
    (week,) = calls.volume(two_days, "week")  # Monday 23 November's week, cut to the period
    assert month["detail_filter"] == week["detail_filter"] == {"from": "2026-11-24", "to": "2026-11-25"}
    assert calls.totals(days, two_days)["detail_filter"] == {}
    queues = {r["code"]: r for r in calls.per_queue(two_days)}
    assert queues["general"]["detail_filter"] == {"queue": "general"}
    assert ids({"queue": "general"}) == ["c1", "c2", "c3", "n1"]
    assert len(ids({"queue": "general"})) == queues["general"]["entered"]
    assert ids({"queue": "tax"}) == ["o1"]

    office = client_for(people.dispatcher)
    query = {"from": "2026-11-24", "to": "2026-11-25"}
    page = office.get("/analytics/calls/", {**query, "report": "volume", "grain": "day"}).content.decode()
    assert 'href="?report=detail&amp;from=2026-11-25&amp;to=2026-11-25"' in page
    assert 'href="?report=detail&amp;from=2026-11-24&amp;to=2026-11-25"' in page  # the total row
    page = office.get(
        "/analytics/calls/", {**query, "report": "volume", "grain": "halfhour"}
    ).content.decode()
    assert 'href="?report=detail&amp;from=2026-11-24&amp;to=2026-11-25&amp;hour=09%3A30"' in page
    page = office.get("/analytics/calls/", {**query, "report": "queues"}).content.decode()
    assert 'href="?report=detail&amp;from=2026-11-24&amp;to=2026-11-25&amp;queue=tax"' in page
    detail = office.get("/analytics/calls/", {**query, "report": "detail", "queue": "tax"})
    assert detail.status_code == 200
    body = detail.content.decode()
    assert "o1" in body and "c1" not in body and "技能组" in body  # the filter is stated
    body = office.get("/analytics/calls/", {**query, "report": "detail", "hour": "09:30"}).content.decode()
    assert "c2" in body and ">c1<" not in body
    export = office.get("/analytics/calls/", {**query, "report": "detail", "queue": "tax", "export": "xlsx"})
    values = [list(r) for r in load_workbook(BytesIO(export.content)).active.iter_rows(values_only=True)]
    assert ["技能组", "tax"] in [v[:2] for v in values]
    assert [v[0] for v in values].count("o1") == 1 and "c1" not in [v[0] for v in values]
    for bad in ("24", "9", "09:15", "x"):
        assert office.get("/analytics/calls/", {**query, "report": "detail", "hour": bad}).status_code == 400
    for user in (people.east_leader, people.agent):
        response = client_for(user).get("/analytics/calls/", {**query, "report": "detail", "queue": "tax"})
        assert response.status_code == 403  # the call tables have no unit: the whole centre's readers only
