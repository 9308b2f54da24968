"""Answering a mailbox request by e-mail (MAIL-1): the agent's answer goes to the citizen's address as a reply in
their thread (In-Reply-To = the citizen's latest Message-ID, References = that mail's References plus it), with a
Message-ID of ours kept in MailAnswer; the citizen's reply to it comes back through the IMAP intake (mail.ingest),
is found by its In-Reply-To / References and added to the same case, on a fresh 24-hour reply clock that the next
answer stops.

Sent through the notify outbox (template `channel_mail_answer`, editable by staff); an answer given when the agent
archives a mailbox request at once (解决归档) is sent automatically (apps.on_case_transitioned).
"""

from __future__ import annotations

import re
from email.parser import HeaderParser
from email.policy import default as default_policy
from email.utils import make_msgid

from django.conf import settings
from django.db import transaction
from django.utils.translation import gettext as _

from hotline.cases.models import Case, Channel
from hotline.common import clock
from hotline.common.audit import audit_record
from hotline.common.errors import ServiceError
from hotline.notify.services import TemplateMissing, build_address_message, queue_messages
from hotline.orgs.models import Role, User

from .models import ChannelMessage, MailAnswer

MAIL_CHANNELS = (Channel.EMAIL, Channel.MAYOR_MAILBOX)
ANSWER_ROLES = (Role.AGENT, Role.MONITOR, Role.DISPATCHER)
MAX_ANSWER = 20000
MAX_REFERENCES = 20
_MSGID = re.compile(r"<[^<>\s]{1,250}>")


def may_answer(user: User | None, case: Case) -> bool:
    return bool(
        user is not None
        and user.has_role(*ANSWER_ROLES)
        and case.channel in MAIL_CHANNELS
        and case.citizen_email
    )


def message_ids(value: str) -> list[str]:
    """The Message-IDs in a header value (In-Reply-To, References), in order."""
    return _MSGID.findall(value or "")


def _thread(record: ChannelMessage | None) -> tuple[str, list[str], str]:
    """(Message-ID, References, subject) of the citizen's mail, read from its stored raw headers."""
    if record is None:
        return "", [], ""
    headers = HeaderParser(policy=default_policy).parsestr(record.raw, headersonly=True)
    own = record.external_id if _MSGID.fullmatch(record.external_id) else ""
    refs = message_ids(str(headers.get("References", "") or ""))
    if not refs:
        refs = message_ids(str(headers.get("In-Reply-To", "") or ""))
    return own, refs, str(headers.get("Subject", "") or "")


def _domain() -> str:
    return settings.DEFAULT_FROM_EMAIL.rpartition("@")[2].strip(">") or "localhost"


def mail_answer_send(*, case: Case, actor: User | None, text: str) -> MailAnswer:
    """E-mail `text` to the citizen as a reply to their latest mail on this case; stops the case's open e-mail
    reply clocks (the first reply of each message still waiting)."""
    text = (text or "").strip()
    if not text or len(text) > MAX_ANSWER:
        raise ServiceError(_("请填写答复内容"), field_errors={"text": [_("答复内容为1至20000字")]})
    if case.channel not in MAIL_CHANNELS or not case.citizen_email:
        raise ServiceError(_("该工单不是邮件诉求或没有市民邮箱"), code="bad_channel")
    latest = (
        ChannelMessage.objects.filter(channel__in=MAIL_CHANNELS, case=case)
        .order_by("-received_at", "-id")
        .first()
    )
    parent, references, subject = _thread(latest)
    if parent:
        references = [*references[-(MAX_REFERENCES - 1) :], parent]
    own = make_msgid(idstring="12345", domain=_domain())
    now = clock.now()
    try:
        row = build_address_message(
            channel="email",
            address=case.citizen_email,
            template="channel_mail_answer",
            context={"number": case.number, "answer": text, "subject": subject or case.title or case.number},
        )
    except TemplateMissing as exc:
        raise ServiceError(_("邮件答复模板未启用"), code="misconfigured") from exc
    row.headers = {"Message-ID": own}
    if parent:
        row.headers.update({"In-Reply-To": parent, "References": " ".join(references)})
    with transaction.atomic():
        [queued] = queue_messages([row])
        answer = MailAnswer.objects.create(
            case=case, message_id=own, in_reply_to=parent, address=case.citizen_email, text=text,
            author=actor, outbox_id=queued.pk, at=now,
        )  # fmt: skip
        ChannelMessage.objects.filter(
            channel__in=MAIL_CHANNELS, case=case, first_reply_at__isnull=True
        ).update(first_reply_at=now, reply=text[:200])
        audit_record(
            actor=actor, action="mail_answer", obj=case, summary=f"邮件答复市民：{case.number}"[:255],
            changes={"message_id": own, "in_reply_to": parent},
        )  # fmt: skip
    return answer


def case_for_reply(ids: list[str]) -> Case | None:
    """The case a citizen's mail replies to: one of our answers, or one of their own earlier mails, named in its
    In-Reply-To / References."""
    ids = [i for i in ids if i][:50]
    if not ids:
        return None
    answer = MailAnswer.objects.filter(message_id__in=ids).select_related("case").order_by("-at").first()
    if answer is not None:
        return answer.case
    earlier = (
        ChannelMessage.objects.filter(channel__in=MAIL_CHANNELS, external_id__in=ids, case__isnull=False)
        .select_related("case")
        .order_by("-id")
        .first()
    )
    return earlier.case if earlier else None
