"""E-mail intake (MAIL-1): poll an IMAP mailbox; every message becomes a request with its attachments.

Idempotent by Message-ID (a message without one: the SHA-256 of its bytes): a message read again — the poll
stopped before moving it, or a copy delivered twice — finds the request it made the first time. Processed mail
is moved to `HOTLINE_MAIL_PROCESSED_FOLDER` (made if missing). Chinese subjects and file names (RFC 2047 / 2231)
are decoded by imap-tools. Attachments outside the allow-list (common.filetypes, by content) or over the size
limit are left out and named on the request, never half-saved.

Configured by environment variables (off when HOTLINE_MAIL_IMAP_HOST is empty):
HOTLINE_MAIL_IMAP_HOST, _PORT (143), _USER, _PASSWORD, _SSL (0/1), HOTLINE_MAIL_FOLDER (INBOX),
HOTLINE_MAIL_PROCESSED_FOLDER (Processed). Registered as the periodic job "intake-mailbox" (every 60 s).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils.html import strip_tags

from hotline.cases import services as case_services
from hotline.cases.models import Case, Channel
from hotline.common import filetypes
from hotline.common.errors import ServiceError

from . import mail_answers, services
from .models import ChannelMessage, ChannelRejection

logger = logging.getLogger(__name__)
MAX_FILES = 9


@dataclass(frozen=True)
class MailboxConfig:
    host: str
    port: int
    user: str
    password: str
    ssl: bool = False
    folder: str = "INBOX"
    processed: str = "Processed"

    @property
    def account(self) -> str:
        return f"{self.user}@{self.host}"[:64]

    @classmethod
    def from_env(cls) -> MailboxConfig | None:
        host = os.environ.get("HOTLINE_MAIL_IMAP_HOST", "")
        if not host:
            return None
        return cls(
            host=host,
            port=int(os.environ.get("HOTLINE_MAIL_IMAP_PORT", "143")),
            user=os.environ.get("HOTLINE_MAIL_IMAP_USER", ""),
            password=os.environ.get("HOTLINE_MAIL_IMAP_PASSWORD", ""),
            ssl=os.environ.get("HOTLINE_MAIL_IMAP_SSL", "0") == "1",
            folder=os.environ.get("HOTLINE_MAIL_FOLDER", "INBOX"),
            processed=os.environ.get("HOTLINE_MAIL_PROCESSED_FOLDER", "Processed"),
        )


def _message_key(message: object, raw: bytes) -> str:
    headers = getattr(message, "headers", {}) or {}
    values = headers.get("message-id") or ()
    value = (values[0] if values else "").strip()
    if value and len(value) <= 128:
        return value
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def _attachments(message: object) -> tuple[list[SimpleUploadedFile], list[str]]:
    limit = settings.HOTLINE_MAX_ATTACHMENT_BYTES
    kept: list[SimpleUploadedFile] = []
    refused: list[str] = []
    for part in getattr(message, "attachments", []):
        name = (part.filename or "附件")[:200]
        upload = SimpleUploadedFile(name, part.payload, content_type=part.content_type)
        if len(kept) >= MAX_FILES or len(part.payload) > limit or filetypes.check(upload, name) is None:
            refused.append(name)
        else:
            kept.append(upload)
    return kept, refused


def ingest(*, config: MailboxConfig, message: object, raw: bytes) -> services.Submitted | None:
    """One e-mail → one request (or the one it made before). None: refused (recorded as a rejection)."""
    sender = (getattr(message, "from_", "") or "").strip().lower()
    subject = re.sub(r"\s+", " ", getattr(message, "subject", "") or "").strip()
    text = (getattr(message, "text", "") or "").strip() or strip_tags(
        getattr(message, "html", "") or ""
    ).strip()
    if not sender or not (subject or text):
        ChannelRejection.objects.create(channel=Channel.EMAIL, account=config.account, code="bad_message")
        return None
    files, refused = _attachments(message)
    content = text or subject
    if refused:
        content += "\n\n（未收取的附件：" + "、".join(refused) + "）"
    delivery = services.Delivery(
        channel=Channel.EMAIL,
        account=config.account,
        external_id=_message_key(message, raw),
        sender=sender[:128],
        kind="email",
        text=content[:5000],
        raw=raw[:20000].decode("utf-8", "replace"),
    )
    earlier = mail_answers.case_for_reply(_thread_ids(message))
    if earlier is not None and earlier.status not in services.FINISHED:
        return _append(delivery=delivery, case=earlier, files=files)
    name_values = getattr(message, "from_values", None)
    case_type = services.type_from_text(f"{subject} {text}")
    if case_type is None:
        raise ServiceError("no case type configured for e-mail requests", code="misconfigured")
    data = services.case_services.CaseInput(
        case_type=case_type,
        content=content[:20000],
        channel=Channel.EMAIL,
        citizen_email=sender[:254],
        citizen_name=(getattr(name_values, "name", "") or "")[:50],
        title=(subject or text)[:100],
        origin={"refused_attachments": refused} if refused else None,
    )
    try:
        return services.channel_request_submit(delivery=delivery, data=data, files=files, ack_email=sender)
    except ServiceError as exc:
        logger.warning("mail %s refused: %s", delivery.external_id, exc.message)
        ChannelRejection.objects.create(
            channel=Channel.EMAIL, account=config.account, code=(exc.code or "refused")[:32]
        )
        return None


def _thread_ids(message: object) -> list[str]:
    headers = getattr(message, "headers", {}) or {}
    values = [*headers.get("in-reply-to", ()), *headers.get("references", ())]
    return mail_answers.message_ids(" ".join(values))


def _append(
    *, delivery: services.Delivery, case: Case, files: list[SimpleUploadedFile]
) -> services.Submitted | None:
    """The citizen's reply in the thread of their case: on that case's timeline (with its files), waiting for an
    answer on the 24-hour clock."""
    seen = ChannelMessage.objects.filter(
        channel=delivery.channel, account=delivery.account[:64], external_id=delivery.external_id[:128]
    ).first()
    if seen is not None:  # read again (the poll stopped before moving it): nothing twice
        return services.Submitted(message=seen, case=case, query_password=None, created=False)
    try:
        with transaction.atomic():
            record = services.channel_message_append(delivery=delivery, case=case, reply_clock=True)
            if files:
                requester = case_services.Requester(
                    channel=delivery.channel, account=delivery.account, external_id=delivery.sender
                )
                try:
                    with transaction.atomic():
                        case_services.case_citizen_attach(case=case, requester=requester, files=files)
                except ServiceError as exc:  # the text is kept; the files the case cannot take are named
                    logger.warning("mail reply %s: files refused: %s", delivery.external_id, exc.message)
    except ServiceError as exc:
        logger.warning("mail reply %s refused: %s", delivery.external_id, exc.message)
        ChannelRejection.objects.create(
            channel=Channel.EMAIL, account=delivery.account, code=(exc.code or "refused")[:32]
        )
        return None
    return services.Submitted(message=record, case=case, query_password=None, created=False)


def poll_mailbox(config: MailboxConfig, *, limit: int = 200) -> int:
    """Read up to `limit` messages from the folder, make their requests, move them to the processed folder;
    returns how many new requests were made."""
    from imap_tools import AND, MailBox, MailBoxUnencrypted

    box_class = MailBox if config.ssl else MailBoxUnencrypted
    made = 0
    with box_class(config.host, config.port).login(
        config.user, config.password, initial_folder=config.folder
    ) as box:
        if not box.folder.exists(config.processed):
            box.folder.create(config.processed)
        done: list[str] = []
        for message in box.fetch(AND(all=True), limit=limit, mark_seen=False, bulk=50):
            with transaction.atomic():
                result = ingest(config=config, message=message, raw=message.obj.as_bytes())
            if result is not None and result.created:
                made += 1
            if message.uid:
                done.append(message.uid)
        if done:
            box.move(done, config.processed)
    return made


def poll_configured_mailbox() -> int:
    config = MailboxConfig.from_env()
    if config is None:
        return 0
    try:
        return poll_mailbox(config)
    except OSError as exc:  # the mailbox is down: the next poll tries again
        logger.warning("mailbox %s unreachable: %s", config.account, exc)
        return 0
