"""WeChat → online chat: a follower's words open a session in the agents' queue (routed by keyword to a skill
group), their next texts are its lines (answered `success` at once), and the agent's lines go back through the
customer-service message API of a loopback stand-in speaking WeChat's JSON (token refresh, failures shown)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hotline.cases.models import Channel
from hotline.common.errors import NotFound
from hotline.intake import chat, services
from hotline.intake.models import ChannelKind, ChatAuthor, ChatSession, ChatStatus, KeywordRoute
from hotline.orgs.models import Role
from hotline.telephony.models import Agent, Queue
from tests.factories import user
from tests.intake.test_wechat_channel import APP_ID, OPENID, Follower
from tests.intake.test_wechat_channel import account as account  # noqa: F401 (fixture)
from tests.intake.wechat_standin import StandIn, wechat_api

SECRET = "d4624c36b6795d1d99dcf0547af5443d"


@pytest.fixture
def api(account: Any) -> Iterator[StandIn]:
    with wechat_api(APP_ID, SECRET) as standin:
        account.api_base_url = standin.url
        account.set_app_secret(SECRET)
        account.save()
        yield standin


def _session() -> ChatSession:
    return ChatSession.objects.get(channel=ChannelKind.WECHAT, sender=OPENID)


def _texts(session: ChatSession, author: str) -> list[str]:
    return list(session.lines.filter(author=author).order_by("id").values_list("text", flat=True))


def test_a_follower_chats_with_an_agent_both_ways(
    api, city, people, channel_templates, django_capture_on_commit_callbacks
):
    follower = Follower(safe=True)
    opened = follower.say("人工客服")
    assert "在线客服" in opened  # the welcome, as the passive reply
    session = _session()
    assert session.status == ChatStatus.WAITING and session.channel == ChannelKind.WECHAT
    assert api.sent == []  # the welcome is not sent twice

    response = follower.post({"MsgType": "text", "Content": "我家楼下的路灯不亮了"}, msg_id=990001)
    assert response.status_code == 200 and response.content == b"success"
    again = follower.post({"MsgType": "text", "Content": "我家楼下的路灯不亮了"}, msg_id=990001)  # retried
    assert again.content == b"success"
    assert _texts(session, ChatAuthor.CITIZEN) == ["我家楼下的路灯不亮了"]

    with django_capture_on_commit_callbacks(execute=True):
        chat.chat_accept(session=session, agent=people.agent)
    with django_capture_on_commit_callbacks(execute=True):
        chat.chat_say_agent(session=session, agent=people.agent, text="您好，请问在哪个小区？")
    assert [m["text"]["content"] for m in api.sent][-1] == "您好，请问在哪个小区？"
    assert all(m["touser"] == OPENID and m["msgtype"] == "text" for m in api.sent)
    session.message.refresh_from_db()
    assert session.message.first_reply_at is not None  # the 3-minute online clock stopped

    api.expire_next = True  # WeChat says the token expired: a fresh one, sent once
    with django_capture_on_commit_callbacks(execute=True):
        chat.chat_say_agent(session=session, agent=people.agent, text="已记录，将转交城管处理。")
    assert [m["text"]["content"] for m in api.sent].count("已记录，将转交城管处理。") == 1
    assert api.tokens_issued == 2

    api.down = True
    with django_capture_on_commit_callbacks(execute=True):
        chat.chat_say_agent(session=session, agent=people.agent, text="还在吗？")
    assert any("未能送达微信用户" in t for t in _texts(session, ChatAuthor.SYSTEM))
    api.down = False

    assert follower.post({"MsgType": "text", "Content": "结束会话"}).content == b"success"
    session.refresh_from_db()
    assert session.status == ChatStatus.CLOSED
    assert follower.say("人工客服")  # a new session afterwards
    assert ChatSession.objects.filter(sender=OPENID).count() == 2


def test_menu_click_opens_a_chat_and_other_followers_are_kept_apart(api, city, people, channel_templates):
    follower = Follower(safe=False)
    reply = follower.text_of(follower.post({"MsgType": "event", "Event": "CLICK", "EventKey": "CHAT"}))
    assert "在线客服" in reply
    other = Follower(safe=False, open_id="oOTHERfollower000000000000000")
    other.say("咨询")  # the request flow is untouched for someone not chatting
    assert ChatSession.objects.count() == 1
    assert chat.wechat_open_session(app_id=APP_ID, open_id="oOTHERfollower000000000000000") is None


def test_keyword_routes_a_chat_to_a_skill_group(api, city, people, channel_templates):
    fund = Queue.objects.create(code="fund", name="公积金专席")
    KeywordRoute.objects.create(keyword="公积金", queue=fund, anywhere=True)
    skilled = Agent.objects.create(agent_id="8001", password="x", user=people.agent, extension="8001")
    skilled.skills.add(fund)

    follower = Follower(safe=False)
    assert "在线客服" in follower.say("我想问公积金提取的事")  # no menu type chosen: routed to a chat
    session = _session()
    assert session.queue == fund and _texts(session, ChatAuthor.CITIZEN) == ["我想问公积金提取的事"]

    assert list(chat.waiting_sessions(user=people.agent)) == [session]
    assert list(chat.waiting_sessions(user=people.monitor)) == [session]  # a supervisor sees every queue
    other = user("agent2", city.office, Role.AGENT)
    Agent.objects.create(agent_id="8002", password="x", user=other, extension="8002")  # no fund skill
    assert list(chat.waiting_sessions(user=other)) == []
    with pytest.raises(NotFound):
        chat.agent_session(user=other, pk=session.pk)
    with pytest.raises(NotFound):
        chat.chat_accept(session=session, agent=other)
    chat.chat_accept(session=session, agent=people.agent)


def test_portal_chat_first_line_routes_and_case_types_ignore_queue_routes(city, people, channel_templates):
    fund = Queue.objects.create(code="fund", name="公积金专席")
    KeywordRoute.objects.create(keyword="公积金", queue=fund)
    session, _token = chat.chat_open(channel=ChannelKind.WEB, account="portal")
    assert session.queue is None
    chat.chat_say_citizen(session=session, text="公积金怎么提取？")
    session.refresh_from_db()
    assert session.queue == fund
    chat.chat_say_citizen(session=session, text="另外，社保呢")  # only the first line routes
    # A queue-only route does not switch off the built-in type words for SMS and e-mail.
    assert services.type_from_text("投诉：噪音扰民").code == "complaint"
    assert services.type_from_text("公积金怎么提取").code == "message"
    assert Channel.WECHAT  # the channel names stay those of the cases
