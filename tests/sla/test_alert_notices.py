"""An alert's notices are one outbox row per alert and channel naming its audience (issue 11, item 20): each
member reads it in the inbox and marks it read for themselves alone, and gets exactly one SMS, whether delivery
runs twice, in two workers at once, or crashes mid-way."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections
from django.test import Client

from hotline.common import clock
from hotline.notify import services as notify
from hotline.notify.models import NoticeRead, Outbox, OutboxStatus
from hotline.sla.sweep import sweep
from tests.conftest import dispatched_to
from tests.notices import RecordingGateway, deliver_everything, per_recipient

SH = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 11, 23, 10, tzinfo=SH)
OVERDUE = dt.datetime(2026, 12, 1, 10, tzinfo=SH)  # one working day past the 5-day deadline


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def carded(city, people, n: int = 1) -> list:
    people.east.phone, people.east_leader.phone = "13900000001", "13900000002"
    for user in (people.east, people.east_leader):
        user.save(update_fields=["phone"])
    with clock.frozen_now(START):
        cases = [dispatched_to(city, people, city.east) for _ in range(n)]
    with clock.frozen_now(OVERDUE):
        sweep()
    return cases


def expected_sms() -> Counter:
    """One SMS per member of each SMS notice's audience."""
    rows = per_recipient(Outbox.objects.filter(channel="sms", parent__isnull=True), "body")
    return Counter((address, body) for _, address, body in rows)


def test_a_member_reads_the_alert_in_the_inbox_and_marks_it_read_for_themselves(city, people):
    (case,) = carded(city, people)
    # the reply stage's yellow card goes to the handler and the leader (the sign-for stage's to the handler)
    (notice,) = [
        n
        for n in Outbox.objects.filter(template="sla_yellow", channel="in_app", body__contains=case.number)
        if per_recipient(Outbox.objects.filter(pk=n.pk)) == [("east", ""), ("east_leader", "")]
    ]
    assert notice.recipient_id is None and notice.audience_id is not None
    east, leader = client_for(people.east), client_for(people.east_leader)
    link = f"/notices/{notice.pk}/open/"
    assert link in east.get("/partials/notices/").content.decode()
    assert link in leader.get("/partials/notices/").content.decode()
    assert client_for(people.tax).get(link).status_code == 404  # not in its audience

    answer = east.get(link)
    assert answer.status_code == 302 and answer["Location"] == f"/cases/{case.pk}/"
    assert east.get(link).status_code == 302  # opening it again changes nothing
    assert list(NoticeRead.objects.values_list("message_id", "user_id")) == [(notice.pk, people.east.pk)]
    assert notice.pk not in set(notify.inbox(user=people.east).values_list("pk", flat=True))
    assert notice.pk in set(notify.inbox(user=people.east, unread_only=False).values_list("pk", flat=True))
    assert link not in east.get("/partials/notices/").content.decode()
    # read for the handler only: the leader still has it unread
    assert notice.pk in set(notify.inbox(user=people.east_leader).values_list("pk", flat=True))
    assert link in leader.get("/partials/notices/").content.decode()
    assert Outbox.objects.get(pk=notice.pk).read_at is None


def test_each_member_gets_one_sms_through_a_crash_and_a_second_run(city, people, monkeypatch):
    carded(city, people, 2)
    expected = expected_sms()
    assert expected and set(expected.values()) == {1}
    assert {address for address, _ in expected} == {"13900000001", "13900000002"}

    class Broken:
        class objects:  # noqa: N801 - stands in for the manager
            @staticmethod
            def filter(**kwargs):
                raise RuntimeError("worker killed while expanding")

    monkeypatch.setattr(notify, "AudienceMember", Broken)
    gateway = RecordingGateway()
    with clock.frozen_now(OVERDUE), pytest.raises(RuntimeError):
        notify.deliver_due(gateway=gateway)
    assert gateway.sent == [] and not Outbox.objects.filter(parent__isnull=False).exists()
    assert not Outbox.objects.filter(channel="sms", audience__isnull=False).exclude(status="pending").exists()
    monkeypatch.undo()

    with clock.frozen_now(OVERDUE):
        deliver_everything(gateway)
        deliver_everything(gateway)  # nothing is sent twice
    assert Counter(gateway.sent) == expected
    members = Outbox.objects.filter(parent__isnull=False)
    assert set(members.values_list("status", flat=True)) == {OutboxStatus.SENT}
    assert members.count() == len(gateway.sent)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks across connections")
def test_two_delivery_workers_at_once_send_each_member_one_sms(city, people):
    carded(city, people, 6)
    expected = expected_sms()
    gateway = RecordingGateway()
    barrier = threading.Barrier(2)
    errors: list[Exception] = []

    def run() -> None:
        try:
            barrier.wait()
            deliver_everything(gateway)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connections.close_all()

    with clock.frozen_now(OVERDUE):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert Counter(gateway.sent) == expected
