"""Answering the mayor's mailbox by e-mail, a real round trip on 127.0.0.1: the citizen's mail comes in through a
private Dovecot (IMAP), the agent's answer goes out through the outbox to an SMTP server (aiosmtpd) threaded to it
(In-Reply-To / References), and the citizen's reply to that answer — put back into Dovecot — lands on the same case,
on a fresh 24-hour reply clock that the next answer stops."""

from __future__ import annotations

import datetime as dt
import email
import email.policy
from collections.abc import Iterator
from typing import Any

import pytest

from hotline.cases import services as case_services
from hotline.cases.lifecycle import Action
from hotline.cases.models import Case, CaseEvent, Channel
from hotline.common.models import AuditLog
from hotline.intake.mail import poll_mailbox
from hotline.intake.models import ChannelMessage, MailAnswer
from hotline.notify.models import Outbox, OutboxStatus
from hotline.notify.services import deliver_due
from tests import ports
from tests.conftest import fresh
from tests.intake.test_mail_imap import deliver, mail, private_dovecot

pytestmark = pytest.mark.skipif(
    __import__("importlib").util.find_spec("aiosmtpd") is None, reason="aiosmtpd is not installed"
)
PORTS = range(18700, 18800)  # this suite's share of 127.0.0.1


def _port() -> int:
    return ports.free_port(PORTS)


class Inbox:
    """What the SMTP server received, parsed."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(email.message_from_bytes(envelope.content, policy=email.policy.default))
        return "250 OK"


@pytest.fixture
def smtp(settings: Any) -> Iterator[Inbox]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = _port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.DEFAULT_FROM_EMAIL = "12345@hotline.test"
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture
def dovecot() -> Iterator[Any]:
    with private_dovecot() as config:
        yield config


def test_answer_by_mail_and_the_reply_comes_back_to_the_same_case(
    dovecot, smtp, city, people, channel_templates, client
):
    first = mail("咨询：小区加装电梯补贴怎么申请", "请问老旧小区加装电梯的补贴向哪个部门申请，需要哪些材料？")
    deliver(dovecot, first)
    assert poll_mailbox(dovecot) == 1
    case = Case.objects.get(channel=Channel.EMAIL)
    asked = ChannelMessage.objects.get(channel=Channel.EMAIL, case=case)
    assert asked.reply_due_at - asked.received_at == dt.timedelta(hours=24) and asked.first_reply_at is None

    client.force_login(people.agent)
    panel = client.get(f"/intake/case/{case.pk}/mail-answer/")
    assert panel.status_code == 200 and "加装电梯的补贴" in panel.content.decode()
    empty = client.post(f"/intake/case/{case.pk}/mail-answer/", {"text": "  "})
    assert empty.status_code == 400 and not MailAnswer.objects.exists()
    answered = client.post(
        f"/intake/case/{case.pk}/mail-answer/", {"text": "请向所在区住建局提交申请，材料见区政府网站。"}
    )
    assert answered.status_code == 200 and "答复邮件已发送" in answered.content.decode()
    answer = MailAnswer.objects.get(case=case)
    asked.refresh_from_db()
    assert asked.first_reply_at == answer.at  # the 24-hour clock stopped
    assert AuditLog.objects.filter(action="mail_answer", object_id=str(case.pk)).exists()

    assert deliver_due() >= 1
    sent = Outbox.objects.get(template="channel_mail_answer")
    assert sent.status == OutboxStatus.SENT
    [out] = [m for m in smtp.messages if m["Message-ID"] == answer.message_id]
    assert out["To"] == "zhang.san@example.cn"
    assert out["In-Reply-To"] == first["Message-ID"] and first["Message-ID"] in out["References"]
    assert case.number in str(out["Subject"]) and "加装电梯" in str(out["Subject"])
    assert "区住建局" in out.get_content()

    # The citizen answers the answer: threaded to our Message-ID, new text, a new Message-ID.
    reply = mail("Re: " + str(out["Subject"]), "谢谢。请问我们小区属于哪个区？地址是梨园路88号。")
    reply["In-Reply-To"] = out["Message-ID"]
    reply["References"] = f"{out['References']} {out['Message-ID']}"
    deliver(dovecot, reply)
    assert poll_mailbox(dovecot) == 0  # no second case
    assert Case.objects.filter(channel=Channel.EMAIL).count() == 1
    event = CaseEvent.objects.filter(case=case, action=Action.CITIZEN_MESSAGE).get()
    assert "梨园路88号" in event.opinion
    later = ChannelMessage.objects.get(channel=Channel.EMAIL, external_id=reply["Message-ID"])
    assert later.case_id == case.pk and later.kind == "append"
    assert later.reply_due_at - later.received_at == dt.timedelta(hours=24) and later.first_reply_at is None

    deliver(dovecot, reply)  # delivered twice: nothing twice
    assert poll_mailbox(dovecot) == 0
    assert CaseEvent.objects.filter(case=case, action=Action.CITIZEN_MESSAGE).count() == 1

    second = client.post(f"/intake/case/{case.pk}/mail-answer/", {"text": "梨园路88号属于东城区。"})
    assert second.status_code == 200
    later.refresh_from_db()
    assert later.first_reply_at is not None
    deliver_due()
    out2 = smtp.messages[-1]
    assert out2["In-Reply-To"] == reply["Message-ID"]
    assert out2["References"].split() == [first["Message-ID"], out["Message-ID"], reply["Message-ID"]]


def test_a_mail_request_archived_at_once_sends_the_answer_by_mail(
    city, people, channel_templates, django_capture_on_commit_callbacks
):
    from hotline.intake import services

    delivery = services.Delivery(
        channel=Channel.EMAIL, account="mayor@hotline.test", external_id="<q1@example.cn>",
        sender="li.si@example.cn", kind="email", text="公积金提取需要什么材料？",
        raw="Message-ID: <q1@example.cn>\nSubject: 公积金提取\n\n公积金提取需要什么材料？",
    )  # fmt: skip
    data = case_services.CaseInput(
        case_type=services.case_type("consult"), content="公积金提取需要什么材料？请告知。",
        channel=Channel.EMAIL, citizen_email="li.si@example.cn", title="公积金提取",
    )  # fmt: skip
    case = services.channel_request_submit(delivery=delivery, data=data).case
    assert case is not None
    with django_capture_on_commit_callbacks(execute=True):
        case_services.case_take_intake_action(
            case=fresh(case), actor=people.agent, action=Action.ARCHIVE, expected_version=None,
            answer="携带身份证和购房合同到公积金中心办理。",
        )  # fmt: skip
    answer = MailAnswer.objects.get(case=case)
    assert answer.in_reply_to == "<q1@example.cn>" and answer.author == people.agent
    row = Outbox.objects.get(pk=answer.outbox_id)
    assert row.address == "li.si@example.cn" and "购房合同" in row.body
    assert row.headers["In-Reply-To"] == "<q1@example.cn>" and row.headers["Message-ID"] == answer.message_id


def test_only_mail_cases_and_agents_get_the_answer_form(city, people, client):
    from tests.conftest import submitted_case

    phone_case = submitted_case(city, people)
    client.force_login(people.agent)
    response = client.post(f"/intake/case/{phone_case.pk}/mail-answer/", {"text": "答复"})
    assert response.status_code == 400 and not MailAnswer.objects.exists()
    client.force_login(people.tax)  # another unit: the case is not theirs
    assert client.get(f"/intake/case/{phone_case.pk}/mail-answer/").status_code == 404
