"""The supervisors' live board: queues and agents, pushed changes (the board channel), force busy / idle / logout
and force release (supervisors only, audited), intercept accepted as a monitor mode."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import pytest
from django.test import Client

from hotline.common.errors import NotAllowed, NotFound, ServiceError
from hotline.common.models import AuditLog
from hotline.telephony import push, services
from hotline.telephony.models import Agent, AgentStateLog, CallControl, Number, Queue
from hotline.telephony.states import AgentEvent, AgentState


@pytest.fixture(autouse=True)
def telephony_on(settings: Any) -> None:
    settings.HOTLINE_TELEPHONY = "on"


@pytest.fixture
def queue(db: Any) -> Queue:
    queue = Queue.objects.create(code="general", name="综合")
    Number.objects.create(number="12345", name="热线", queue=queue)
    return queue


def ready_seat(queue: Queue, agent_id: str = "1001") -> Agent:
    agent = services.agent_create(
        agent_id=agent_id, password="secret1", extension=agent_id, skills=[queue], actor=None
    )
    services.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
    return services.agent_event(agent_pk=agent.pk, event=AgentEvent.READY)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def board_listener() -> tuple[list[dict[str, Any]], threading.Event]:
    got: list[dict[str, Any]] = []
    stop = threading.Event()
    listener = push.broker().listen(push.BOARD_CHANNEL, timeout=0.05)

    def run() -> None:
        for message in listener:
            if stop.is_set():
                return
            if message:
                got.append(json.loads(message))

    threading.Thread(target=run, daemon=True).start()
    return got, stop


def wait_for(check: Any, secs: float = 5.0) -> None:
    deadline = time.monotonic() + secs
    while not check():
        assert time.monotonic() < deadline
        time.sleep(0.02)


def test_force_busy_idle_logout_by_a_supervisor_only_and_audited(people: Any, queue: Queue) -> None:
    seat = ready_seat(queue)
    with pytest.raises(NotAllowed):
        services.agent_force_state(agent_id="1001", target="not_ready", actor=people.agent)
    with pytest.raises(ServiceError) as bad:
        services.agent_force_state(agent_id="1001", target="dance", actor=people.monitor)
    assert "target" in bad.value.field_errors
    with pytest.raises(NotFound):
        services.agent_force_state(agent_id="9999", target="ready", actor=people.monitor)

    services.agent_force_state(agent_id="1001", target="not_ready", actor=people.monitor)
    seat.refresh_from_db()
    assert (seat.state, seat.state_reason) == (AgentState.NOT_READY, "supervisor")
    services.agent_force_state(agent_id="1001", target="ready", actor=people.monitor)
    assert Agent.objects.get(pk=seat.pk).state == AgentState.READY

    # On a call: refused (the call is force-released first); in wrap-up: logout goes through not-ready.
    call = services.call_arrive(
        call_id="c-force", leg_id="in-f", caller="13800000001", dialed="12345", node="n"
    )
    services.call_enqueue(call=call, queue=queue)
    services.call_offer(call=call, agent_pk=seat.pk, leg_id="out-f", remote="sip:1001@x", node="n")
    services.call_connect(call=call, leg_id="out-f")
    with pytest.raises(ServiceError):
        services.agent_force_state(agent_id="1001", target="logout", actor=people.monitor)
    services.call_end(call=call)
    assert Agent.objects.get(pk=seat.pk).state == AgentState.WRAP_UP
    services.agent_force_state(agent_id="1001", target="logout", actor=people.monitor)
    assert Agent.objects.get(pk=seat.pk).state == AgentState.LOGGED_OUT
    moves = list(AgentStateLog.objects.filter(agent=seat).order_by("at", "id").values_list("event", "reason"))
    assert moves[-2:] == [("not_ready", "supervisor"), ("logout", "supervisor")]  # told apart from own logout
    summaries = list(
        AuditLog.objects.filter(actor=people.monitor).order_by("at", "id").values_list("summary", flat=True)
    )
    assert summaries == ["force_not_ready agent 1001", "force_ready agent 1001", "force_logout agent 1001"]


def test_force_release_is_sent_to_the_controller_and_audited(
    people: Any, queue: Queue, django_capture_on_commit_callbacks: Any
) -> None:
    call = services.call_arrive(
        call_id="c-rel", leg_id="in-r", caller="13800000002", dialed="12345", node="n"
    )
    services.call_enqueue(call=call, queue=queue)
    with pytest.raises(NotAllowed):
        services.call_force_release(call_id="c-rel", actor=people.agent)
    with pytest.raises(NotFound):
        services.call_force_release(call_id="nope", actor=people.monitor)
    sent: list[str] = []
    listener = push.broker().listen(push.CONTROL_CHANNEL, timeout=0)
    with django_capture_on_commit_callbacks(execute=True):
        services.call_force_release(call_id="c-rel", actor=people.monitor)
    while (message := next(listener)) is not None:
        sent.append(message)
    listener.close()
    assert [json.loads(m)["action"] for m in sent] == ["force_release"]
    assert list(CallControl.objects.filter(call=call).values_list("kind", "actor_id")) == [
        ("force_release", people.monitor.pk)
    ]
    assert AuditLog.objects.filter(actor=people.monitor, summary__startswith="force_release c-rel").exists()
    with pytest.raises(ServiceError):
        services.call_monitor(call_id="c-rel", mode="hover", actor=people.monitor)


def test_the_board_channel_hears_agent_and_call_changes(
    people: Any, queue: Queue, django_capture_on_commit_callbacks: Any
) -> None:
    got, stop = board_listener()
    try:
        with django_capture_on_commit_callbacks(execute=True):
            seat = ready_seat(queue)
        with django_capture_on_commit_callbacks(execute=True):
            call = services.call_arrive(
                call_id="c-board", leg_id="in-b", caller="13800000003", dialed="12345", node="n"
            )
        with django_capture_on_commit_callbacks(execute=True):
            services.call_enqueue(call=call, queue=queue)
        wait_for(lambda: len(got) >= 4)
    finally:
        stop.set()
    assert [(m["type"], m.get("state") or m.get("status")) for m in got[:4]] == [
        ("agent_state", "not_ready"),
        ("agent_state", "ready"),
        ("call", "ivr"),
        ("call", "queued"),
    ]
    assert got[0]["agent"] == seat.agent_id


def test_board_page_and_stream_for_supervisors_only(people: Any, queue: Queue) -> None:
    ready_seat(queue)
    call = services.call_arrive(
        call_id="c-page", leg_id="in-p", caller="13800000004", dialed="12345", node="n"
    )
    services.call_enqueue(call=call, queue=queue)
    sup = client_for(people.monitor)
    board = sup.get("/telephony/monitor/board/")
    assert board.status_code == 200
    html = board.content.decode()
    assert 'data-testid="monitor-queue-general"' in html
    assert '<td data-testid="queue-waiting">1</td>' in html
    assert '<td data-testid="queue-ready">1</td>' in html
    assert "13800000004" not in html  # masked
    page = sup.get("/telephony/monitor/")
    assert page.status_code == 200 and b"monitor.js" in page.content
    stream = sup.get("/telephony/monitor/events/")
    assert stream.status_code == 200 and stream["Content-Type"] == "text/event-stream"
    # Not closed here: closing an unread streaming response sends request_finished, whose connection cleanup
    # would close the test's own (transaction-wrapped) PostgreSQL connection.
    agent = client_for(people.agent)
    for url in ("/telephony/monitor/", "/telephony/monitor/board/", "/telephony/monitor/events/"):
        assert agent.get(url).status_code == 403
    # Bad input: 4xx with the reason, never 500.
    refused = sup.post("/telephony/monitor/", {"agent_id": "1001", "force": "dance"})
    assert refused.status_code == 400
    missing = sup.post("/telephony/monitor/", {"call_id": "nope", "release": "1"})
    assert missing.status_code == 404
    done = sup.post("/telephony/monitor/", {"agent_id": "1001", "force": "not_ready"})
    assert done.status_code == 302
    assert Agent.objects.get(agent_id="1001").state == AgentState.NOT_READY
