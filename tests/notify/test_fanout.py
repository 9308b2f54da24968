"""The sweep's bulk messages are ordinary outbox rows: every column the model has is filled as the ORM would."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from hotline.notify.fanout import Rendered, queue_fanout, reach
from hotline.notify.models import Outbox, OutboxStatus


@pytest.mark.django_db
def test_fanout_rows_match_what_the_orm_writes(people):
    people.east.phone = "13900000001"
    people.east.save(update_fields=["phone"])
    now = timezone.now().replace(microsecond=0)
    audience = {"east": reach(users=[people.east, people.east_leader], channels=["in_app", "sms"], now=now)}
    written = queue_fanout(
        messages=[
            Rendered("east", "sla_yellow", "主题", "正文", "/cases/1/"),
            Rendered("nobody", "x", "", "", ""),
        ],
        audiences=audience,
        now=now,
    )
    assert written == 3  # in-app to both, SMS only to the one with a phone; an empty audience writes nothing
    rows = list(Outbox.objects.order_by("channel", "recipient_id"))
    assert [(r.channel, r.recipient_id, r.address) for r in rows] == [
        ("in_app", people.east.pk, ""),
        ("in_app", people.east_leader.pk, ""),
        ("sms", people.east.pk, "13900000001"),
    ]
    for row in rows:
        assert (row.status, row.attempts, row.sealed_body, row.last_error, row.external_id) == (
            OutboxStatus.PENDING,
            0,
            "",
            "",
            "",
        )
        assert row.created_at == now and row.next_attempt_at >= now - dt.timedelta(seconds=1)
        assert (row.subject, row.body, row.link, row.template) == ("主题", "正文", "/cases/1/", "sla_yellow")
