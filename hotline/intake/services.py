"""What every citizen channel shares: an idempotent record of each delivery, the request it makes through the cases
service (with the channel's reply clock), acknowledgements through the notify outbox, SMS codes proving a phone,
citizen accounts and tokens, and the citizen's own rating.

The channel adapters (portal, citizen API, SMS, e-mail, WeChat) only parse what arrived and call these.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import Subquery
from django.utils.translation import gettext as _

from hotline.cases import services as case_services
from hotline.cases.models import Case, CaseStatus, Channel, Rating
from hotline.common import clock, crypto
from hotline.common.errors import ServiceError
from hotline.common.models import DictItem, DictKind
from hotline.common.refcache import RefCache
from hotline.common.throttles import increment
from hotline.common.validators import MOBILE_RE, normalize_phone
from hotline.notify.services import build_address_message, queue_messages
from hotline.telephony.models import Queue

from .models import CallbackInvite, ChannelMessage, CitizenAccount, CitizenToken, KeywordRoute, PhoneCode
from .texts import TEMPLATES

KEYWORD_ROUTES: RefCache[KeywordRoute] = RefCache(KeywordRoute)  # in Meta order (order, id)

# GB/T 33358 and 国办发〔2020〕53号: online messages and SMS answered within 3 minutes, the mailbox within 24 hours.
REPLY_LIMITS: dict[str, dt.timedelta] = {
    Channel.WEB: dt.timedelta(minutes=3),
    Channel.APP: dt.timedelta(minutes=3),
    Channel.WECHAT: dt.timedelta(minutes=3),
    Channel.SMS: dt.timedelta(minutes=3),
    Channel.EMAIL: dt.timedelta(hours=24),
    Channel.MAYOR_MAILBOX: dt.timedelta(hours=24),
}
CODE_MINUTES = 10
CODE_TRIES = 5
CODE_PER_PHONE_MINUTE = 1
CODE_PER_PHONE_DAY = 10
TOKEN_DAYS = 30
CALLBACK_REPLY_DAYS = 7
# SMS replies to a callback: the digit the citizen sends → rating (the callback SMS says which is which).
SMS_RATINGS = {
    "5": Rating.VERY_SATISFIED,
    "4": Rating.SATISFIED,
    "3": Rating.BASICALLY_SATISFIED,
    "2": Rating.DISSATISFIED,
    "1": Rating.VERY_DISSATISFIED,
}
TYPE_WORDS = {"咨询": "consult", "投诉": "complaint", "举报": "report", "建议": "suggest", "求助": "help"}


def _iso(moment: dt.datetime) -> str:
    """UTC, to the second: these strings sort as the moments do (the agents' queue orders by them)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def reply_clock(channel: str, received_at: dt.datetime) -> dict[str, str]:
    """The origin keys of a request's reply clock (the agents' queue sorts and shows by `reply_due_at`)."""
    due = received_at + REPLY_LIMITS.get(channel, dt.timedelta(minutes=3))
    return {"received_at": _iso(received_at), "reply_due_at": _iso(due)}


def case_type(code: str) -> DictItem | None:
    """An active request type by code, from the process's dictionary cache (cases.selectors.DICT_ITEMS)."""
    from hotline.cases.selectors import DICT_ITEMS

    item = DICT_ITEMS.get_by(kind=DictKind.CASE_TYPE, code=code)
    return item if item is not None and item.is_active else None


def type_from_text(text: str, default: str = "message") -> DictItem | None:
    """Keyword routing for free text (SMS, e-mail), as data (KeywordRoute, edited in the admin): the first active
    rule whose keyword starts the text (or appears anywhere in it, if the rule says so) gives the type. With no
    rules at all, the built-in words: a message starting with 投诉/咨询/建议/求助/举报 gets that type. The rules and
    types come from the process's caches (`KEYWORD_ROUTES`, `DICT_ITEMS`: a rule edited in another process counts
    here within their refresh time)."""
    from hotline.cases.selectors import DICT_ITEMS

    text = text.strip()
    routes = [route for route in KEYWORD_ROUTES.all() if route.case_type_id is not None]
    for route in routes:
        if route.is_active and _matches(route, text):
            item = DICT_ITEMS.get(route.case_type_id)
            if item is not None and item.is_active:
                return item
    if not routes:
        for word, code in TYPE_WORDS.items():
            if text.startswith(word):
                return case_type(code) or case_type(default)
    return case_type(default)


def _matches(route: KeywordRoute, text: str) -> bool:
    return text.startswith(route.keyword) or (route.anywhere and route.keyword in text)


def queue_from_text(text: str) -> Queue | None:
    """Keyword routing to an agents' skill group (an online chat's queue): the first active rule with a queue whose
    keyword starts the text (or appears anywhere in it, if the rule says so); None: every chat agent. The rules
    come from the process's cache (`KEYWORD_ROUTES`); the queue is read only for a matching rule."""
    text = text.strip()
    for route in KEYWORD_ROUTES.all():
        if route.is_active and route.queue_id is not None and _matches(route, text):
            return Queue.objects.filter(pk=route.queue_id).first()
    return None


# Statuses in which a citizen's later SMS is added to their case instead of making a new one.
FINISHED = (CaseStatus.CLOSED, CaseStatus.MERGED, CaseStatus.NOT_ACCEPTED)
APPEND_DAYS = 30


def open_sms_case(*, phone: str) -> Case | None:
    """The sender's latest unfinished request made by SMS in the last APPEND_DAYS days."""
    since = clock.now() - dt.timedelta(days=APPEND_DAYS)
    return (
        Case.objects.filter(channel=Channel.SMS, citizen_phone=phone, created_at__gte=since)
        .exclude(status__in=FINISHED)
        .order_by("-created_at")
        .first()
    )


def channel_message_append(
    *, delivery: Delivery, case: Case, ack_sms: str = "", reply_clock: bool = False, ack_from: str = ""
) -> ChannelMessage:
    """A later message of a citizen with an open case: added to that case's timeline (once per delivery) and
        acknowledged with its number, instead of a second case. `reply_clock`: the message waits for an answer on its
        channel's clock (a reply to a mailbox answer: 24 hours). `ack_from`: the SMS sender number of the receipt (a unit's
    extension number), else the service number."""
    now = clock.now()
    with transaction.atomic():
        record, created = _record(delivery, now)
        if not created:
            return record
        requester = case_services.Requester(
            channel=delivery.channel, account=delivery.account, external_id=delivery.sender
        )
        case_services.case_citizen_message(
            case=case, requester=requester, text=delivery.text, source=delivery.channel
        )
        if ack_sms:
            receipt = build_address_message(
                channel="sms", address=ack_sms, template="channel_appended", context={"number": case.number}
            )
            if ack_from:
                receipt.headers = {"sms_from": ack_from}
            queue_messages([receipt])
        record.case = case
        record.kind = "append"
        record.acknowledged_at = clock.now() if ack_sms else None
        if reply_clock:
            record.reply_due_at = now + REPLY_LIMITS.get(delivery.channel, dt.timedelta(minutes=3))
        record.save(update_fields=["case", "kind", "acknowledged_at", "reply_due_at"])
    return record


@dataclass(frozen=True)
class Delivery:
    """One message as its channel delivered it: the key (channel, account, external_id) makes it once only."""

    channel: str
    account: str
    external_id: str
    sender: str
    kind: str = "text"
    text: str = ""
    raw: str = ""


@dataclass
class Submitted:
    message: ChannelMessage
    case: Case | None
    query_password: str | None
    created: bool


def _record(delivery: Delivery, now: dt.datetime) -> tuple[ChannelMessage, bool]:
    """The delivery's row, made now or found from the first delivery (a retry)."""
    try:
        with transaction.atomic():
            return (
                ChannelMessage.objects.create(
                    channel=delivery.channel,
                    account=delivery.account[:64],
                    external_id=delivery.external_id[:128],
                    sender=delivery.sender[:128],
                    kind=delivery.kind[:32],
                    text=delivery.text[:5000],
                    raw=delivery.raw[:20000],
                    received_at=now,
                ),
                True,
            )
    except IntegrityError:
        return (
            ChannelMessage.objects.select_related("case").get(
                channel=delivery.channel,
                account=delivery.account[:64],
                external_id=delivery.external_id[:128],
            ),
            False,
        )


def _acknowledge(
    *, case: Case, password: str | None, sms: str = "", email: str = "", sms_from: str = ""
) -> None:
    """The receipt with the case number (and query password, sealed in the outbox) to the citizen's phone/mail.
    The template from the process's cache (`texts.TEMPLATES`); read from the database if not active there."""
    template = "channel_received" if password else "channel_received_public"
    context = {"number": case.number, "password": password or ""}
    cached = TEMPLATES.get_by(code=template)
    templates = {template: cached} if cached is not None and cached.is_active else None
    rows = [
        build_address_message(
            channel=channel,
            address=address,
            template=template,
            context=context,
            secrets=("password",),
            templates=templates,
        )
        for channel, address in (("sms", sms), ("email", email))
        if address
    ]
    for row in rows:
        if sms_from and row.channel == "sms":
            row.headers = {"sms_from": sms_from}
    if rows:
        queue_messages(rows)


def channel_request_submit(
    *,
    delivery: Delivery,
    data: case_services.CaseInput,
    files: Sequence[UploadedFile] = (),
    images_only: bool = False,
    ack_sms: str = "",
    ack_email: str = "",
    consume_code_of: str = "",
    ack_from: str = "",
) -> Submitted:
    """Make the citizen's request once: the delivery row, the draft on the agents' queue with the channel's reply
    clock, the files, the receipt. A retried delivery returns the first one's case (no password: it was given
    then). All in one transaction: a refused request leaves nothing behind, so a corrected retry can succeed."""
    now = clock.now()
    due = now + REPLY_LIMITS.get(delivery.channel, dt.timedelta(minutes=3))
    with transaction.atomic():
        record, created = _record(delivery, now)
        if not created:
            return Submitted(message=record, case=record.case, query_password=None, created=False)
        if consume_code_of:
            phone_code_consume(phone=consume_code_of)
        origin = {**(data.origin or {}), "channel_message": record.pk, **reply_clock(delivery.channel, now)}
        requester = case_services.Requester(
            channel=delivery.channel, account=delivery.account, external_id=delivery.sender
        )
        result = case_services.case_request_from_channel(
            data=dataclasses.replace(data, channel=delivery.channel, origin=origin), requester=requester
        )
        if files:
            case_services.case_citizen_attach(
                case=result.case, requester=requester, files=files, images_only=images_only
            )
        _acknowledge(
            case=result.case, password=result.query_password, sms=ack_sms, email=ack_email, sms_from=ack_from
        )
        record.case = result.case
        record.reply_due_at = due
        record.acknowledged_at = clock.now() if (ack_sms or ack_email) else None
        record.save(update_fields=["case", "reply_due_at", "acknowledged_at"])
    return Submitted(message=record, case=result.case, query_password=result.query_password, created=True)


def channel_first_reply(*, case: Case) -> None:
    """An agent took the request off the queue (accepted it, or proposed not to): the channel's clock stops."""
    message_id = (case.origin or {}).get("channel_message")
    if message_id:
        ChannelMessage.objects.filter(pk=message_id, first_reply_at__isnull=True).update(
            first_reply_at=clock.now()
        )


# --------------------------------------------------------------------------- phone codes and citizen accounts


def _mobile(phone: str) -> str:
    number = normalize_phone(phone)
    if not MOBILE_RE.match(number):
        raise ServiceError(_("手机号码格式不正确"), field_errors={"phone": [_("请输入11位手机号码")]})
    return number


def phone_code_send(*, phone: str) -> None:
    """An SMS code for this phone, through the outbox (sealed: staff reading the outbox see ******).
    One a minute and ten a day per phone, in the shared throttle store."""
    number = _mobile(phone)
    if increment(f"throttle:channel_code:min:{number}", 60) > CODE_PER_PHONE_MINUTE:
        raise ServiceError(_("验证码发送过于频繁，请1分钟后再试"), code="throttled")
    if increment(f"throttle:channel_code:day:{number}", 24 * 3600) > CODE_PER_PHONE_DAY:
        raise ServiceError(_("今日验证码发送次数已达上限"), code="throttled")
    code = f"{secrets.randbelow(10**6):06d}"
    now = clock.now()
    with transaction.atomic():
        PhoneCode.objects.filter(phone=number, used_at__isnull=True).update(used_at=now)  # older codes die
        PhoneCode.objects.create(
            phone=number,
            code_hash=crypto.hash_code(code),
            created_at=now,
            expires_at=now + dt.timedelta(minutes=CODE_MINUTES),
        )
        queue_messages(
            [
                build_address_message(
                    channel="sms",
                    address=number,
                    template="channel_login_code",
                    context={"code": code, "minutes": CODE_MINUTES},
                    secrets=("code",),
                )
            ]
        )


def phone_code_check(*, phone: str, code: str, consume: bool = True) -> str:
    """The normalised phone when `code` is its current code (used once, 5 tries, 10 minutes); else refused.

    `consume=False`: checked (the try counts) but left for `phone_code_consume` in the transaction of what it
    authorises, so a request refused for another reason does not use the code up."""
    number = _mobile(phone)
    wrong = ServiceError(_("验证码不正确或已过期"), field_errors={"code": [_("验证码不正确或已过期")]})
    now = clock.now()
    with transaction.atomic():
        row = (
            PhoneCode.objects.select_for_update()
            .filter(phone=number, used_at__isnull=True, expires_at__gt=now)
            .order_by("-created_at")
            .first()
        )
        if row is None or row.attempts >= CODE_TRIES:
            raise wrong
        row.attempts += 1
        right = crypto.check_code(code.strip(), row.code_hash)
        if right and consume:
            row.used_at = now
        row.save(update_fields=["attempts", "used_at"])  # a wrong try counts: saved before refusing
    if not right:
        raise wrong
    return number


def phone_code_consume(*, phone: str) -> None:
    """Use up the phone's current code (checked with consume=False); refused if it was used meanwhile.
    One statement: the newest live code is found and marked used in the same UPDATE."""
    now = clock.now()
    latest = (
        PhoneCode.objects.filter(phone=phone, used_at__isnull=True, expires_at__gt=now)
        .order_by("-created_at")
        .values("pk")[:1]
    )
    if not PhoneCode.objects.filter(pk=Subquery(latest), used_at__isnull=True).update(used_at=now):
        raise ServiceError(_("验证码不正确或已过期"), field_errors={"code": [_("验证码不正确或已过期")]})


def _token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def citizen_login(*, phone: str, code: str) -> tuple[CitizenAccount, str, dt.datetime]:
    """Phone + SMS code → the citizen's account (made on first login) and a new token (shown once)."""
    number = phone_code_check(phone=phone, code=code)
    now = clock.now()
    key = secrets.token_urlsafe(32)
    expires = now + dt.timedelta(days=TOKEN_DAYS)
    with transaction.atomic():
        account, _created = CitizenAccount.objects.get_or_create(phone=number, defaults={"created_at": now})
        account.last_login_at = now
        account.save(update_fields=["last_login_at"])
        CitizenToken.objects.create(
            account=account, key_hash=_token_hash(key), created_at=now, expires_at=expires
        )
    return account, key, expires


def citizen_token_account(key: str) -> CitizenAccount | None:
    token = (
        CitizenToken.objects.select_related("account")
        .filter(key_hash=_token_hash(key), expires_at__gt=clock.now())
        .first()
    )
    return token.account if token else None


def citizen_logout(*, key: str) -> None:
    CitizenToken.objects.filter(key_hash=_token_hash(key)).delete()


# --------------------------------------------------------------------------- the citizen's rating (CLS-2)


def citizen_rate(
    *, case: Case, channel: str, account: str, sender: str, rating: str, words: str = ""
) -> None:
    """The citizen rates a case waiting for its callback (the channel has checked the case is theirs)."""
    method = "sms" if channel == Channel.SMS else "web"
    requester = case_services.Requester(channel=channel, account=account, external_id=sender)
    with transaction.atomic():
        case_services.case_citizen_rating(
            case=case, requester=requester, rating=rating, method=method, citizen_words=words[:500]
        )
        CallbackInvite.objects.filter(case=case, answered_at__isnull=True).update(
            answered_at=clock.now(), rating=rating
        )


def callback_sms_send(*, case: Case) -> CallbackInvite | None:
    """The callback SMS (回访短信) asking the citizen to reply 1–5; None when the case has no mobile number."""
    phone = normalize_phone(case.citizen_phone)
    if not MOBILE_RE.match(phone) or case.status != CaseStatus.CALLBACK:
        return None
    with transaction.atomic():
        queue_messages(
            [
                build_address_message(
                    channel="sms", address=phone, template="channel_callback", context={"number": case.number}
                )
            ]
        )
        return CallbackInvite.objects.create(case=case, phone=phone, sent_at=clock.now())


def open_callback_invite(*, phone: str) -> CallbackInvite | None:
    """The latest unanswered callback SMS sent to this phone in the last week whose case still waits for it."""
    since = clock.now() - dt.timedelta(days=CALLBACK_REPLY_DAYS)
    return (
        CallbackInvite.objects.select_related("case")
        .filter(phone=phone, answered_at__isnull=True, sent_at__gte=since, case__status=CaseStatus.CALLBACK)
        .order_by("-sent_at")
        .first()
    )
