"""The citizens' send path (the portal's and the app's, by the session's token; kept lean: the view loads
nothing and on PostgreSQL a line is one statement): the first line of an unrouted waiting session still routes
it, the push goes out after commit, and every refusal (no such token, closed, full, throttled, blank, CSRF)
writes nothing and pushes nothing."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from hotline.common.push import broker
from hotline.intake import chat
from hotline.intake.models import ChatLine, ChatSession, ChatStatus, KeywordRoute
from hotline.telephony.models import Agent, Queue

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clean_throttles() -> None:
    cache.clear()


def _send(token: str, text: str, client: Client | None = None) -> Any:
    return (client or Client()).post(f"/portal/chat/{token}/send/", {"text": text})


def _citizen_lines(session: ChatSession) -> list[str]:
    return list(session.lines.filter(author="citizen").order_by("id").values_list("text", flat=True))


def test_lines_are_stored_and_pushed_after_commit_and_the_first_one_routes(
    city: Any, people: Any, channel_templates: None, django_capture_on_commit_callbacks: Any
) -> None:
    fund = Queue.objects.create(code="fund", name="公积金专席")
    KeywordRoute.objects.create(keyword="公积金", queue=fund)
    session, token = chat.chat_open(channel="web", account="portal")
    listener = broker().listen(chat.session_channel(session.pk), timeout=0.5)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        first = _send(token, "公积金怎么提取？")
        assert first.status_code == 201
    assert next(listener) is None  # nothing before commit
    for callback in callbacks:
        callback()
    pushed = [json.loads(m) for m in iter(lambda: next(listener), None)]
    body = json.loads(first.content)
    assert body in pushed and body["author"] == "citizen" and body["text"] == "公积金怎么提取？"
    session.refresh_from_db()
    assert session.queue == fund  # routed by the first line

    with django_capture_on_commit_callbacks(execute=True):
        second = _send(token, "另外，社保呢")
    assert second.status_code == 201
    assert json.loads(next(listener) or "{}") == json.loads(second.content)
    listener.close()
    line = ChatLine.objects.get(pk=json.loads(second.content)["id"])
    assert (line.session_id, line.author, line.agent_id) == (session.pk, "citizen", None)
    assert _citizen_lines(session) == ["公积金怎么提取？", "另外，社保呢"]
    session.refresh_from_db()
    assert session.queue == fund and session.status == ChatStatus.WAITING
    session.message.refresh_from_db()
    assert session.message.first_reply_at is None  # a citizen's line never stops the reply clock

    # Served by an agent of that skill group: the citizen's lines go on.
    Agent.objects.create(agent_id="8001", password="x", user=people.agent, extension="8001").skills.add(fund)
    chat.chat_accept(session=session, agent=people.agent)
    assert _send(token, "在吗").status_code == 201
    assert _citizen_lines(session)[-1] == "在吗"


def test_refusals_write_nothing_and_push_nothing(city: Any, people: Any, channel_templates: None) -> None:
    session, token = chat.chat_open(channel="web", account="portal")
    other, other_token = chat.chat_open(channel="web", account="portal")
    assert _send(token, "您好").status_code == 201
    before = ChatLine.objects.count()
    listener = broker().listen(chat.session_channel(session.pk), timeout=0.2)

    assert _send(token[:-1] + ("A" if token[-1] != "A" else "B"), "x").status_code == 404  # wrong token
    assert _send("x" * 65, "x").status_code == 404  # longer than any token
    assert Client().get(f"/portal/chat/{token}/send/").status_code == 405
    blank = _send(token, "   ")
    assert blank.status_code == 400 and "text" in json.loads(blank.content)["errors"]
    assert _send(token, "x" * (chat.MAX_LINE + 1)).status_code == 400
    csrf = Client(enforce_csrf_checks=True).post(f"/portal/chat/{token}/send/", {"text": "x"})
    assert csrf.status_code == 403
    assert ChatLine.objects.count() == before

    chat.chat_close(session=session)
    closed_lines = ChatLine.objects.count()
    closed = _send(token, "还在吗")
    assert closed.status_code == 400 and json.loads(closed.content)["code"] == "closed"
    assert ChatLine.objects.count() == closed_lines
    assert _send(other_token, "我的会话").status_code == 201  # another session is not affected
    assert _citizen_lines(other) == ["我的会话"]
    messages = [json.loads(m) for m in iter(lambda: next(listener), None)]
    listener.close()
    assert [m for m in messages if m.get("type") == "line" and m["author"] == "citizen"] == []


def test_a_full_session_refuses_more_lines(
    city: Any, people: Any, channel_templates: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    session, token = chat.chat_open(channel="web", account="portal")
    held = session.lines.count()  # the welcome
    monkeypatch.setattr(chat, "MAX_LINES", held + 2)
    assert _send(token, "一").status_code == 201
    assert _send(token, "二").status_code == 201
    full = _send(token, "三")
    assert full.status_code == 400 and json.loads(full.content)["code"] == "throttled"
    assert _citizen_lines(session) == ["一", "二"]


def test_the_address_throttle_counts_every_session_of_an_address(
    city: Any, people: Any, channel_templates: None, settings: Any
) -> None:
    settings.HOTLINE_CHAT_LINE_RATE = "2/hour"
    session, token = chat.chat_open(channel="web", account="portal")
    other, other_token = chat.chat_open(channel="web", account="portal")
    assert _send(token, "一").status_code == 201
    assert _send(other_token, "二").status_code == 201
    throttled = _send(token, "三")
    assert throttled.status_code == 429
    assert _send("no-such-token", "x").status_code == 429  # counted before any database work
    assert _citizen_lines(session) == ["一"] and _citizen_lines(other) == ["二"]
    other_address = Client(REMOTE_ADDR="10.0.0.9")
    assert _send(token, "四", other_address).status_code == 201


def test_on_postgresql_a_later_line_is_one_statement(city: Any, people: Any, channel_templates: None) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the one-statement path is PostgreSQL's")
    session, token = chat.chat_open(channel="web", account="portal")
    assert _send(token, "第一句").status_code == 201
    client = Client()
    with CaptureQueriesContext(connection) as queries:
        assert _send(token, "第二句", client).status_code == 201
    assert len(queries) == 1, [q["sql"][:80] for q in queries]
    assert _citizen_lines(session) == ["第一句", "第二句"]
