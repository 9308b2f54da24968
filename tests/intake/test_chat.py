"""Online chat (在线客服) through Django's test client: the citizen opens a session from the portal and holds its
token; an agent sees the queue, accepts, replies (the first reply stops the 3-minute clock); lines are pushed on
the session's channel; another agent, a unit user and a wrong token get 404; the transcript lands on the case the
agent makes from the chat (or an existing one) when the chat ends; the app opens a chat with its citizen token."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from hotline.cases.lifecycle import Action
from hotline.cases.models import Case, CaseStatus, Channel
from hotline.common.push import broker
from hotline.intake import chat
from hotline.intake.models import ChannelKind, ChannelMessage, ChatSession, ChatStatus
from hotline.orgs.models import User, UserRole
from tests.conftest import submitted_case

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_throttles() -> None:
    cache.clear()


def _open(client: Client) -> str:
    response = client.post("/portal/chat/")
    assert response.status_code == 302
    token = re.fullmatch(r"/portal/chat/([\w-]+)/", response["Location"]).group(1)  # type: ignore[union-attr]
    return token


def _agent(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _lines(client: Client, url: str) -> list[dict[str, Any]]:
    return json.loads(client.get(url).content)["lines"]


def test_citizen_and_agent_talk_and_the_first_reply_stops_the_clock(
    city: Any, people: Any, channel_templates: None, django_capture_on_commit_callbacks: Any
) -> None:
    citizen = Client()
    token = _open(citizen)
    page = citizen.get(f"/portal/chat/{token}/")
    assert page.status_code == 200 and "正在排队" in page.content.decode()
    session = ChatSession.objects.get()
    message = session.message
    assert message.channel == ChannelKind.CHAT and message.acknowledged_at is not None
    assert (message.reply_due_at - message.received_at).total_seconds() == 180
    assert _lines(citizen, f"/portal/chat/{token}/lines/")[0]["author"] == "system"  # the greeting (template)

    assert citizen.post(f"/portal/chat/{token}/send/", {"text": "小区路灯坏了怎么报修？"}).status_code == 201
    assert citizen.post(f"/portal/chat/{token}/send/", {"text": "   "}).status_code == 400

    agent = _agent(people.agent)
    queue = agent.get("/intake/chat/").content.decode()
    assert f'action="/intake/chat/{session.pk}/accept/"' in queue
    # What the session pushes reaches a listener of its channel once the transaction commits.
    listener = broker().listen(chat.session_channel(session.pk), timeout=0.5)
    with django_capture_on_commit_callbacks(execute=True):
        assert agent.post(f"/intake/chat/{session.pk}/accept/").status_code == 302
    with django_capture_on_commit_callbacks(execute=True):
        assert (
            agent.post(f"/intake/chat/{session.pk}/send/", {"text": "您好，请告诉我具体位置。"}).status_code
            == 201
        )
    pushed = [json.loads(m) for m in (next(listener), next(listener), next(listener)) if m]
    listener.close()
    assert [p.get("author", p.get("status")) for p in pushed] == ["system", "active", "agent"]
    assert pushed[2]["text"] == "您好，请告诉我具体位置。"

    message.refresh_from_db()
    assert message.first_reply_at is not None and message.first_reply_at <= message.reply_due_at
    texts = [line["text"] for line in _lines(citizen, f"/portal/chat/{token}/lines/")]
    assert "小区路灯坏了怎么报修？" in texts and "您好，请告诉我具体位置。" in texts
    assert any(people.agent.username in t for t in texts)  # 客服{agent}号为您服务

    # A second agent cannot take it over or read it; the session is not theirs.
    other = User.objects.create_user("agent2", password="x", unit=city.office)
    UserRole.objects.create(user=other, role="agent")
    other_client = _agent(other)
    assert other_client.post(f"/intake/chat/{session.pk}/accept/").status_code == 404
    assert other_client.get(f"/intake/chat/{session.pk}/").status_code == 404
    assert other_client.post(f"/intake/chat/{session.pk}/send/", {"text": "x"}).status_code == 404
    assert other_client.get(f"/intake/chat/{session.pk}/events/").status_code == 404


def test_only_chat_roles_and_the_token_holder_get_in(city: Any, people: Any, channel_templates: None) -> None:
    citizen = Client()
    token = _open(citizen)
    session = ChatSession.objects.get()
    unit_user = _agent(people.east)
    assert unit_user.get("/intake/chat/").status_code == 404
    assert unit_user.post(f"/intake/chat/{session.pk}/accept/").status_code == 404
    assert unit_user.get(f"/intake/chat/{session.pk}/lines/").status_code == 404
    stranger = Client()
    for suffix in ("", "lines/", "events/"):
        assert stranger.get(f"/portal/chat/{token[:-2]}xx/{suffix}").status_code == 404
    assert stranger.post(f"/portal/chat/{token}x/send/", {"text": "hi"}).status_code == 404
    # A monitor sees the queue but does not serve it.
    monitor = _agent(people.monitor)
    assert "chat-accept" not in monitor.get("/intake/chat/").content.decode()
    assert monitor.post(f"/intake/chat/{session.pk}/accept/").status_code == 404
    session.refresh_from_db()
    assert session.status == ChatStatus.WAITING


def test_case_from_chat_gets_the_transcript_when_it_ends(
    city: Any, people: Any, channel_templates: None
) -> None:
    citizen = Client()
    token = _open(citizen)
    session = ChatSession.objects.get()
    agent = _agent(people.agent)
    agent.post(f"/intake/chat/{session.pk}/accept/")
    citizen.post(f"/portal/chat/{token}/send/", {"text": "梨园街道幸福社区3栋门口的路灯坏了一个多月。"})
    agent.post(f"/intake/chat/{session.pk}/send/", {"text": "已记录，为您登记工单。"})
    bad = agent.post(f"/intake/chat/{session.pk}/case/", {"case_type": "help", "content": ""})
    assert bad.status_code == 400 and "该字段是必填项" in bad.content.decode()
    made = agent.post(
        f"/intake/chat/{session.pk}/case/",
        {
            "case_type": "help",
            "title": "路灯坏了",
            "content": "幸福社区3栋门口路灯坏了一个多月，请维修。",
            "phone": "13600002222",
        },
    )
    assert made.status_code == 302
    session.refresh_from_db()
    case = Case.objects.get(pk=session.case_id)
    assert case.status == CaseStatus.DRAFT and case.channel == Channel.WEB
    assert case.origin["chat_session"] == session.pk and case.origin["channel_message"] == session.message_id
    assert not case.events.filter(action=Action.CITIZEN_MESSAGE).exists()  # still talking
    assert any(case.number in line["text"] for line in _lines(citizen, f"/portal/chat/{token}/lines/"))
    citizen.post(f"/portal/chat/{token}/send/", {"text": "谢谢！"})
    assert citizen.post(f"/portal/chat/{token}/close/").status_code == 302
    event = case.events.get(action=Action.CITIZEN_MESSAGE)
    assert "梨园街道幸福社区3栋门口的路灯坏了一个多月。" in event.opinion and "谢谢！" in event.opinion
    assert "已记录，为您登记工单。" in event.opinion and event.actor is None
    assert citizen.post(f"/portal/chat/{token}/send/", {"text": "还在吗"}).status_code == 400
    # Accepting the draft on the online queue does not move the chat's reply clock.
    first = ChannelMessage.objects.get(pk=session.message_id).first_reply_at
    assert first is not None


def test_transcript_attached_to_an_existing_case(city: Any, people: Any, channel_templates: None) -> None:
    earlier = submitted_case(city, people)
    citizen = Client()
    token = _open(citizen)
    session = ChatSession.objects.get()
    agent = _agent(people.agent)
    agent.post(f"/intake/chat/{session.pk}/accept/")
    citizen.post(f"/portal/chat/{token}/send/", {"text": "我之前反映的烧烤店油烟问题还没处理。"})
    assert agent.post(f"/intake/chat/{session.pk}/attach/", {"number": "NOPE"}).status_code == 400
    assert agent.post(f"/intake/chat/{session.pk}/close/").status_code == 302
    assert agent.post(f"/intake/chat/{session.pk}/attach/", {"number": earlier.number}).status_code == 302
    event = earlier.events.get(action=Action.CITIZEN_MESSAGE)
    assert "烧烤店油烟问题" in event.opinion


def test_app_opens_a_chat_with_the_citizen_token(city: Any, people: Any, channel_templates: None) -> None:
    account, key, _expires = _login("13600003333")
    client = Client()
    assert client.post("/api/v1/citizen/chat/").status_code == 401
    opened = client.post("/api/v1/citizen/chat/", HTTP_AUTHORIZATION=f"Citizen {key}")
    assert opened.status_code == 201
    body = opened.json()
    session = ChatSession.objects.get()
    assert session.channel == ChannelKind.APP and session.sender == account.phone
    assert client.post(body["send_url"], {"text": "你好"}).status_code == 201
    assert [line["text"] for line in client.get(body["lines_url"]).json()["lines"]][-1] == "你好"


def _login(phone: str) -> Any:
    from hotline.intake import services
    from hotline.intake.models import PhoneCode
    from hotline.notify.models import Outbox
    from hotline.notify.services import delivery_text

    services.phone_code_send(phone=phone)
    body = delivery_text(Outbox.objects.filter(template="channel_login_code", address=phone).latest("id"))
    code = re.search(r"验证码(\d{6})", body).group(1)  # type: ignore[union-attr]
    assert PhoneCode.objects.filter(phone=phone).exists()
    return services.citizen_login(phone=phone, code=code)
