"""INT-6: the query password reaches the citizen's phone, never what staff can read (timeline, outbox)."""

from __future__ import annotations

from django.test import Client

from hotline.cases import services
from hotline.common import clock
from hotline.notify import services as notify
from hotline.notify.models import Outbox, OutboxStatus
from tests.conftest import as_user, case_input
from tests.notify.test_outbox import NOON, FlakyGateway


def _intake_with_sms(city, people):
    with clock.frozen_now(NOON):
        result = services.case_intake(
            actor=people.agent, data=case_input(city), sms_template="citizen_received"
        )
    services.case_dispatch(
        case=result.case,
        actor=people.dispatcher,
        expected_version=result.case.version,
        targets=[services.Target(city.xingfu, "main")],
    )
    return result


def test_a_community_handler_reading_the_timeline_does_not_see_the_password(api, city, people):
    result = _intake_with_sms(city, people)
    password = result.query_password
    assert password
    timeline = as_user(api, people.xingfu).get(f"/api/v1/cases/{result.case.pk}/timeline/")
    assert timeline.status_code == 200
    assert password not in timeline.content.decode()
    assert "查询密码******" in timeline.content.decode()
    client = Client()
    client.force_login(people.xingfu)
    assert password not in client.get(f"/cases/{result.case.pk}/").content.decode()


def test_the_outbox_keeps_the_password_sealed_and_the_citizen_gets_it(city, people):
    result = _intake_with_sms(city, people)
    message = Outbox.objects.get(address="13812345678")
    assert result.query_password not in message.body and result.query_password not in message.sealed_body
    gateway = FlakyGateway(failures=0)
    with clock.frozen_now(NOON):
        assert notify.deliver_due(gateway=gateway) == 1
    [(phone, text)] = gateway.sent
    assert phone == "13812345678" and f"查询密码{result.query_password}" in text
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.sealed_body == ""  # not kept once sent


def test_a_message_without_secrets_is_sent_as_stored(city, people):
    with clock.frozen_now(NOON):
        services.case_intake(
            actor=people.agent, data=case_input(city, is_public=True), sms_template="citizen_received"
        )
        message = Outbox.objects.get(address="13812345678")
        assert message.sealed_body == "" and "公开工单无需密码" in message.body
        gateway = FlakyGateway(failures=0)
        notify.deliver_due(gateway=gateway)
    assert gateway.sent == [("13812345678", message.body)]
