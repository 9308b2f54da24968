from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from django.db import transaction

from hotline.common import clock
from hotline.notify import services
from hotline.notify.dlr import dlr_secret, sign_reference
from hotline.notify.gateways import GatewayError
from hotline.notify.models import DeliveryLog, Outbox, OutboxStatus
from hotline.orgs.models import User

SH = ZoneInfo("Asia/Shanghai")
NOON = dt.datetime(2026, 11, 25, 12, tzinfo=SH)


class FlakyGateway:
    def __init__(self, failures: int) -> None:
        self.failures, self.sent = failures, []

    def send(self, *, phone: str, text: str, reference: str) -> str:
        if self.failures:
            self.failures -= 1
            raise GatewayError("gateway down")
        self.sent.append((phone, text))
        return f"gw-{reference}"


def queue(user: User, channels=("in_app", "sms")) -> list[Outbox]:
    return services.notify_users(
        users=[user],
        template="case_urged",
        channels=channels,
        context={"number": "20261125000001", "title": "噪音", "message": "请加快"},
    )


def test_messages_render_from_templates_and_skip_missing_addresses(people):
    people.east.phone = "13900001111"
    people.east.save()
    rows = queue(people.east, channels=("in_app", "sms", "email"))
    assert [r.channel for r in rows] == ["in_app", "sms"]  # no e-mail address, no e-mail message
    assert "热线办催办工单20261125000001（噪音）：请加快" in rows[0].body


def test_outbox_rows_vanish_with_a_rolled_back_transaction(people):
    try:
        with transaction.atomic():
            queue(people.east)
            raise RuntimeError("the event failed")
    except RuntimeError:
        pass
    assert not Outbox.objects.exists()


def test_gateway_down_messages_wait_and_go_out_once_when_it_returns(people):
    people.east.phone = "13900001111"
    people.east.save()
    gateway = FlakyGateway(failures=2)
    with clock.frozen_now(NOON):
        queue(people.east, channels=("sms",))
        assert services.deliver_due(gateway=gateway) == 1
    message = Outbox.objects.get()
    assert (
        message.status == OutboxStatus.PENDING
        and message.attempts == 1
        and "gateway down" in message.last_error
    )
    with clock.frozen_now(NOON + dt.timedelta(seconds=10)):
        assert services.deliver_due(gateway=gateway) == 0  # backing off
    with clock.frozen_now(NOON + dt.timedelta(minutes=1)):
        services.deliver_due(gateway=gateway)
    with clock.frozen_now(NOON + dt.timedelta(minutes=5)):
        services.deliver_due(gateway=gateway)
        services.deliver_due(gateway=gateway)
    message.refresh_from_db()
    assert message.status == OutboxStatus.SENT and message.attempts == 3
    assert gateway.sent == [("13900001111", message.body)]  # exactly once
    assert list(DeliveryLog.objects.values_list("event", flat=True)) == ["retry", "retry", "sent"]


def test_sms_waits_for_the_end_of_quiet_hours(people, monkeypatch):
    monkeypatch.setenv("HOTLINE_SMS_QUIET_HOURS", "22:00-07:00")
    people.east.phone = "13900001111"
    people.east.save()
    with clock.frozen_now(dt.datetime(2026, 11, 25, 23, 30, tzinfo=SH)):
        sms, in_app = queue(people.east, channels=("sms", "in_app"))
    assert sms.next_attempt_at == dt.datetime(2026, 11, 26, 7, 0, tzinfo=SH)
    assert in_app.next_attempt_at == dt.datetime(2026, 11, 25, 23, 30, tzinfo=SH)


def test_delivery_report_marks_delivered(people, client):
    people.east.phone = "13900001111"
    people.east.save()
    with clock.frozen_now(NOON):
        queue(people.east, channels=("sms",))
        services.deliver_due(gateway=FlakyGateway(0))
    message = Outbox.objects.get()
    ref = sign_reference(message.pk)
    response = client.get(
        "/notify/kannel/dlr/", {"key": dlr_secret(), "ref": ref, "status": "1", "answer": "ACK"}
    )
    assert response.status_code == 200
    message.refresh_from_db()
    assert message.status == OutboxStatus.DELIVERED and message.delivered_at
    assert (
        client.get("/notify/kannel/dlr/", {"key": dlr_secret(), "ref": "999999", "status": "1"}).status_code
        == 404
    )


def test_delivery_reports_need_the_deployment_key_and_a_signed_reference(people, client):
    """Anyone could mark any SMS delivered or failed by its sequential outbox id."""
    people.east.phone = "13900001111"
    people.east.save()
    with clock.frozen_now(NOON):
        queue(people.east, channels=("sms",))
        services.deliver_due(gateway=FlakyGateway(0))
    message = Outbox.objects.get()
    dlr = "/notify/kannel/dlr/"
    assert client.get(dlr, {"ref": message.pk, "status": "2"}).status_code == 403
    assert (
        client.get(dlr, {"key": "guess", "ref": sign_reference(message.pk), "status": "2"}).status_code == 403
    )
    assert client.get(dlr, {"key": dlr_secret(), "ref": message.pk, "status": "2"}).status_code == 404
    forged = f"{message.pk}-{'0' * 24}"
    assert client.get(dlr, {"key": dlr_secret(), "ref": forged, "status": "2"}).status_code == 404
    message.refresh_from_db()
    assert message.status != OutboxStatus.FAILED


class FastReportGateway(FlakyGateway):
    """The SMSC's delivery report reaches the platform before `send` has returned (Kannel calls back at once)."""

    def __init__(self, client) -> None:
        super().__init__(0)
        self.client = client

    def send(self, *, phone: str, text: str, reference: str) -> str:
        external_id = super().send(phone=phone, text=text, reference=reference)
        report = {"key": dlr_secret(), "ref": reference, "status": "1"}
        assert self.client.get("/notify/kannel/dlr/", report).status_code == 200
        return external_id


def test_an_early_delivery_report_is_not_undone_by_the_sender(people, client):
    people.east.phone = "13900001111"
    people.east.save()
    with clock.frozen_now(NOON):
        queue(people.east, channels=("sms",))
        assert services.deliver_due(gateway=FastReportGateway(client)) == 1
    message = Outbox.objects.get()
    assert message.status == OutboxStatus.DELIVERED and message.delivered_at and message.sent_at
    assert set(DeliveryLog.objects.filter(message=message).values_list("event", flat=True)) == {
        "dlr-1",
        "sent",
    }


def test_in_app_inbox(people):
    with clock.frozen_now(NOON):
        queue(people.east, channels=("in_app",))
        services.deliver_due()
    assert services.inbox(user=people.east).count() == 1
    services.inbox_mark_read(user=people.east, ids=[m.pk for m in services.inbox(user=people.east)])
    assert services.inbox(user=people.east).count() == 0
