"""SPV-1 messages and help requests: a supervisor's message is pushed to the agent's call bar and shown there
until read; an agent's help request is pushed to the supervisors' board and listed there until a supervisor takes
it; supervisors only where it matters, each step audited, another agent's note is 404."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from hotline.common.errors import NotAllowed, NotFound, ServiceError
from hotline.common.models import AuditLog
from hotline.telephony import push, services
from hotline.telephony.models import Agent, AgentNote, Number, Queue
from hotline.telephony.states import AgentEvent


@pytest.fixture(autouse=True)
def telephony_on(settings: Any) -> None:
    settings.HOTLINE_TELEPHONY = "on"


def seat(people: Any, agent_id: str = "1001", user: Any = None) -> Agent:
    queue = Queue.objects.get_or_create(code="general", defaults={"name": "综合"})[0]
    Number.objects.get_or_create(number="12345", defaults={"name": "热线", "queue": queue})
    agent = services.agent_create(
        agent_id=agent_id, password="secret1", extension=agent_id, skills=[queue], user=user, actor=None
    )
    services.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
    return services.agent_event(agent_pk=agent.pk, event=AgentEvent.READY)


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def drain(listener: Any) -> list[dict[str, Any]]:
    got = []
    while (message := next(listener)) is not None:
        got.append(json.loads(message))
    return got


def test_a_supervisor_message_reaches_the_agents_call_bar_until_read(
    people: Any, django_capture_on_commit_callbacks: Any
) -> None:
    agent = seat(people, user=people.agent)
    with pytest.raises(NotAllowed):
        services.supervisor_message(agent_id="1001", text="请注意语速", actor=people.agent)
    with pytest.raises(ServiceError) as empty:
        services.supervisor_message(agent_id="1001", text="  ", actor=people.monitor)
    assert "text" in empty.value.field_errors
    with pytest.raises(NotFound):
        services.supervisor_message(agent_id="9999", text="请注意语速", actor=people.monitor)

    listener = push.broker().listen(push.agent_channel(agent.pk), timeout=0)
    board = client_for(people.monitor)
    with django_capture_on_commit_callbacks(execute=True):
        response = board.post("/telephony/monitor/", {"message_to": "1001", "text": "请注意语速，耐心解释"})
    assert response.status_code == 302
    pushed = drain(listener)
    listener.close()
    assert [(m["type"], m["text"]) for m in pushed] == [("supervisor_message", "请注意语速，耐心解释")]
    bar = client_for(people.agent).get("/telephony/callbar/").content.decode()
    assert "请注意语速，耐心解释" in bar and 'data-testid="callbar-message"' in bar
    note = AgentNote.objects.get(kind="message")
    # Another agent cannot mark it read (404); its own agent can, and it leaves the bar.
    seat(people, "1002", user=people.dispatcher)
    assert (
        client_for(people.dispatcher).post("/telephony/callbar/note/", {"read": note.pk}).status_code == 404
    )
    read = client_for(people.agent).post("/telephony/callbar/note/", {"read": note.pk})
    assert read.status_code == 200 and "请注意语速" not in read.content.decode()
    note.refresh_from_db()
    assert note.handled_by == people.agent and note.handled_at is not None
    summaries = set(
        AuditLog.objects.filter(object_type="telephony.agentnote").values_list("summary", flat=True)
    )
    assert summaries == {"supervisor_message agent 1001", "message_handled agent 1001"}


def test_a_help_request_reaches_the_board_until_a_supervisor_takes_it(
    people: Any, django_capture_on_commit_callbacks: Any
) -> None:
    agent = seat(people, user=people.agent)
    call = services.call_arrive(
        call_id="c-help", leg_id="in-h", caller="13800000001", dialed="12345", node="n"
    )
    services.call_enqueue(call=call, queue=Queue.objects.get(code="general"))
    services.call_offer(call=call, agent_pk=agent.pk, leg_id="out-h", remote="sip:1001@x", node="n")
    services.call_connect(call=call, leg_id="out-h")

    board_listener = push.broker().listen(push.BOARD_CHANNEL, timeout=0)
    drain(board_listener)
    bar = client_for(people.agent)
    with django_capture_on_commit_callbacks(execute=True):
        asked = bar.post("/telephony/callbar/note/", {"text": "市民情绪激动"})
    assert asked.status_code == 200 and 'data-testid="callbar-help-pending"' in asked.content.decode()
    assert [m["type"] for m in drain(board_listener) if m["type"].startswith("help")] == ["help_request"]
    again = bar.post("/telephony/callbar/note/", {"text": "再次求助"})
    assert again.status_code == 400  # one open request at a time
    note = AgentNote.objects.get(kind="help")
    assert (note.call_id, note.text, note.author) == (call.pk, "市民情绪激动", people.agent)

    page = client_for(people.monitor).get("/telephony/monitor/board/").content.decode()
    assert 'data-testid="monitor-help-1001"' in page and "市民情绪激动" in page
    assert client_for(people.agent).get("/telephony/monitor/board/").status_code == 403
    with pytest.raises(NotAllowed):
        services.note_handled(note_pk=note.pk, actor=people.agent)

    agent_listener = push.broker().listen(push.agent_channel(agent.pk), timeout=0)
    with django_capture_on_commit_callbacks(execute=True):
        done = client_for(people.monitor).post("/telephony/monitor/", {"help_done": note.pk})
    assert done.status_code == 302
    assert [m["type"] for m in drain(board_listener) if m["type"].startswith("help")] == ["help_handled"]
    assert [m["type"] for m in drain(agent_listener)] == ["help_handled"]
    board_listener.close()
    agent_listener.close()
    page = client_for(people.monitor).get("/telephony/monitor/board/").content.decode()
    assert 'data-testid="monitor-help-1001"' not in page
    bar_page = client_for(people.agent).get("/telephony/callbar/").content.decode()
    assert 'data-testid="callbar-help-send"' in bar_page  # may ask again
    assert 'data-testid="callbar-help-handled"' in bar_page  # and sees that a supervisor took the last one
    summaries = list(
        AuditLog.objects.filter(object_type="telephony.agentnote")
        .order_by("at", "id")
        .values_list("summary", flat=True)
    )
    assert summaries == ["help_request agent 1001", "help_handled agent 1001"]
