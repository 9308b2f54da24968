"""Live boards and the big screen (MON-1..3): snapshots from the measures, scoping (a district sees its subtree;
another unit is 404), the push (a change → one notice per board per second → each viewer's own snapshot)."""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
import time
from typing import Any

import pytest
from django.test import Client

from hotline.analytics import bigscreen, boards, live
from hotline.cases.models import Case, Channel
from hotline.common import clock, push
from hotline.telephony import services as tel
from hotline.telephony.models import Call, CallStatus, Number, Queue
from hotline.telephony.states import AgentEvent
from tests.conftest import dispatched_to, submitted_case


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --------------------------------------------------------------------------- coalescing


def test_a_burst_sends_one_notice_at_once_and_one_trailing_per_interval() -> None:
    sent: list[tuple[str, float]] = []
    done = threading.Event()

    def send(board: str, tick: int) -> None:
        sent.append((board, time.monotonic()))
        if len(sent) == 3:
            done.set()

    coalescer = live.Coalescer(send, interval=0.3)
    start = time.monotonic()
    for _ in range(50):
        coalescer.mark("cases")
    coalescer.mark("calls")  # another board is not held back by the first
    assert [b for b, _ in sent] == ["cases", "calls"]  # the first change of a quiet board goes at once
    assert done.wait(5), sent
    time.sleep(0.5)
    assert [b for b, _ in sent] == ["cases", "calls", "cases"]  # 49 more changes: one trailing notice
    assert sent[2][1] - start >= 0.29


def test_changes_mark_their_board_after_commit(city, people, monkeypatch, django_capture_on_commit_callbacks):
    marked: list[str] = []
    monkeypatch.setattr(live, "COALESCER", live.Coalescer(lambda b, t: marked.append(b), interval=0))
    with django_capture_on_commit_callbacks(execute=True):
        dispatched_to(city, people, city.liyuan)
    assert "cases" in marked and "calls" not in marked
    marked.clear()
    with django_capture_on_commit_callbacks(execute=True):
        queue = Queue.objects.create(code="general", name="综合")
        agent = tel.agent_create(
            agent_id="1001",
            password="secret1",
            extension="1001",
            skills=[queue],
            user=people.agent,
            actor=None,
        )
        tel.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
    assert marked and set(marked) == {"calls"}


# --------------------------------------------------------------------------- snapshots


NOW = dt.datetime(2026, 11, 25, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_call_board_agents_and_queues(city, people):
    queue = Queue.objects.create(code="general", name="综合")
    Number.objects.create(number="12345", name="热线", queue=queue)
    with clock.frozen_now(NOW - dt.timedelta(minutes=5)):
        agent = tel.agent_create(
            agent_id="1001",
            password="secret1",
            extension="1001",
            skills=[queue],
            user=people.agent,
            actor=None,
        )
        tel.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
        tel.agent_event(agent_pk=agent.pk, event=AgentEvent.READY)
    for i, waited in enumerate((30, 90)):
        Call.objects.create(
            call_id=f"c{i}",
            caller="13812345678",
            dialed="12345",
            queue=queue,
            status=CallStatus.QUEUED,
            started_at=NOW - dt.timedelta(seconds=waited + 5),
            enqueued_at=NOW - dt.timedelta(seconds=waited),
        )
    data = boards.call_board(NOW)
    (row,) = data["agents"]
    assert (row["agent_id"], row["state"], row["seconds"]) == ("1001", "ready", 300)
    (q,) = data["queues"]
    assert (q["waiting"], q["longest_wait"], q["agents"]["ready"], q["agents"]["talking"]) == (2, 90, 1, 0)
    assert q["average_wait"] is None and q["average_talk"] is None  # nothing answered today: not 0


def test_big_screen_snapshot(city, people):
    with clock.frozen_now(NOW - dt.timedelta(hours=2)):
        dispatched_to(city, people, city.liyuan, keywords="噪音 烧烤")
        dispatched_to(city, people, city.west, keywords="噪音")
        submitted_case(city, people, channel="web")
    with clock.frozen_now(NOW - dt.timedelta(days=2)):
        submitted_case(city, people)
    data = bigscreen.snapshot(None, NOW)
    assert (data["intake_today"], data["intake_24h"], data["open"]) == (3, 3, 4)
    labels = dict(Channel.choices)
    assert {c["name"]: c["n"] for c in data["by_channel"]} == {labels["phone"]: 2, labels["web"]: 1}
    assert data["hot_topics"][0] == {"name": "噪音", "n": 2}
    assert {r["name"] for r in data["ranking"]} == {city.liyuan.name, city.west.name}
    assert sum(d["n"] for d in data["trend"]) == 4 and len(data["trend"]) == bigscreen.TREND_DAYS
    assert data["service_level_20"]["value"] is None  # no calls: "—", never 0 or 100
    east = bigscreen.snapshot(city.east, NOW)
    assert {r["name"] for r in east["ranking"]} == {city.liyuan.name}
    assert east["open"] == 1


# --------------------------------------------------------------------------- pages, scoping


def test_board_page_scoping(city, people):
    with clock.frozen_now(NOW):
        dispatched_to(city, people, city.liyuan)
        dispatched_to(city, people, city.west)
    office = client_for(people.dispatcher).get("/analytics/boards/")
    assert office.status_code == 200
    assert b'data-testid="call-board"' in office.content
    body = office.content.decode()
    assert city.liyuan.name in body and city.west.name in body
    east = client_for(people.east_leader).get("/analytics/boards/")
    text = east.content.decode()
    assert east.status_code == 200 and city.liyuan.name in text and city.west.name not in text
    assert b'data-testid="call-board"' not in east.content  # calls are the centre's figures
    assert client_for(people.east_leader).get(f"/analytics/boards/?unit={city.west.pk}").status_code == 404
    assert client_for(people.east_leader).get(f"/analytics/screen/?unit={city.west.pk}").status_code == 404
    assert client_for(people.east_leader).get("/analytics/boards/stream/calls/").status_code == 403
    assert (
        client_for(people.east_leader).get(f"/analytics/screen/stream/?unit={city.west.pk}").status_code
        == 404
    )
    assert (
        client_for(people.east_leader).get(f"/analytics/boards/stream/cases/?unit={city.west.pk}").status_code
        == 404
    )
    assert client_for(people.east_leader).get("/analytics/boards/?unit=abc").status_code == 400
    assert (
        client_for(people.dispatcher).get(f"/analytics/boards/stream/calls/?unit={city.east.pk}").status_code
        == 400
    )
    drill = client_for(people.east_leader).get(f"/analytics/boards/?unit={city.liyuan.pk}")
    assert drill.status_code == 200 and city.liyuan.name in drill.content.decode()
    assert client_for(people.agent).get("/analytics/boards/").status_code == 403
    screen = client_for(people.leader).get("/analytics/screen/")
    assert screen.status_code == 200 and b'id="screen-data"' in screen.content


BOARDS_REDIS = os.environ.get("HOTLINE_TEST_BOARDS_REDIS", "redis://127.0.0.1:6379/5")


def redis_up() -> bool:
    try:
        import redis

        return bool(redis.Redis.from_url(BOARDS_REDIS, socket_connect_timeout=0.5).ping())
    except Exception:
        return False


@pytest.fixture(params=["memory", "redis"])
def broker(request, monkeypatch):
    """The notice travels through the in-memory broker (one process) or Redis pub/sub (several processes)."""
    if request.param == "redis":
        if not redis_up() and not os.environ.get("CI"):
            pytest.skip("Redis is not running here")
        monkeypatch.setattr(push, "_broker", push.RedisBroker(BOARDS_REDIS))
    else:
        monkeypatch.setattr(push, "_broker", push.MemoryBroker())
    return request.param


@pytest.mark.django_db(transaction=True)
def test_stream_pushes_each_viewer_its_own_scope(city, people, broker):
    dispatched_to(city, people, city.liyuan)
    response = client_for(people.east_leader).get("/analytics/boards/stream/cases/")
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    stream = iter(response.streaming_content)
    assert next(stream).startswith(b"retry:")
    dispatched_to(city, people, city.west)  # another district: east's figures do not change
    dispatched_to(city, people, city.guanshan)
    live._publish_notice(live.CASES, 999)
    chunk = next(stream).decode()
    for _ in range(3):  # Redis acknowledges the subscription first: the stream sends a keep-alive for it
        if chunk.startswith("data: "):
            break
        chunk = next(stream).decode()
    assert chunk.startswith("data: ")
    data = json.loads(chunk[6:])
    assert data["open"] == 2 == Case.objects.filter(main_unit__path__startswith=city.east.path).count()
    assert {u["name"] for u in data["units"]} == {city.liyuan.name, city.guanshan.name}
    response.close()
