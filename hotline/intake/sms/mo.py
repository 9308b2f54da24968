"""Mobile-originated SMS from Kannel (SMS-1, receiving side).

smsbox calls our endpoint for every MO message through an `sms-service` get-url (see README: "SMS in"):

    get-url = "http://hotline/intake/sms/kannel/?key=SECRET&id=%I&from=%p&to=%P&charset=%C&coding=%c&text=%a"

`%I` is Kannel's message id (a UUID): it keys the delivery, so a get-url retried by smsbox makes no second case.
With `mo-recode = true` smsbox turns UCS-2 Chinese into UTF-8; any other charset it reports is decoded here.
The key is the deployment's MO secret (`HOTLINE_KANNEL_MO_SECRET`, by default derived from DJANGO_SECRET_KEY).

A reply of 1–5 from a phone that got a callback SMS records the citizen's rating (CLS-2); other text from a
phone with an unfinished SMS request is added to that case; otherwise it becomes a request (keyword routing as
data, KeywordRoute) acknowledged with the case number through the outbox.
"""

from __future__ import annotations

import codecs
import hashlib
import hmac
import urllib.parse

from django.conf import settings
from django.db import transaction

from hotline.cases.models import Channel, Rating
from hotline.common.errors import ServiceError
from hotline.common.validators import normalize_phone
from hotline.notify.services import build_address_message, queue_messages

from .. import services
from ..models import ChannelMessage
from . import outbound


def mo_secret() -> str:
    configured = getattr(settings, "HOTLINE_KANNEL_MO_SECRET", "")
    if configured:
        return str(configured)
    return hmac.new(settings.SECRET_KEY.encode(), b"kannel-mo-secret", hashlib.sha256).hexdigest()[:32]


def valid_mo_key(key: str) -> bool:
    return bool(key) and hmac.compare_digest(key.encode(), mo_secret().encode())


def decode_query(query_string: str) -> dict[str, str]:
    """The get-url's parameters, `text` decoded from the charset Kannel names (UTF-8 after mo-recode)."""
    raw = dict(urllib.parse.parse_qsl(query_string, keep_blank_values=True, encoding="latin-1"))
    charset = raw.get("charset", "") or "UTF-8"
    try:
        codecs.lookup(charset)
    except LookupError:
        charset = "UTF-8"
    if raw.get("coding") == "2" and charset.upper() in {"UTF-8", ""} and "\x00" in raw.get("text", ""):
        charset = "UTF-16BE"  # UCS-2 passed through without mo-recode
    params = {k: v.encode("latin-1").decode("utf-8", "replace") for k, v in raw.items() if k != "text"}
    params["text"] = raw.get("text", "").encode("latin-1").decode(charset, "replace")
    return params


def _reply(phone: str, template: str, context: dict[str, str]) -> None:
    queue_messages([build_address_message(channel="sms", address=phone, template=template, context=context)])


def receive(*, account: str, message_id: str, sender: str, text: str, raw: str) -> ChannelMessage:
    """Handle one MO message once; returns its delivery row (a retry returns the first one's)."""
    phone = normalize_phone(sender)
    text = text.strip()
    delivery = services.Delivery(
        channel=Channel.SMS, account=account, external_id=message_id, sender=phone, text=text, raw=raw
    )
    invite = services.open_callback_invite(phone=phone) if text in services.SMS_RATINGS else None
    if invite is not None or text in services.SMS_RATINGS or len(text) < 2:
        with transaction.atomic():
            record, created = services._record(delivery, services.clock.now())
            if not created:
                return record
            if invite is None:
                _reply(phone, "channel_sms_help", {})
            else:
                rating = services.SMS_RATINGS[text]
                services.citizen_rate(
                    case=invite.case, channel=Channel.SMS, account=account, sender=phone, rating=rating
                )
                _reply(
                    phone,
                    "channel_rating_thanks",
                    {"number": invite.case.number, "rating": str(Rating(rating).label)},
                )
                record.case = invite.case
            record.kind = "rating" if invite else "unrecognised"
            record.acknowledged_at = services.clock.now()
            record.save(update_fields=["case", "kind", "acknowledged_at"])
            return record
    # Sent to a unit's extension (service number + its digits): a reply to what the unit wrote goes back to it;
    # anything else is a request of the citizen's own, routed to that unit; either is acknowledged from the
    # extension, so the citizen's next message reaches the unit again.
    extension = outbound.extension_of_account(account)
    if extension is not None and (routed := outbound.extension_reply(delivery=delivery, extension=extension)):
        return routed
    ack_from = outbound.from_number(extension) if extension is not None else ""
    if (open_case := services.open_sms_case(phone=phone)) is not None:
        return services.channel_message_append(
            delivery=delivery, case=open_case, ack_sms=phone, ack_from=ack_from
        )
    case_type = services.type_from_text(text)
    if case_type is None:
        raise ServiceError("no case type configured for SMS requests", code="misconfigured")
    data = services.case_services.CaseInput(
        case_type=case_type,
        content=text,
        channel=Channel.SMS,
        citizen_phone=phone,
        title=text[:30],
        origin=outbound.extension_origin(extension) if extension is not None else None,
    )
    return services.channel_request_submit(
        delivery=delivery, data=data, ack_sms=phone, ack_from=ack_from
    ).message
