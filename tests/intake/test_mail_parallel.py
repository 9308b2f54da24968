"""E-mail intake with several worker threads (PostgreSQL, committed data: each thread has its own connection): every
message one request, copies of one Message-ID one request, all handled mail moved, a failing message left in the
folder with the others moved."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.db import connection

from hotline.cases.models import Case, Channel
from hotline.intake import mail as mail_intake
from hotline.intake.mail import MailboxConfig, mail_workers, poll_mailbox
from hotline.intake.models import ChannelMessage
from tests.intake.test_mail_imap import deliver, folder_size, mail, private_dovecot

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="threads need PostgreSQL")


@pytest.fixture
def mailbox() -> Iterator[MailboxConfig]:
    with private_dovecot() as config:
        yield config


def test_one_transaction_open_means_one_worker(db):
    assert mail_workers() == 1  # the test's transaction: other connections could not see its rows


@pytest.mark.django_db(transaction=True)
def test_workers_make_each_request_once_and_move_what_they_handled(mailbox, city, channel_templates):
    messages = [
        mail(
            f"投诉：幸福社区{i}栋路灯坏了",
            f"第{i}封：幸福社区{i}栋门口路灯坏了一个月，晚上很黑，请尽快维修。",
        )
        for i in range(12)
    ]
    copies = [
        mail(
            "投诉：同一封邮件",
            "同一封邮件的另一份副本，内容不同但编号相同。",
            message_id=messages[0]["Message-ID"],
        )
    ]
    deliver(mailbox, *messages, *copies)
    assert mail_workers() == 4
    assert poll_mailbox(mailbox, workers=4) == 12
    assert Case.objects.filter(channel=Channel.EMAIL).count() == 12
    assert ChannelMessage.objects.filter(channel=Channel.EMAIL).count() == 12
    assert folder_size(mailbox, "INBOX") == 0 and folder_size(mailbox, "Processed") == 13
    assert poll_mailbox(mailbox, workers=4) == 0


@pytest.mark.django_db(transaction=True)
def test_a_failing_message_stays_in_the_folder_and_the_others_are_moved(
    mailbox, city, channel_templates, monkeypatch
):
    deliver(
        mailbox,
        *(
            mail(f"咨询社保卡补办{i}", f"第{i}封：请问社保卡丢了去哪里补办，需要带什么材料？")
            for i in range(4)
        ),
    )
    real = mail_intake.ingest

    def ingest(*, config, message, raw):
        if "补办2" in (message.subject or ""):
            raise RuntimeError("database went away")
        return real(config=config, message=message, raw=raw)

    monkeypatch.setattr(mail_intake, "ingest", ingest)
    with pytest.raises(RuntimeError):
        poll_mailbox(mailbox, workers=2)
    handled = Case.objects.filter(channel=Channel.EMAIL).count()
    assert 1 <= handled <= 3 and folder_size(mailbox, "Processed") == handled
    assert folder_size(mailbox, "INBOX") == 4 - handled
    monkeypatch.setattr(mail_intake, "ingest", real)
    assert poll_mailbox(mailbox, workers=2) == 4 - handled  # read again: the rest, nothing twice
    assert Case.objects.filter(channel=Channel.EMAIL).count() == 4
