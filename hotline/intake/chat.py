"""Online chat (在线客服): a citizen opens a session from the portal, the app or WeChat, waits in the queue, an
agent accepts it and they write to each other; the transcript goes onto a case (one the agent makes from the chat
or an existing one) when both exist and the chat has ended.

Every session is a ChannelMessage of channel "chat": received when opened, acknowledged by the automatic
greeting, answered when the agent writes the first line — the 3-minute online reply clock of the reports.
Lines are pushed after commit on `chat:session:<pk>` (both sides) and queue changes on `chat:queue` (agents),
through common.push; the views stream those channels with `sse_response` and take new lines by POST.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import secrets
import uuid
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from hotline.cases import services as case_services
from hotline.cases.models import Case
from hotline.common import clock
from hotline.common.errors import Conflict, NotFound, ServiceError
from hotline.common.push import publish_on_commit
from hotline.notify.services import TemplateMissing, render
from hotline.orgs.models import Role, User
from hotline.telephony.models import Agent

from .models import ChannelKind, ChannelMessage, ChatAuthor, ChatLine, ChatSession, ChatStatus

logger = logging.getLogger(__name__)
QUEUE_CHANNEL = "chat:queue"
CHAT_REPLY_LIMIT = dt.timedelta(minutes=3)
MAX_LINE = 2000
MAX_LINES = 500  # lines a session takes (a flood stops there)
# Who serves the online chat: the intake agents (话务员); a supervisor (班长) sees the queue.
CHAT_ROLES = (Role.AGENT,)
CHAT_VIEW_ROLES = (Role.AGENT, Role.MONITOR)
# The case channel a chat's request is registered under, by where the chat came from.
CASE_CHANNEL: dict[str, str] = {ChannelKind.WEB: "web", ChannelKind.APP: "app", ChannelKind.WECHAT: "wechat"}


def session_channel(session_pk: int) -> str:
    return f"chat:session:{session_pk}"


def may_serve(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_role(*CHAT_ROLES))


def may_view_queue(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.has_role(*CHAT_VIEW_ROLES))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _text(code: str, context: dict[str, Any]) -> str:
    try:
        return render(code, context)[1]
    except TemplateMissing:  # switched off by the office: no automatic line
        return ""


def welcome_text() -> str:
    return _text("chat_welcome", {})


def line_payload(line: ChatLine) -> dict[str, Any]:
    return {
        "type": "line",
        "id": line.pk,
        "author": line.author,
        "text": line.text,
        "at": line.at.isoformat(),
    }


def _add_line(
    session: ChatSession, author: str, text: str, agent: User | None = None, *, to_wechat: bool = True
) -> ChatLine:
    line = ChatLine.objects.create(session=session, author=author, agent=agent, text=text, at=clock.now())
    _announce(line, session.channel, to_wechat=to_wechat)
    return line


def _announce(line: ChatLine, channel: str, *, to_wechat: bool = True) -> None:
    """After commit: the line to both sides' streams, and a WeChat follower's copy through the message API."""
    publish_on_commit(session_channel(line.session_id), line_payload(line))
    if channel == ChannelKind.WECHAT and line.author != ChatAuthor.CITIZEN and to_wechat:
        transaction.on_commit(lambda: _to_wechat(line.session_id, line.text))


def _to_wechat(session_pk: int, text: str) -> None:
    """A WeChat follower gets the agent's (and the system's) lines through the customer-service message API; a
    failure is shown to the agent as a system line in the session."""
    from .models import WeChatAccount
    from .wechat.client import WeChatApiError, send_text

    session = ChatSession.objects.select_related("message").get(pk=session_pk)
    account = WeChatAccount.objects.filter(app_id=session.message.account, is_active=True).first()
    try:
        if account is None:
            raise WeChatApiError(-1, "account not configured")
        send_text(account, open_id=session.sender, text=text)
    except WeChatApiError as exc:
        logger.warning("chat %s: WeChat delivery failed: %s", session_pk, exc)
        with transaction.atomic():
            _add_line(
                session, ChatAuthor.SYSTEM, _("（未能送达微信用户：%(e)s）") % {"e": exc.message[:100]},
                to_wechat=False,
            )  # fmt: skip


def agent_skills(user: Any) -> set[int] | None:
    """The skill groups (queue ids) whose chats `user` is offered; None: every chat (a supervisor)."""
    if user.has_role(Role.MONITOR):
        return None
    seat = Agent.objects.filter(user=user).first()
    return set(seat.skills.values_list("pk", flat=True)) if seat else set()


def offered_to(session: ChatSession, user: Any) -> bool:
    skills = agent_skills(user)
    return skills is None or session.queue_id is None or session.queue_id in skills


def _status_changed(session: ChatSession) -> None:
    publish_on_commit(session_channel(session.pk), {"type": "status", "status": session.status})
    publish_on_commit(QUEUE_CHANNEL, {"type": "queue", "session": session.pk, "status": session.status})


def chat_open(
    *,
    channel: str,
    account: str,
    sender: str = "",
    phone: str = "",
    first_text: str = "",
    passive: bool = False,
) -> tuple[ChatSession, str]:
    """A new session in the queue; returns it with the citizen's token (shown once, only its hash is kept).
    `first_text`: the citizen's first line (routed by keyword to a skill group); `passive`: the channel carries
    the welcome itself (WeChat's passive reply), so it is not sent again through the message API."""
    if channel not in CASE_CHANNEL:
        raise ServiceError(_("渠道无效"), field_errors={"channel": [_("渠道无效")]})
    token = secrets.token_urlsafe(24)
    now = clock.now()
    with transaction.atomic():
        message = ChannelMessage.objects.create(
            channel=ChannelKind.CHAT,
            account=account[:64],
            external_id=f"chat:{uuid.uuid4()}",
            sender=(sender or phone)[:128],
            kind=channel,
            received_at=now,
            reply_due_at=now + CHAT_REPLY_LIMIT,
        )
        session = ChatSession.objects.create(
            token_hash=_token_hash(token),
            channel=channel,
            sender=sender[:128],
            phone=phone[:20],
            created_at=now,
            message=message,
        )
        welcome = _text("chat_welcome", {})
        if welcome:
            _add_line(session, ChatAuthor.SYSTEM, welcome, to_wechat=not passive)
            message.acknowledged_at = now
            message.save(update_fields=["acknowledged_at"])
        if first_text.strip():
            _route(session, first_text)
            _add_line(session, ChatAuthor.CITIZEN, _clean(first_text))
        _status_changed(session)
    return session, token


def _route(session: ChatSession, text: str) -> None:
    """A waiting session without a skill group takes the one its first words route to (KeywordRoute)."""
    from .services import queue_from_text

    if session.queue_id is not None or session.status != ChatStatus.WAITING:
        return
    queue = queue_from_text(text)
    if queue is not None:
        session.queue = queue
        session.save(update_fields=["queue"])


def session_for_token(token: str) -> ChatSession | None:
    if not token or len(token) > 64:
        return None
    return ChatSession.objects.filter(token_hash=_token_hash(token)).first()


def _locked(session: ChatSession) -> ChatSession:
    return ChatSession.objects.select_for_update().get(pk=session.pk)


def _clean(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise ServiceError(_("消息不能为空"), field_errors={"text": [_("请输入消息内容")]})
    if len(text) > MAX_LINE:
        raise ServiceError(_("消息过长"), field_errors={"text": [_("每条消息最多%(n)d字") % {"n": MAX_LINE}]})
    return text


def chat_say_citizen(*, session: ChatSession | str, text: str) -> ChatLine:
    """The citizen's line (any channel); the first one of a waiting session without a skill group routes it.

    `session` may be the citizen's token: the portal's send view (the citizens' side of a busy chat desk) then
    loads nothing, and on PostgreSQL one statement (`_citizen_says_at_once`) finds and locks the session by its
    token, checks it is open and under MAX_LINES, and inserts the line. Anything that statement does not take
    (no such token, closed, full, or a first line still to be routed) goes the general way below, which says
    why (NotFound, "closed", "throttled") or routes. The push goes out after commit either way."""
    text = _clean(text)
    if isinstance(session, str):
        token = session
        if connection.vendor == "postgresql" and token and len(token) <= 64:
            line = _citizen_says_at_once(_token_hash(token), text)
            if line is not None:
                return line
        found = session_for_token(token)
        if found is None:
            raise NotFound(_("会话不存在"))
        session = found
    with transaction.atomic():
        session = _locked(session)
        if session.status == ChatStatus.CLOSED:
            raise ServiceError(_("会话已结束"), code="closed")
        if session.lines.count() >= MAX_LINES:
            raise ServiceError(_("本次会话消息过多，请拨打12345或网上提交诉求"), code="throttled")
        first = not session.lines.filter(author=ChatAuthor.CITIZEN).exists()
        if session.queue_id is None and session.status == ChatStatus.WAITING and first:
            _route(session, text)
            if session.queue_id is not None:
                _status_changed(session)
        return _add_line(session, ChatAuthor.CITIZEN, text)


_CITIZEN_SQL: list[str] = []


def _citizen_says_at_once(token_hash: str, text: str) -> ChatLine | None:
    """PostgreSQL: the citizen's line in one statement — lock the session of `token_hash` if it is not closed and
    needs no routing (a skill group already, no longer waiting, or the citizen has written before), insert the
    line if the session holds fewer than MAX_LINES. None (nothing written) otherwise. A close, which locks the
    same row, is either before (no line) or after. The line count is read as the statement starts: lines
    committed while it waited for the lock are not counted, so a flood stops at MAX_LINES plus a few."""
    if not _CITIZEN_SQL:
        q = connection.ops.quote_name
        sessions, lines = q(ChatSession._meta.db_table), q(ChatLine._meta.db_table)
        _CITIZEN_SQL.append(
            f"WITH s AS (SELECT c.id, c.channel FROM {sessions} c WHERE c.token_hash = %(hash)s "
            f"AND c.status <> %(closed)s AND (c.queue_id IS NOT NULL OR c.status <> %(waiting)s "
            f"OR EXISTS (SELECT 1 FROM {lines} x WHERE x.session_id = c.id AND x.author = %(author)s)) "
            f"FOR UPDATE OF c), "
            f"l AS (INSERT INTO {lines} (session_id, author, agent_id, text, at) "
            f"SELECT s.id, %(author)s, NULL, %(text)s, %(at)s FROM s "
            f"WHERE (SELECT count(*) FROM {lines} n WHERE n.session_id = s.id) < %(max)s RETURNING id, session_id) "
            f"SELECT l.id, l.session_id, s.channel FROM l CROSS JOIN s"
        )
    at = clock.now()
    params: dict[str, Any] = {"hash": token_hash, "closed": ChatStatus.CLOSED, "waiting": ChatStatus.WAITING,
              "author": ChatAuthor.CITIZEN, "text": text, "at": at, "max": MAX_LINES}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_CITIZEN_SQL[0], params)
        row = cursor.fetchone()
    if row is None:
        return None
    line = ChatLine(pk=row[0], session_id=row[1], author=ChatAuthor.CITIZEN, text=text, at=at)
    line._state.adding = False
    _announce(line, row[2])
    return line


def chat_accept(*, session: ChatSession, agent: User) -> ChatSession:
    """The agent takes a waiting session (the first of two agents wins; the other gets 409)."""
    if not may_serve(agent):
        raise NotFound(_("会话不存在"))
    with transaction.atomic():
        session = _locked(session)
        if not offered_to(session, agent):
            raise NotFound(_("会话不存在"))
        if session.status != ChatStatus.WAITING:
            raise Conflict(_("该会话已被其他客服接入或已结束"))
        session.status = ChatStatus.ACTIVE
        session.agent = agent
        session.accepted_at = clock.now()
        session.save(update_fields=["status", "agent", "accepted_at"])
        greeting = _text("chat_accepted", {"agent": agent.username})
        if greeting:
            _add_line(session, ChatAuthor.SYSTEM, greeting)
        _status_changed(session)
    return session


def agent_session(*, user: User, pk: int) -> ChatSession:
    """A session the agent serves (or waits in the queue, for any chat agent); anything else is 404."""
    session = ChatSession.objects.select_related("case", "message").filter(pk=pk).first()
    if session is None or not may_view_queue(user):
        raise NotFound(_("会话不存在"))
    if session.agent_id is not None and session.agent_id != user.pk:
        raise NotFound(_("会话不存在"))
    if session.agent_id is None and not offered_to(session, user):
        raise NotFound(_("会话不存在"))
    return session


def chat_say_agent(*, session: ChatSession | int, agent: User, text: str) -> ChatLine:
    """The agent's line; the first one stops the session's online reply clock.

    The hot path of a busy chat desk (bench/chat_bench.py). On PostgreSQL one statement (`_say_at_once`) locks
    the session, stores the line and stops the clock; otherwise, or when that statement finds the session not
    served by `agent` (the general path below then says why), one small transaction: the session row locked
    and read with the clock in one statement, the line inserted, the clock stopped only by the first line. The
    push goes out after commit either way. `session` may be the session's pk: the send view loads nothing."""
    text = _clean(text)
    pk = session if isinstance(session, int) else session.pk
    if connection.vendor == "postgresql":
        line = _say_at_once(pk, agent, text)
        if line is not None:
            return line
    with transaction.atomic():
        row = _lock_for_line(pk)
        if row is None or row[0] != agent.pk:
            raise NotFound(_("会话不存在"))
        _agent_id, status, channel, message_id, replied = row
        if status != ChatStatus.ACTIVE:
            raise ServiceError(_("会话已结束"), code="closed")
        target = ChatSession(pk=pk, channel=channel, message_id=message_id)
        line = _add_line(target, ChatAuthor.AGENT, text, agent=agent)
        if not replied:
            ChannelMessage.objects.filter(pk=message_id, first_reply_at__isnull=True).update(
                first_reply_at=line.at, reply=text[:200]
            )
    return line


def _lock_for_line(pk: int) -> tuple[Any, ...] | None:
    """(agent id, status, channel, message id, replied) of session `pk`, its row locked until commit."""
    sessions, messages = ChatSession._meta.db_table, ChannelMessage._meta.db_table
    lock = " FOR UPDATE OF s" if connection.features.has_select_for_update_of else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.agent_id, s.status, s.channel, s.message_id, m.first_reply_at IS NOT NULL "
            f"FROM {sessions} s JOIN {messages} m ON m.id = s.message_id WHERE s.id = %s{lock}",
            [pk],
        )
        return cursor.fetchone()


_SAY_SQL: list[str] = []


def _say_at_once(pk: int, agent: User, text: str) -> ChatLine | None:
    """PostgreSQL: the agent's line in one statement (atomic by itself; inside a caller's transaction, part of
    it): lock the session if `agent` serves it and it is active, insert the line, stop the reply clock if
    still running. None (nothing written) when the session is not so; a chat's close, which locks the same
    row, is either before (no line) or after."""
    if not _SAY_SQL:
        q = connection.ops.quote_name
        sessions, lines = q(ChatSession._meta.db_table), q(ChatLine._meta.db_table)
        messages = q(ChannelMessage._meta.db_table)
        _SAY_SQL.append(
            f"WITH s AS (SELECT id, channel, message_id FROM {sessions} "
            f"WHERE id = %(pk)s AND agent_id = %(agent)s AND status = %(active)s FOR UPDATE), "
            f"l AS (INSERT INTO {lines} (session_id, author, agent_id, text, at) "
            f"SELECT id, %(author)s, %(agent)s, %(text)s, %(at)s FROM s RETURNING id), "
            f"m AS (UPDATE {messages} SET first_reply_at = %(at)s, reply = %(reply)s "
            f"WHERE id = (SELECT message_id FROM s) AND first_reply_at IS NULL) "
            f"SELECT l.id, s.channel FROM l CROSS JOIN s"
        )
    at = clock.now()
    params: dict[str, Any] = {"pk": pk, "agent": agent.pk, "active": ChatStatus.ACTIVE, "author": ChatAuthor.AGENT,
              "text": text, "at": at, "reply": text[:200]}  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_SAY_SQL[0], params)
        row = cursor.fetchone()
    if row is None:
        return None
    line = ChatLine(pk=row[0], session_id=pk, author=ChatAuthor.AGENT, agent=agent, text=text, at=at)
    line._state.adding = False
    _announce(line, row[1])
    return line


def chat_close(*, session: ChatSession, agent: User | None = None) -> ChatSession:
    """Ended by the citizen (agent None) or by the serving agent; the transcript goes to the linked case."""
    with transaction.atomic():
        session = _locked(session)
        if agent is not None and session.agent_id != agent.pk:
            raise NotFound(_("会话不存在"))
        if session.status == ChatStatus.CLOSED:
            return session
        goodbye = _text("chat_closed", {})
        if goodbye:
            _add_line(session, ChatAuthor.SYSTEM, goodbye)
        session.status = ChatStatus.CLOSED
        session.closed_at = clock.now()
        session.save(update_fields=["status", "closed_at"])
        _save_transcript(session)
        _status_changed(session)
    return session


def transcript(session: ChatSession) -> str:
    names: dict[str, str] = {
        ChatAuthor.CITIZEN: _("市民"),
        ChatAuthor.AGENT: _("客服"),
        ChatAuthor.SYSTEM: _("系统"),
    }
    rows = [
        f"[{timezone.localtime(line.at):%Y-%m-%d %H:%M:%S}] {names.get(line.author, line.author)}：{line.text}"
        for line in session.lines.order_by("id")
    ]
    head = _("在线客服会话记录（会话%(pk)d）") % {"pk": session.pk}
    return "\n".join([head, *rows])


def _requester(session: ChatSession) -> case_services.Requester:
    return case_services.Requester(
        channel=CASE_CHANNEL[session.channel],
        account="chat",
        external_id=session.sender or f"chat:{session.pk}",
    )


def _save_transcript(session: ChatSession) -> None:
    """Once the chat has ended and has a case: the whole transcript on the case's timeline (once)."""
    if session.case_id is None or session.status != ChatStatus.CLOSED or session.transcript_saved_at:
        return
    case = Case.objects.get(pk=session.case_id)
    case_services.case_citizen_message(
        case=case, requester=_requester(session), text=transcript(session), source="chat"
    )
    session.transcript_saved_at = clock.now()
    session.save(update_fields=["transcript_saved_at"])


def _link(session: ChatSession, case: Case) -> None:
    session.case = case
    session.save(update_fields=["case"])
    note = _text("chat_case_created", {"number": case.number})
    if note and session.status != ChatStatus.CLOSED:
        _add_line(session, ChatAuthor.SYSTEM, note)
    _save_transcript(session)


def chat_make_case(*, session: ChatSession, agent: User, data: case_services.CaseInput) -> Case:
    """The agent registers the citizen's request from the chat: a request of the chat's channel on the online
    queue (origin: the chat session and its reply clock), the transcript added when the chat ends."""
    with transaction.atomic():
        session = _locked(session)
        if session.agent_id != agent.pk:
            raise NotFound(_("会话不存在"))
        if session.case_id is not None:
            raise Conflict(_("该会话已关联工单"))
        channel = CASE_CHANNEL[session.channel]
        message = session.message
        origin = {
            **(data.origin or {}),
            "chat_session": session.pk,
            "channel_message": message.pk,
            "received_at": message.received_at.astimezone(dt.UTC).isoformat(timespec="seconds"),
            "reply_due_at": (message.reply_due_at or message.received_at)
            .astimezone(dt.UTC)
            .isoformat(timespec="seconds"),
        }
        result = case_services.case_request_from_channel(
            data=dataclasses.replace(data, channel=channel, origin=origin), requester=_requester(session)
        )
        _link(session, result.case)
    return result.case


def chat_attach_case(*, session: ChatSession, agent: User, number: str) -> Case:
    """The transcript goes to an existing case the agent can see (the citizen's earlier request)."""
    from hotline.cases.selectors import case_visible

    with transaction.atomic():
        session = _locked(session)
        if session.agent_id != agent.pk:
            raise NotFound(_("会话不存在"))
        if session.case_id is not None:
            raise Conflict(_("该会话已关联工单"))
        case = case_visible(user=agent).filter(number=number.strip()[:32]).first()
        if case is None:
            raise ServiceError(_("工单不存在"), field_errors={"number": [_("未找到该工单编号")]})
        _link(session, case)
    return case


def waiting_sessions(*, user: Any = None) -> Any:
    """The queue: every waiting session, or (given a user) those offered to them by skill group."""
    rows = ChatSession.objects.filter(status=ChatStatus.WAITING).select_related("message", "queue")
    skills = agent_skills(user) if user is not None else None
    if skills is not None:
        rows = rows.filter(Q(queue__isnull=True) | Q(queue__in=skills))
    return rows.order_by("created_at")


def wechat_open_session(*, app_id: str, open_id: str) -> ChatSession | None:
    """The follower's chat still waiting or served, if any (their next messages go to it)."""
    return (
        ChatSession.objects.filter(
            channel=ChannelKind.WECHAT,
            sender=open_id,
            message__account=app_id[:64],
            status__in=(ChatStatus.WAITING, ChatStatus.ACTIVE),
        )
        .order_by("-created_at")
        .first()
    )


def my_sessions(*, agent: User) -> Any:
    return (
        ChatSession.objects.filter(agent=agent, status=ChatStatus.ACTIVE)
        .select_related("message", "case")
        .order_by("accepted_at")
    )
