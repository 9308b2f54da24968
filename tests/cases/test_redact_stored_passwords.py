"""INT-6: query passwords that rows written before the sealed outbox still hold — the citizen SMS body and its
copy on the case timeline — are redacted by the data migrations (and `manage.py redact_stored_secrets`)."""

from __future__ import annotations

import importlib
from io import StringIO

from django.apps import apps
from django.core.management import call_command
from django.test import Client

from hotline.cases import services
from hotline.cases.lifecycle import Action
from hotline.cases.models import CaseEvent
from hotline.cases.services.core import _event
from hotline.common import clock, crypto
from hotline.notify import services as notify
from hotline.notify.models import MessageTemplate, Outbox, OutboxStatus
from tests.conftest import as_user, case_input
from tests.notify.test_outbox import NOON, FlakyGateway

PASSWORD = "20481024"
NOTIFY_MIGRATION = "hotline.notify.migrations.0006_redact_stored_query_passwords"
CASES_MIGRATION = "hotline.cases.migrations.0010_redact_query_passwords_on_timeline"


def _old_way_sms(case, template="citizen_received", password=PASSWORD, **context):
    """What the code before the sealed outbox wrote: the rendered text, password included, in the outbox body
    and on the timeline."""
    message = notify.build_address_message(
        channel="sms",
        address=case.citizen_phone,
        template=template,
        context={"number": case.number, "password": password, "code": password, **context},
    )
    notify.queue_messages([message])
    event = _event(case, actor=None, action=Action.SMS_CITIZEN, from_status=case.status, opinion=message.body)
    assert password in message.body and password in event.opinion
    return Outbox.objects.get(pk=message.pk), event


def _run_migrations():
    importlib.import_module(NOTIFY_MIGRATION).redact(apps, None)
    importlib.import_module(CASES_MIGRATION).redact(apps, None)


def _dispatched(city, people):
    with clock.frozen_now(NOON):
        case = services.case_intake(actor=people.agent, data=case_input(city)).case
    return services.case_dispatch(
        case=case,
        actor=people.dispatcher,
        expected_version=case.version,
        targets=[services.Target(city.xingfu, "main")],
    )


def test_old_rows_are_redacted_and_an_unsent_message_still_reaches_the_citizen(api, city, people):
    case = _dispatched(city, people)
    with clock.frozen_now(NOON):
        pending, event = _old_way_sms(case)
    sent, sent_event = _old_way_sms(case, password="123456")
    Outbox.objects.filter(pk=sent.pk).update(status=OutboxStatus.SENT)
    # Before: a community handler reads the password on the timeline (the finding).
    timeline = as_user(api, people.xingfu).get(f"/api/v1/cases/{case.pk}/timeline/").content.decode()
    assert PASSWORD in timeline

    _run_migrations()

    pending.refresh_from_db()
    sent.refresh_from_db()
    assert PASSWORD not in pending.body and "查询密码******" in pending.body
    assert case.number in pending.body  # the case number (14 digits after 工单编号) is not a secret
    assert crypto.decrypt(pending.sealed_body) == _old_body(case, PASSWORD)
    assert "123456" not in sent.body and sent.sealed_body == ""  # sent: nothing kept
    for e in (event, sent_event):
        e.refresh_from_db()
        assert "查询密码******" in e.opinion and PASSWORD not in e.opinion and "123456" not in e.opinion
    timeline = as_user(api, people.xingfu).get(f"/api/v1/cases/{case.pk}/timeline/").content.decode()
    assert PASSWORD not in timeline and "123456" not in timeline
    page = Client()
    page.force_login(people.xingfu)
    assert PASSWORD not in page.get(f"/cases/{case.pk}/").content.decode()
    # The citizen still gets the full text of the message that was waiting.
    gateway = FlakyGateway(failures=0)
    with clock.frozen_now(NOON):
        notify.deliver_due(gateway=gateway)
    assert (case.citizen_phone, _old_body(case, PASSWORD)) in gateway.sent


def _old_body(case, password):
    return notify.render("citizen_received", {"number": case.number, "password": password})[1]


def test_other_rows_are_left_alone_and_a_second_run_changes_nothing(city, people):
    case = _dispatched(city, people)
    _old_way_sms(case)
    # A staff notice and a non-SMS timeline entry that mention codes are not citizen secrets written by the SMS.
    note = _event(
        case, actor=people.agent, action=Action.URGE, from_status=case.status, opinion="验证码12345678"
    )
    staff = Outbox.objects.filter(recipient__isnull=False).first()
    staff_body = staff.body if staff else None
    _run_migrations()
    note.refresh_from_db()
    assert note.opinion == "验证码12345678"
    if staff is not None:
        staff.refresh_from_db()
        assert staff.body == staff_body
    out = StringIO()
    call_command("redact_stored_secrets", stdout=out)
    assert "redacted: 0 outbox messages, 0 timeline rows" in out.getvalue()


def test_an_edited_template_label_and_the_reset_code_are_found(city, people):
    case = _dispatched(city, people)
    template = MessageTemplate.objects.get(code="citizen_received")
    template.body = "【12345】工单{number}已受理，查询码：{password}。"
    template.save()
    edited, edited_event = _old_way_sms(case)
    code, _code_event = _old_way_sms(case, template="query_password_code", password="654321", minutes=15)
    out = StringIO()
    call_command("redact_stored_secrets", "--batch", "1", stdout=out)
    edited.refresh_from_db()
    code.refresh_from_db()
    edited_event.refresh_from_db()
    assert edited.body.endswith("查询码：******。") and PASSWORD not in edited_event.opinion
    assert "验证码******" in code.body and "654321" not in code.body
    assert "redacted: 2 outbox messages, 2 timeline rows" in out.getvalue()
    assert CaseEvent.objects.filter(opinion__contains=PASSWORD).count() == 0
