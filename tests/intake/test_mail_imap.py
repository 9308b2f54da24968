"""E-mail intake against a real IMAP server: a private Dovecot on a free 127.0.0.1 port with a passwd-file user
(scripts/setup.sh --test installs dovecot-imapd); messages put in with IMAP APPEND, read by the periodic job."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

import pytest

from hotline.cases.models import Case, CaseStatus, Channel
from hotline.common.registry import periodic_jobs
from hotline.intake.mail import MailboxConfig, poll_mailbox
from hotline.intake.models import ChannelMessage, ChannelRejection
from hotline.notify.models import Outbox
from tests import ports

DOVECOT = "/usr/sbin/dovecot"
pytestmark = pytest.mark.skipif(
    not Path(DOVECOT).exists() and not os.environ.get("CI"),
    reason="Dovecot is not installed (scripts/setup.sh --test installs dovecot-imapd)",
)
USER, PASSWORD = "mayor@hotline.test", "mail-secret"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa75\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


def free_port() -> int:
    return ports.free_port()


@contextmanager
def private_dovecot() -> Iterator[MailboxConfig]:
    """A Dovecot of our own on a free 127.0.0.1 port, one passwd-file user, maildirs in a temporary folder."""
    root = Path(tempfile.mkdtemp(prefix="hotline-dovecot-"))
    root.chmod(0o755)  # the mail processes run as nobody
    for name in ("run", "state", "mail"):
        (root / name).mkdir()
    shutil.chown(root / "mail", "nobody", "nogroup")
    (root / "passwd").write_text(f"{USER}:{{PLAIN}}{PASSWORD}::::::\n")
    port = free_port()
    (root / "dovecot.conf").write_text(f"""base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={root}/mail/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
""")
    process = subprocess.Popen([DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.DEVNULL)
    try:
        from tests.notify.test_kannel import wait_port

        wait_port(port)
        yield MailboxConfig(host="127.0.0.1", port=port, user=USER, password=PASSWORD)
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def dovecot() -> Iterator[MailboxConfig]:
    with private_dovecot() as config:
        yield config


def mail(
    subject: str, body: str, *, sender: str = "zhang.san@example.cn", message_id: str | None = None
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = formataddr(("张三", sender))
    message["To"] = USER
    message["Subject"] = subject  # non-ASCII: encoded as RFC 2047 by the email package
    message["Message-ID"] = message_id or make_msgid(domain="example.cn")
    message.set_content(body)
    return message


def deliver(config: MailboxConfig, *messages: EmailMessage) -> None:
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted(config.host, config.port).login(config.user, config.password) as box:
        for message in messages:
            box.append(message.as_bytes(), "INBOX", dt=dt.datetime.now(dt.UTC))


def folder_size(config: MailboxConfig, folder: str) -> int:
    from imap_tools import MailBoxUnencrypted

    with MailBoxUnencrypted(config.host, config.port).login(
        config.user, config.password, initial_folder=folder
    ) as box:
        return len(box.numbers())


def test_mail_becomes_a_request_once_with_its_allowed_attachments(dovecot, city, channel_templates):
    first = mail(
        "投诉：幸福社区路灯坏了一个月",
        "梨园街道幸福社区3栋门口路灯坏了一个月，晚上很黑，老人出行不便，请尽快维修。",
    )
    first.add_attachment(PNG, maintype="image", subtype="png", filename="路灯照片.png")
    first.add_attachment(
        b"<html><script>alert(1)</script></html>", maintype="image", subtype="jpeg", filename="x.jpg"
    )
    copy = mail("投诉：幸福社区路灯坏了一个月", "同一封邮件的第二份副本", message_id=first["Message-ID"])
    broken = EmailMessage()  # no sender, no text: refused, counted
    broken["Message-ID"] = make_msgid()
    deliver(dovecot, first, copy, broken)

    assert poll_mailbox(dovecot) == 1
    case = Case.objects.get(channel=Channel.EMAIL)
    assert case.title == "投诉：幸福社区路灯坏了一个月" and case.case_type.code == "complaint"
    assert case.citizen_email == "zhang.san@example.cn" and case.citizen_name == "张三"
    assert case.status == CaseStatus.DRAFT and case.intake_by_id is None
    assert [a.name for a in case.attachments.all()] == ["路灯照片.png"]
    assert case.origin["refused_attachments"] == ["x.jpg"] and "未收取的附件：x.jpg" in case.content
    message = ChannelMessage.objects.get(channel=Channel.EMAIL)
    assert message.external_id == first["Message-ID"] and message.account == f"{USER}@127.0.0.1"
    assert message.reply_due_at - message.received_at == dt.timedelta(hours=24)
    ack = Outbox.objects.get(channel="email", template="channel_received")
    assert ack.address == "zhang.san@example.cn" and case.number in ack.body and "******" in ack.body
    assert ChannelRejection.objects.filter(channel=Channel.EMAIL, code="bad_message").count() == 1
    assert folder_size(dovecot, "INBOX") == 0 and folder_size(dovecot, "Processed") == 3

    # The same message again (e.g. copied back by a person, or the move was lost): still one request.
    deliver(dovecot, mail("投诉：幸福社区路灯坏了一个月", "再次投递", message_id=first["Message-ID"]))
    assert poll_mailbox(dovecot) == 0 and Case.objects.filter(channel=Channel.EMAIL).count() == 1


def test_the_periodic_job_polls_the_configured_mailbox(dovecot, city, channel_templates, monkeypatch):
    job = next(j for j in periodic_jobs() if j.name == "intake-mailbox")
    job.run()  # not configured: nothing happens
    monkeypatch.setenv("HOTLINE_MAIL_IMAP_HOST", dovecot.host)
    monkeypatch.setenv("HOTLINE_MAIL_IMAP_PORT", str(dovecot.port))
    monkeypatch.setenv("HOTLINE_MAIL_IMAP_USER", dovecot.user)
    monkeypatch.setenv("HOTLINE_MAIL_IMAP_PASSWORD", dovecot.password)
    deliver(dovecot, mail("咨询社保卡补办", "请问社保卡丢了去哪里补办，需要带什么材料？"))
    job.run()
    case = Case.objects.get(channel=Channel.EMAIL)
    assert case.case_type.code == "consult"
    monkeypatch.setenv("HOTLINE_MAIL_IMAP_PORT", str(free_port()))  # the mailbox down: logged, no exception
    job.run()
