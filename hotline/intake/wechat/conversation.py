"""What a follower's message does: the menu's request types, binding a phone, "my requests", and submitting.

The account's menu (configured in WeChat's console) sends CLICK events with these keys; a follower may also type
the type's name. The next text message is the request: it becomes a case through the cases service with the
follower as the requester. Replies are short Chinese texts sent back passively (within WeChat's 5 seconds).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from django.core.cache import cache
from django.db import connection, models, transaction
from django.utils import timezone

from hotline.cases import services as case_services
from hotline.cases.models import Case, Channel
from hotline.common import clock, crypto
from hotline.common.errors import ServiceError
from hotline.common.models import DictItem
from hotline.common.redaction import redact, secret_pattern
from hotline.common.validators import MOBILE_RE, normalize_phone

from .. import chat, texts
from ..models import ChannelKind, ChannelMessage, WeChatAccount, WeChatFollower
from ..services import REPLY_LIMITS, case_type, queue_from_text, reply_clock
from . import media, news

# Menu keys → case type codes (the five request types of the seed: 咨询 投诉 建议 求助 其他).
MENU_TYPES = {
    "REQ_CONSULT": "consult",
    "REQ_COMPLAINT": "complaint",
    "REQ_SUGGESTION": "suggest",
    "REQ_HELP": "help",
    "REQ_OTHER": "message",
}
TYPE_WORDS = {"咨询": "consult", "投诉": "complaint", "建议": "suggest", "求助": "help", "其他": "message"}
MIN_CONTENT = 10
# Online chat from WeChat: the menu key or these words open a session; these end it.
MENU_CHAT = "CHAT"
CHAT_WORDS = {"人工客服", "在线客服", "转人工", "人工"}
CHAT_END_WORDS = {"结束会话", "结束客服", "退出客服"}
BIND_RE = re.compile(r"^\s*绑定\s*(\+?\d[\d\s-]{6,20})\s*$")
CODE_RE = re.compile(r"^\s*验证码\s*(\d{6})\s*$")
BIND_CODE_MINUTES = 10
BIND_CODE_TTL = dt.timedelta(minutes=BIND_CODE_MINUTES)

# The reply to a submitted request carries the query password: the stored copy shows ******; the full text is
# kept in the shared cache only as long as WeChat may retry the delivery (three tries within 15 s).
SECRET_IN_REPLY = secret_pattern(("查询密码",))
RETRY_SECONDS = 60


@dataclass(frozen=True)
class Incoming:
    msg_type: str
    sender: str
    external_id: str
    text: str = ""
    event: str = ""
    event_key: str = ""
    media_id: str = ""
    template_msg_id: str = ""  # TEMPLATESENDJOBFINISH: the template message's MsgID …
    status: str = ""  # … and WeChat's Status of it


def external_id(fields: dict[str, str]) -> str:
    """WeChat retries a message three times; MsgId identifies it, events have FromUserName + CreateTime."""
    if fields.get("MsgId"):
        return fields["MsgId"]
    return f"{fields.get('FromUserName', '')}:{fields.get('CreateTime', '')}:{fields.get('Event', '')}"


def incoming(fields: dict[str, str]) -> Incoming:
    return Incoming(
        msg_type=fields.get("MsgType", ""),
        sender=fields.get("FromUserName", ""),
        external_id=external_id(fields),
        text=fields.get("Content", ""),
        event=fields.get("Event", "").lower(),
        event_key=fields.get("EventKey", ""),
        media_id=fields.get("MediaId", "")[:128],
        template_msg_id=fields.get("MsgID", ""),
        status=fields.get("Status", ""),
    )


def receive(*, account: WeChatAccount, message: Incoming, raw: str) -> str:
    """Handle one delivery and return the passive reply text. A retried delivery returns the first reply.

    One transaction for the whole message (one commit, not one per statement): the delivery row, what the message
    does, the reply stored. The row goes in with `INSERT … ON CONFLICT DO NOTHING` (no savepoint): a retry arriving
    while the first is still being answered waits on the row's unique key and then, inserting nothing, reads the
    first reply; a message whose handling failed leaves nothing, so WeChat's retry handles it again."""
    now = clock.now()
    with transaction.atomic():
        record = _record(account, message, raw, now)
        if record is None:
            first = ChannelMessage.objects.get(
                channel=ChannelKind.WECHAT, account=account.app_id, external_id=message.external_id
            )
            return cache.get(_retry_key(first.pk)) or first.reply
        return _answered(account, message, record, now)


_INSERT_SQL: str = ""
_UPDATE_SQL: str = ""


def _field(model: type[models.Model], name: str) -> models.Field[Any, Any]:
    field = model._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _col(model: type[models.Model], name: str) -> str:
    """A column's quoted name (for the statements written once per process)."""
    return connection.ops.quote_name(str(_field(model, name).column))


def _table(model: type[models.Model]) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _sql() -> tuple[str, str]:
    """The delivery row's INSERT (nothing on a retry) and its final UPDATE, written once per process."""
    global _INSERT_SQL, _UPDATE_SQL
    if not _INSERT_SQL:
        m = ChannelMessage
        names = ("channel", "account", "external_id", "sender", "kind", "text", "raw", "received_at", "reply")
        columns = ", ".join(_col(m, n) for n in names)
        unique = ", ".join(_col(m, n) for n in ("channel", "account", "external_id"))
        _INSERT_SQL = (
            f"INSERT INTO {_table(m)} ({columns}) VALUES ({', '.join(['%s'] * len(names))}) "
            f"ON CONFLICT ({unique}) DO NOTHING RETURNING {_col(m, 'id')}"
        )
        sets = ", ".join(f"{_col(m, n)} = %s" for n in ("reply", "case", "acknowledged_at", "reply_due_at"))
        _UPDATE_SQL = f"UPDATE {_table(m)} SET {sets} WHERE {_col(m, 'id')} = %s"
    return _INSERT_SQL, _UPDATE_SQL


def _record(account: WeChatAccount, message: Incoming, raw: str, now: dt.datetime) -> ChannelMessage | None:
    """The delivery row, inserted; None when it is a retry (the row exists)."""
    record = ChannelMessage(
        channel=ChannelKind.WECHAT,
        account=account.app_id,
        external_id=message.external_id,
        sender=message.sender,
        kind=message.event or message.msg_type,
        text=message.text[:5000],
        raw=raw[:20000],
        received_at=now,
    )
    values = [
        record.channel, record.account, record.external_id, record.sender, record.kind, record.text, record.raw,
        _field(ChannelMessage, "received_at").get_db_prep_value(now, connection), "",
    ]  # fmt: skip
    with connection.cursor() as cursor:
        cursor.execute(_sql()[0], values)
        row = cursor.fetchone()
    if row is None:
        return None
    record.pk = row[0]
    record._state.adding = False
    record._state.db = connection.alias
    return record


def _answered(account: WeChatAccount, message: Incoming, record: ChannelMessage, now: dt.datetime) -> str:
    reply, case = _answer(account, message, record)
    record.reply = redact(reply, SECRET_IN_REPLY)
    if record.reply != reply:
        cache.set(_retry_key(record.pk), reply, RETRY_SECONDS)
    record.case = case
    record.acknowledged_at = clock.now()
    if case is not None:
        record.reply_due_at = now + REPLY_LIMITS[Channel.WECHAT]
    with connection.cursor() as cursor:
        cursor.execute(
            _sql()[1],
            [
                record.reply,
                case.pk if case is not None else None,
                _field(ChannelMessage, "acknowledged_at").get_db_prep_value(
                    record.acknowledged_at, connection
                ),
                _field(ChannelMessage, "reply_due_at").get_db_prep_value(record.reply_due_at, connection),
                record.pk,
            ],
        )
    return reply


def _retry_key(record_pk: int) -> str:
    return f"wechat-reply:{record_pk}"


_FOLLOWER_FIELDS = (
    "id", "phone", "pending_type", "pending_media", "bind_code_hash", "bind_phone", "bind_code_expires_at",
    "updated_at",
)  # fmt: skip
_FOLLOWER_SQL: str = ""


def _follower_sql() -> str:
    """The follower with the id of their open chat (waiting or served) in one statement, written once per process
    (they were two ORM queries on every message, compiled each time)."""
    global _FOLLOWER_SQL
    if not _FOLLOWER_SQL:
        f, s, m = WeChatFollower, chat.ChatSession, ChannelMessage
        columns = ", ".join(f"f.{_col(f, n)}" for n in _FOLLOWER_FIELDS)
        _FOLLOWER_SQL = (
            f"SELECT {columns}, (SELECT s.{_col(s, 'id')} FROM {_table(s)} s "
            f"JOIN {_table(m)} m ON m.{_col(m, 'id')} = s.{_col(s, 'message')} "
            f"WHERE s.{_col(s, 'channel')} = %s AND s.{_col(s, 'sender')} = f.{_col(f, 'open_id')} "
            f"AND m.{_col(m, 'account')} = %s AND s.{_col(s, 'status')} IN (%s, %s) "
            f"ORDER BY s.{_col(s, 'created_at')} DESC LIMIT 1) "
            f"FROM {_table(f)} f WHERE f.{_col(f, 'account')} = %s AND f.{_col(f, 'open_id')} = %s"
        )
    return _FOLLOWER_SQL


def _follower(account: WeChatAccount, open_id: str) -> tuple[WeChatFollower, chat.ChatSession | None]:
    """The follower (made on their first message) and their open chat, if any. The chat is its primary key only:
    every chat service locks the session by it first (`chat._locked`)."""
    with connection.cursor() as cursor:
        cursor.execute(
            _follower_sql(),
            [
                ChannelKind.WECHAT,
                account.app_id[:64],
                chat.ChatStatus.WAITING,
                chat.ChatStatus.ACTIVE,
                account.pk,
                open_id,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        follower, _ = WeChatFollower.objects.get_or_create(account=account, open_id=open_id)
        return follower, None
    values: dict[str, Any] = {}
    for name, value in zip(_FOLLOWER_FIELDS, row, strict=False):
        field = _field(WeChatFollower, name)
        if isinstance(field, models.JSONField):
            value = json.loads(value) if isinstance(value, str) else value
        elif isinstance(field, models.DateTimeField) and value is not None:
            value = field.to_python(value)
            if timezone.is_naive(value):
                value = value.replace(tzinfo=dt.UTC)
        values[field.attname] = value
    follower = WeChatFollower(account=account, open_id=open_id, **values)
    follower._state.adding = False
    follower._state.db = connection.alias
    session_id = row[len(_FOLLOWER_FIELDS)]
    return follower, (chat.ChatSession(pk=session_id) if session_id is not None else None)


def _answer(account: WeChatAccount, message: Incoming, record: ChannelMessage) -> tuple[str, Case | None]:
    if message.msg_type == "event" and message.event == "templatesendjobfinish":
        from .notice_templates import template_delivery_record

        template_delivery_record(
            account=account, open_id=message.sender, msg_id=message.template_msg_id, status=message.status
        )
        return "", None  # `success`: WeChat expects no reply to its report
    follower, session = _follower(account, message.sender)
    if message.msg_type == "event":
        if message.event == "subscribe":
            return texts.text("wechat_welcome"), None
        if message.event == "click" and message.event_key in MENU_TYPES:
            return _choose_type(follower, MENU_TYPES[message.event_key]), None
        if message.event == "click" and message.event_key == MENU_CHAT:
            return _open_chat(account, follower, ""), None
        if message.event == "click" and message.event_key == news.MENU_NEWS:
            return _news(news.announcements(), "wechat_no_news"), None
        if message.event == "click" and message.event_key == news.MENU_KB:
            return texts.text("wechat_kb_hint"), None
        return "", None
    if message.msg_type == "image" and message.media_id:
        return _photo(account, follower, message.media_id), None
    if message.msg_type != "text":
        return texts.text("wechat_text_only"), None
    text = message.text.strip()
    if session is not None:  # in an online chat: the text is the citizen's next line
        return _chat_line(session, text), None
    if text in CHAT_WORDS:
        return _open_chat(account, follower, ""), None
    if not follower.pending_type and queue_from_text(text) is not None:  # keyword-routed to a skill group
        return _open_chat(account, follower, text), None
    if text in TYPE_WORDS:
        return _choose_type(follower, TYPE_WORDS[text]), None
    if text in {"我的诉求", "查询", "进度"}:
        return _my_requests(account, follower), None
    if text in news.NEWS_WORDS:
        return _news(news.announcements(), "wechat_no_news"), None
    if kb := news.KB_RE.match(text):
        return _news(news.knowledge(kb.group(1).strip()), "wechat_kb_none"), None
    if bind := BIND_RE.match(text):
        return _start_binding(follower, normalize_phone(bind.group(1))), None
    if code := CODE_RE.match(text):
        return _confirm_binding(follower, code.group(1)), None
    return _submit(account, follower, text, record)


def _news(articles: list[news.Article], empty: str) -> str:
    return news.encode(articles) if articles else texts.text(empty)


def _photo(account: WeChatAccount, follower: WeChatFollower, media_id: str) -> str:
    """A photo with the request being composed (held until its text arrives), else added to the follower's open
    request; fetched from the media API after commit."""
    if follower.pending_type:
        if len(follower.pending_media) >= media.MAX_PENDING:
            return f"每件诉求最多附{media.MAX_PENDING}张照片。请发送文字描述提交诉求。"
        follower.pending_media = [*follower.pending_media, media_id]
        follower.save(update_fields=["pending_media", "updated_at"])
        return texts.text("wechat_photo_held", {"count": len(follower.pending_media)})
    case = media.open_case(account, follower)
    if case is None:
        return texts.text("wechat_photo_no_request")
    media.attach_later(account=account, case=case, open_id=follower.open_id, media_ids=[media_id])
    return texts.text("wechat_photo_added", {"number": case.number})


def _open_chat(account: WeChatAccount, follower: WeChatFollower, first_text: str) -> str:
    """An online chat in the agents' queue; the welcome goes back as the passive reply, the agent's lines later
    through the customer-service message API."""
    try:
        chat.chat_open(
            channel=ChannelKind.WECHAT, account=account.app_id, sender=follower.open_id, phone=follower.phone,
            first_text=first_text, passive=True,
        )  # fmt: skip
    except ServiceError as exc:
        return exc.message
    return chat.welcome_text() or texts.text("wechat_chat_opened")


def _chat_line(session: chat.ChatSession, text: str) -> str:
    try:
        if text in CHAT_END_WORDS:
            chat.chat_close(session=session)  # the goodbye line goes out through the message API
        else:
            chat.chat_say_citizen(session=session, text=text)
    except ServiceError as exc:
        return exc.message
    return ""  # `success`: the agent answers through the message API


def _case_type(code: str) -> DictItem | None:
    return case_type(code)  # the process's dictionary cache


def _choose_type(follower: WeChatFollower, code: str) -> str:
    item = _case_type(code)
    if item is None:
        return "该诉求类型暂不可用，请选择其他类型。"
    follower.pending_type = code
    follower.save(update_fields=["pending_type", "updated_at"])
    return texts.text("wechat_type_chosen", {"type": item.name})


def _start_binding(follower: WeChatFollower, phone: str) -> str:
    if not MOBILE_RE.match(phone):
        return "手机号码格式不正确，请发送“绑定 11位手机号”。"
    from hotline.notify.services import build_address_message, queue_messages

    code = f"{secrets.randbelow(10**6):06d}"
    follower.bind_phone = phone
    follower.bind_code_hash = crypto.hash_code(code)
    follower.bind_code_expires_at = clock.now() + BIND_CODE_TTL
    with transaction.atomic():
        follower.save(update_fields=["bind_phone", "bind_code_hash", "bind_code_expires_at", "updated_at"])
        queue_messages(
            [
                build_address_message(
                    channel="sms",
                    address=phone,
                    template="wechat_bind_code",
                    context={"code": code, "minutes": BIND_CODE_MINUTES},
                    secrets=("code",),
                )
            ]
        )
    return f"验证码已发送到 {crypto.mask_phone(phone)}，请在{BIND_CODE_MINUTES}分钟内发送“验证码 六位数字”完成绑定。"


def _confirm_binding(follower: WeChatFollower, code: str) -> str:
    valid = (
        follower.bind_code_hash
        and follower.bind_code_expires_at
        and follower.bind_code_expires_at > clock.now()
        and crypto.check_code(code, follower.bind_code_hash)
    )
    if not valid:
        return "验证码不正确或已过期，请重新发送“绑定 手机号”。"
    follower.phone, follower.bind_phone, follower.bind_code_hash = follower.bind_phone, "", ""
    follower.bind_code_expires_at = None
    follower.save(
        update_fields=["phone", "bind_phone", "bind_code_hash", "bind_code_expires_at", "updated_at"]
    )
    return f"手机号 {crypto.mask_phone(follower.phone)} 已绑定。"


def _my_requests(account: WeChatAccount, follower: WeChatFollower) -> str:
    cases = Case.objects.filter(
        channel=Channel.WECHAT,
        origin__requester_account=account.app_id,
        origin__requester_id=follower.open_id,
    ).order_by("-created_at")[:5]
    lines = [f"{c.number} {c.title or c.content[:12]}：{c.get_status_display()}" for c in cases]
    return "您最近的诉求：\n" + "\n".join(lines) if lines else texts.text("wechat_no_requests")


def _submit(
    account: WeChatAccount, follower: WeChatFollower, text: str, record: ChannelMessage
) -> tuple[str, Case | None]:
    if not follower.pending_type:
        return texts.text("wechat_need_type"), None
    if len(text) < MIN_CONTENT:
        return texts.text("wechat_too_short", {"min": MIN_CONTENT}), None
    if not follower.phone:
        return texts.text("wechat_need_phone"), None
    case_type = _case_type(follower.pending_type)
    if case_type is None:
        return "该诉求类型暂不可用，请重新选择。", None
    data = case_services.CaseInput(
        case_type=case_type,
        content=text,
        channel=Channel.WECHAT,
        citizen_phone=follower.phone,
        title=text[:30],
        origin={"channel_message": record.pk, **reply_clock(Channel.WECHAT, record.received_at)},
    )
    requester = case_services.Requester(
        channel=Channel.WECHAT, account=account.app_id, external_id=follower.open_id
    )
    result = case_services.case_request_from_channel(data=data, requester=requester)
    media.attach_later(
        account=account, case=result.case, open_id=follower.open_id, media_ids=follower.pending_media
    )
    follower.pending_type = ""
    follower.pending_media = []
    follower.save(update_fields=["pending_type", "pending_media", "updated_at"])
    # The password sentence is the code's (masked in the stored reply by its words), not the editable template's.
    note = f"，查询密码 {result.query_password}（请妥善保存）" if result.query_password else ""
    return texts.text("wechat_submitted", {"number": result.case.number, "password_note": note}), result.case
