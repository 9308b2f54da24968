"""The agents' send path (the busiest request of a chat desk, kept lean: on PostgreSQL one statement): only the
serving agent of an active session writes, with CSRF; the first line alone stops the reply clock; every refusal
writes nothing and pushes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from hotline.common.push import broker
from hotline.intake import chat
from hotline.intake.models import ChatLine, ChatSession, ChatStatus
from hotline.orgs.models import User, UserRole

pytestmark = pytest.mark.django_db


def _client(user: User, **kwargs: Any) -> Client:
    client = Client(**kwargs)
    client.force_login(user)
    return client


def _served(people: Any) -> ChatSession:
    session, _token = chat.chat_open(channel="web", account="portal")
    return chat.chat_accept(session=session, agent=people.agent)


def _send(client: Client, session: ChatSession, text: str, **extra: Any) -> Any:
    return client.post(f"/intake/chat/{session.pk}/send/", {"text": text}, **extra)


def test_first_line_stops_the_clock_later_lines_do_not_and_each_is_pushed_after_commit(
    city: Any, people: Any, channel_templates: None, django_capture_on_commit_callbacks: Any
) -> None:
    session = _served(people)
    agent = _client(people.agent)
    listener = broker().listen(chat.session_channel(session.pk), timeout=0.5)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = _send(agent, session, "您好，请讲。")
        assert first.status_code == 201
    assert next(listener) is None  # nothing before commit
    for callback in callbacks:
        callback()
    pushed = json.loads(next(listener) or "{}")
    body = json.loads(first.content)
    assert pushed == body and body["author"] == "agent" and body["text"] == "您好，请讲。"
    line = ChatLine.objects.get(pk=body["id"])
    assert (line.session_id, line.agent_id, line.text) == (session.pk, people.agent.pk, "您好，请讲。")
    message = session.message
    message.refresh_from_db()
    assert message.first_reply_at == line.at and message.reply == "您好，请讲。"

    with django_capture_on_commit_callbacks(execute=True):
        assert _send(agent, session, "还在吗？").status_code == 201
    assert json.loads(next(listener) or "{}")["text"] == "还在吗？"
    listener.close()
    message.refresh_from_db()
    assert message.first_reply_at == line.at and message.reply == "您好，请讲。"  # the first line's


def test_refusals_write_nothing(city: Any, people: Any, channel_templates: None) -> None:
    session = _served(people)
    waiting, _token = chat.chat_open(channel="web", account="portal")
    before = ChatLine.objects.count()
    other = User.objects.create_user("agent2", password="x", unit=city.office)
    UserRole.objects.create(user=other, role="agent")
    assert _send(_client(other), session, "x").status_code == 404  # another agent's session
    assert _send(_client(people.agent), waiting, "x").status_code == 404  # waiting: nobody serves it yet
    assert _send(_client(people.east), session, "x").status_code == 404  # a unit user
    assert _send(_client(people.monitor), session, "x").status_code == 404  # a monitor reads, never writes
    assert _client(people.agent).post("/intake/chat/999999/send/", {"text": "x"}).status_code == 404
    anonymous = Client().post(f"/intake/chat/{session.pk}/send/", {"text": "x"})
    assert anonymous.status_code == 302 and "/login" in anonymous["Location"]
    assert _send(_client(people.agent, enforce_csrf_checks=True), session, "x").status_code == 403
    blank = _send(_client(people.agent), session, "   ")
    assert blank.status_code == 400 and "text" in json.loads(blank.content)["errors"]
    assert _send(_client(people.agent), session, "x" * (chat.MAX_LINE + 1)).status_code == 400
    assert ChatLine.objects.count() == before
    session.message.refresh_from_db()
    assert session.message.first_reply_at is None

    chat.chat_close(session=session, agent=people.agent)
    closed = _send(_client(people.agent), session, "x")
    assert closed.status_code == 400 and json.loads(closed.content)["code"] == "closed"
    assert not ChatLine.objects.filter(session=session, author="agent").exists()
    # The agent who lost the role is refused even in their own session.
    again = _served(people)
    UserRole.objects.filter(user=people.agent).delete()
    assert _send(_client(people.agent), again, "x").status_code == 404
    assert ChatSession.objects.get(pk=again.pk).status == ChatStatus.ACTIVE
