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

import functools
import hashlib
import itertools
import logging
import os
import queue
import re
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, connections, transaction
from django.utils.html import strip_tags

from hotline.cases import services as case_services
from hotline.cases.models import Case, Channel
from hotline.common import filetypes
from hotline.common.errors import ServiceError

from . import mail_answers, services
from .models import ChannelMessage, ChannelRejection

if TYPE_CHECKING:
    from imap_tools import MailMessage

logger = logging.getLogger(__name__)
MAX_FILES = 9
FETCH_BULK = 50  # messages per IMAP FETCH (and in memory at once)


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


def mail_workers() -> int:
    """Threads ingesting one poll's messages side by side (`HOTLINE_MAIL_WORKERS`, default 4): most of a
    message's time is waiting for the database, so a few connections at once multiply the throughput. One on
    SQLite (a single writer), and one inside an open transaction (the other connections could not see it)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return 1
    try:
        return max(1, min(16, int(os.environ.get("HOTLINE_MAIL_WORKERS", "4"))))
    except ValueError:
        return 4


def _ingest_each(
    config: MailboxConfig, messages: list[Any], workers: int
) -> tuple[list[str], int, Exception | None]:
    """Ingest the fetched messages (each in its own transaction; idempotent by Message-ID) with `workers`
    threads; returns the uids handled, how many new requests were made and the first error (the messages it
    stopped are left in the folder for the next poll)."""
    pending: queue.SimpleQueue[Any] = queue.SimpleQueue()
    for message in messages:
        pending.put(message)
    lock = threading.Lock()
    done: list[str] = []
    made = 0
    errors: list[Exception] = []

    def work(own_connection: bool) -> None:
        nonlocal made
        try:
            while not errors:
                try:
                    message = pending.get_nowait()
                except queue.Empty:
                    return
                raw = getattr(message, "raw", None) or message.obj.as_bytes()
                try:  # the request's own transaction (channel_request_submit), no savepoint around it
                    result = ingest(config=config, message=message, raw=raw)
                except Exception as exc:  # noqa: BLE001  (re-raised by the poll once the others are moved)
                    with lock:
                        errors.append(exc)
                    return
                with lock:
                    made += 1 if result is not None and result.created else 0
                    if message.uid:
                        done.append(message.uid)
        finally:
            if own_connection:
                connections.close_all()  # this thread's connection

    if workers <= 1 or len(messages) <= 1:
        work(own_connection=False)
    else:
        threads = [threading.Thread(target=work, args=(True,)) for _ in range(min(workers, len(messages)))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return done, made, errors[0] if errors else None


@functools.cache
def _keeping_raw() -> type[MailMessage]:
    """imap-tools' message class keeping the fetched bytes (`raw`): serializing the parsed message again for the
    delivery row and the Message-ID-less key cost ~5 % of a mail's CPU (header folding)."""
    from imap_tools import MailMessage  # noqa: F811  (imported where the mail intake runs only)

    class RawMailMessage(MailMessage):
        def __init__(self, fetch_data: list[Any]) -> None:
            super().__init__(fetch_data)
            self.raw: bytes = self._get_message_data_parts(fetch_data)[0]

    return RawMailMessage


def poll_mailbox(config: MailboxConfig, *, limit: int = 200, workers: int | None = None) -> int:
    """Read up to `limit` messages from the folder (fetched FETCH_BULK at a time), make their requests
    (`mail_workers()` at once), move the handled ones to the processed folder (one MOVE); returns how many new
    requests were made. A message that fails stops the poll after the others are moved (it is read again)."""
    from imap_tools import AND, MailBox, MailBoxUnencrypted

    box_class = MailBox if config.ssl else MailBoxUnencrypted
    with box_class(config.host, config.port).login(
        config.user, config.password, initial_folder=config.folder
    ) as box:
        box.email_message_class = _keeping_raw()
        if not box.folder.exists(config.processed):
            box.folder.create(config.processed)
        fetched = box.fetch(AND(all=True), limit=limit, mark_seen=False, bulk=FETCH_BULK)
        done: list[str] = []
        made, error = 0, None
        while error is None and (chunk := list(itertools.islice(fetched, FETCH_BULK))):
            handled, new, error = _ingest_each(config, chunk, mail_workers() if workers is None else workers)
            done += handled
            made += new
        if done:
            box.move(done, config.processed)
    if error is not None:
        raise error
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
