"""The workbench call bar and its event stream: the agent's own seat only, refusals as 4xx with the reason,
the ringing call's caller and the intake link with the call id, the call linked to the case registered."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from django.test import Client

from hotline.telephony import push, services
from hotline.telephony.models import Agent, CallCase, Number, Queue
from hotline.telephony.states import AgentEvent, AgentState

from ..conftest import submitted_case


@pytest.fixture(autouse=True)
def telephony_on(settings: Any) -> None:
    settings.HOTLINE_TELEPHONY = "on"


@pytest.fixture
def seat(people: Any) -> Agent:
    queue = Queue.objects.create(code="general", name="综合")
    Number.objects.create(number="12345", name="热线", queue=queue)
    return services.agent_create(
        agent_id="1001", password="secret1", extension="1001", skills=[queue], user=people.agent, actor=None
    )


def client_for(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ring(seat: Agent, caller: str = "13812345678") -> Any:
    services.agent_event(agent_pk=seat.pk, event=AgentEvent.LOGIN)
    services.agent_event(agent_pk=seat.pk, event=AgentEvent.READY)
    call = services.call_arrive(
        call_id="c0ffee01", leg_id="in-1", caller=caller, dialed="12345", node="node1"
    )
    call = services.call_enqueue(call=call, queue=Queue.objects.get(code="general"))
    services.call_offer(
        call=call, agent_pk=seat.pk, leg_id="out-1", remote="sip:1001@127.0.0.1", node="node1"
    )
    return call


def test_bar_says_off_without_telephony(settings: Any, people: Any, seat: Agent) -> None:
    settings.HOTLINE_TELEPHONY = "off"
    page = client_for(people.agent).get("/telephony/callbar/")
    assert page.status_code == 200 and b'data-testid="callbar-off"' in page.content
    home = client_for(people.agent).get("/")
    assert b'id="callbar"' in home.content and b"telephony/callbar.js" in home.content


def test_login_ready_not_ready_from_the_bar(people: Any, seat: Agent) -> None:
    client = client_for(people.agent)
    bad = client.post("/telephony/callbar/login/", {"agent_id": "1001", "password": "nope"})
    assert bad.status_code == 400 and "工号或签入密码错误" in bad.content.decode()
    assert (
        client.post("/telephony/callbar/login/", {"agent_id": "1001", "password": "secret1"}).status_code
        == 200
    )
    assert client.post("/telephony/callbar/state/", {"event": "ready"}).status_code == 200
    no_reason = client.post("/telephony/callbar/state/", {"event": "not_ready", "reason": ""})
    assert no_reason.status_code == 400 and "请选择示忙原因" in no_reason.content.decode()
    page = client.post("/telephony/callbar/state/", {"event": "not_ready", "reason": "meal"})
    assert page.status_code == 200 and "用餐" in page.content.decode()
    assert Agent.objects.get(pk=seat.pk).state == AgentState.NOT_READY


def test_another_user_cannot_use_the_seat(people: Any, seat: Agent) -> None:
    other = client_for(people.dispatcher)
    refused = other.post("/telephony/callbar/login/", {"agent_id": "1001", "password": "secret1"})
    assert refused.status_code == 403
    assert other.post("/telephony/callbar/state/", {"event": "ready"}).status_code == 404
    assert other.get("/telephony/events/").status_code == 404
    assert Agent.objects.get(pk=seat.pk).state == AgentState.LOGGED_OUT


def test_ringing_call_shows_caller_and_intake_link_with_the_call_id(people: Any, seat: Agent) -> None:
    call = ring(seat)
    page = client_for(people.agent).get("/telephony/callbar/").content.decode()
    assert "13812345678" in page and "振铃" in page
    href = page.split('data-testid="callbar-intake"')[0].rsplit('href="', 1)[1].split('"')[0]
    url = urlparse(href.replace("&amp;", "&"))
    assert url.path == "/cases/new/" or url.path.endswith("/new/")
    assert parse_qs(url.query) == {"citizen_phone": ["13812345678"], "call_id": [call.call_id]}


@pytest.mark.django_db(transaction=True)
def test_event_stream_pushes_the_ringing_call_to_its_agent(people: Any, seat: Agent) -> None:
    response = client_for(people.agent).get("/telephony/events/")
    assert response.status_code == 200 and response["Content-Type"] == "text/event-stream"
    stream = iter(response.streaming_content)
    assert next(stream).startswith(b"retry:")
    call = ring(seat)  # committed: the pushes go out after commit
    messages: list[dict[str, Any]] = []
    while not any(m["type"] == "ringing" for m in messages):
        chunk = next(stream).decode()
        assert chunk.startswith("data: "), "pushed at once, no keep-alive wait"
        messages.append(json.loads(chunk[6:]))
    assert [(m["type"], m["state"]) for m in messages] == [
        ("agent_state", "not_ready"),
        ("agent_state", "ready"),
        ("agent_state", "ringing"),
        ("ringing", "ringing"),
    ]
    ringing = messages[-1]
    assert (ringing["caller"], ringing["call_id"], ringing["agent"]) == ("13812345678", call.call_id, "1001")
    response.close()


def test_case_registered_with_the_call_id_is_linked_to_the_call(city: Any, people: Any, seat: Agent) -> None:
    call = ring(seat)
    case = submitted_case(city, people, origin={"call_id": call.call_id})
    assert CallCase.objects.filter(call=call, case=case).exists()
    other = submitted_case(city, people, origin={"call_id": "no-such-call"})
    assert not CallCase.objects.filter(case=other).exists()


def test_push_broker_delivers_only_to_the_channel(seat: Agent) -> None:
    listener = push.broker().listen(push.agent_channel(seat.pk), timeout=0.01)
    push.publish_agent(seat.pk + 1, {"type": "x"})
    push.publish_agent(seat.pk, {"type": "mine"})
    assert json.loads(next(listener) or "{}") == {"type": "mine"}
    assert next(listener) is None


def test_callback_list_for_hotline_staff_only_and_worked_once(people: Any, seat: Agent) -> None:
    from hotline.telephony.models import MissedCall

    call = services.call_arrive(call_id="m1", leg_id="in-m", caller="13700001234", dialed="12345", node="n")
    services.call_enqueue(call=call, queue=Queue.objects.get(code="general"))
    services.call_end(call=call)
    missed = MissedCall.objects.get(call=call)
    agent = client_for(people.agent)
    page = agent.get("/telephony/missed/").content.decode()
    assert "13700001234" in page and "排队放弃" in page
    assert client_for(people.liyuan).get("/telephony/missed/").status_code == 403
    assert client_for(people.liyuan).post(f"/telephony/missed/{missed.pk}/done/").status_code == 404
    assert MissedCall.objects.get(pk=missed.pk).status == "open"
    services.agent_event(agent_pk=seat.pk, event=AgentEvent.LOGIN)
    assert 'data-testid="callbar-missed"' in agent.get("/telephony/callbar/").content.decode()
    assert agent.post(f"/telephony/missed/{missed.pk}/done/").status_code == 302
    assert MissedCall.objects.get(pk=missed.pk).status == "done"
    assert "13700001234" not in agent.get("/telephony/missed/").content.decode()
    assert agent.post(f"/telephony/missed/{missed.pk}/done/").status_code == 404  # no longer on the open list


def test_call_buttons_only_on_the_agents_own_call_in_a_state_that_allows_them(
    people: Any, seat: Agent
) -> None:
    agent = client_for(people.agent)
    call = ring(seat)
    ringing = agent.post("/telephony/callbar/call/", {"action": "hold"})
    assert ringing.status_code == 400 and "振铃" in ringing.content.decode()  # not answered yet
    services.call_connect(call=call, leg_id="out-1")
    assert 'data-testid="callbar-hold"' in agent.get("/telephony/callbar/").content.decode()
    assert agent.post("/telephony/callbar/call/", {"action": "dance"}).status_code == 400
    assert (
        client_for(people.dispatcher).post("/telephony/callbar/call/", {"action": "hangup"}).status_code
        == 404
    )
    with_commit = agent.post("/telephony/callbar/call/", {"action": "hold"})
    assert with_commit.status_code == 200
    assert (
        Agent.objects.get(pk=seat.pk).state == AgentState.TALKING
    )  # the controller moves it once media follows
