"""SMS and e-mails go out right after the transaction that queued them commits: handed over through the push broker
to the delivery worker's listener, the outbox row staying the record (claimed once, retried by the job)."""

from __future__ import annotations

import datetime as dt
import json
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction

from hotline.common import clock, push
from hotline.common.registry import listeners
from hotline.notify import services
from hotline.notify.models import DeliveryLog, Outbox, OutboxStatus
from tests.notify.test_outbox import FlakyGateway, queue

NOON = dt.datetime(2026, 11, 25, 12, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture
def east(people):
    people.east.phone = "13900001111"
    people.east.email = "east@example.cn"
    people.east.save()
    return people.east


def _handed_over(messages) -> list[int]:
    data = next(messages)
    return [] if data is None else json.loads(data)["ids"]


def test_due_sms_and_mail_are_handed_over_after_commit_only(east, django_capture_on_commit_callbacks):
    messages = push.broker().listen(services.DELIVER_CHANNEL, timeout=0.01)
    with clock.frozen_now(NOON), django_capture_on_commit_callbacks(execute=True):
        rows = queue(east, channels=("in_app", "sms", "email"))
        assert _handed_over(messages) == []  # not before the commit
    by_channel = {row.channel: row.pk for row in rows}
    assert _handed_over(messages) == [by_channel["sms"], by_channel["email"]]  # in-app needs no sending
    try:
        with clock.frozen_now(NOON), django_capture_on_commit_callbacks(execute=True), transaction.atomic():
            queue(east, channels=("sms",))
            raise RuntimeError("the event failed")
    except RuntimeError:
        pass
    assert _handed_over(messages) == []  # a rolled-back row is never announced
    messages.close()


def test_quiet_hours_sms_is_left_to_the_job(east, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setenv("HOTLINE_SMS_QUIET_HOURS", "22:00-07:00")
    messages = push.broker().listen(services.DELIVER_CHANNEL, timeout=0.01)
    with clock.frozen_now(NOON.replace(hour=23)), django_capture_on_commit_callbacks(execute=True):
        queue(east, channels=("sms",))
    assert _handed_over(messages) == []
    messages.close()


def test_handed_over_rows_go_out_once_and_a_failure_is_retried_by_the_job(east, monkeypatch):
    gateway = FlakyGateway(failures=1)
    monkeypatch.setattr(services, "configured_gateway", lambda: gateway)
    with clock.frozen_now(NOON):
        first, second = queue(east, channels=("sms",)) + queue(east, channels=("sms",))
        assert services.deliver_ids([first.pk, second.pk]) == 2  # the first attempt fails
        assert services.deliver_ids([first.pk, second.pk]) == 0  # sent or backing off: nothing twice
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.status == OutboxStatus.PENDING and first.attempts == 1 and "gateway down" in first.last_error
    assert second.status == OutboxStatus.SENT
    with clock.frozen_now(NOON + dt.timedelta(minutes=1)):
        assert services.deliver_due(gateway=gateway) == 1  # the job's retry
        assert services.deliver_due(gateway=gateway) == 0
    assert len(gateway.sent) == 2
    assert DeliveryLog.objects.filter(message=first, event="sent").count() == 1


class _Broker:
    """Hands the listener what the push broker would, then a silence after which the test stops it."""

    def __init__(self, items: list[str | None], stop: threading.Event) -> None:
        self.items, self.stop = items, stop

    def listen(self, channel: str, *, timeout: float):
        assert channel == services.DELIVER_CHANNEL

        def messages():
            yield from self.items
            self.stop.set()
            yield None

        return messages()


def test_the_worker_listener_sends_what_is_handed_over(east, monkeypatch):
    gateway = FlakyGateway(failures=0)
    monkeypatch.setattr(services, "configured_gateway", lambda: gateway)
    stop = threading.Event()
    with clock.frozen_now(NOON):
        (row,) = queue(east, channels=("sms",))
        items = ["not json", json.dumps({"ids": ["x"]}), None, json.dumps({"ids": [row.pk]})]
        monkeypatch.setattr(push, "broker", lambda: _Broker(items, stop))
        services.listen_for_delivery(stop)
    row.refresh_from_db()
    assert stop.is_set() and row.status == OutboxStatus.SENT
    assert gateway.sent == [("13900001111", row.body)]
    assert ("notify-deliver-now", services.listen_for_delivery) in listeners()


def test_pending_rows_handed_over_twice_or_claimed_by_the_job_are_sent_once(east, monkeypatch):
    gateway = FlakyGateway(failures=0)
    monkeypatch.setattr(services, "configured_gateway", lambda: gateway)
    with clock.frozen_now(NOON):
        (row,) = queue(east, channels=("sms",))
        assert services.deliver_due(gateway=gateway) == 1
        assert services.deliver_ids([row.pk]) == 0
    assert Outbox.objects.get().status == OutboxStatus.SENT and len(gateway.sent) == 1
