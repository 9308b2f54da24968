"""The sweep's bulk messages: one outbox row per message and channel naming its audience, every column filled as
the ORM would; the audience's members stored once, under an id derived from them."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from hotline.notify.fanout import Rendered, audience_id, queue_fanout, reach
from hotline.notify.models import Audience, AudienceMember, Outbox, OutboxStatus


@pytest.mark.django_db
def test_fanout_writes_one_row_per_message_and_channel_naming_its_audience(people):
    people.east.phone = "13900000001"
    people.east.save(update_fields=["phone"])
    now = timezone.now().replace(microsecond=0)
    members = reach(users=[people.east, people.east_leader], channels=["in_app", "sms"], now=now)
    audience = {"east": members}
    written = queue_fanout(
        messages=[
            Rendered("east", "sla_yellow", "主题", "正文", "/cases/1/"),
            Rendered("nobody", "x", "", "", ""),
        ],
        audiences=audience,
        now=now,
    )
    assert written == 2  # in-app and SMS; an empty audience writes nothing
    pk = audience_id(members)
    assert list(Audience.objects.values_list("id", flat=True)) == [pk]
    assert sorted(AudienceMember.objects.values_list("user_id", "channel", "address")) == sorted(
        [
            (people.east.pk, "in_app", ""),
            (people.east_leader.pk, "in_app", ""),
            (people.east.pk, "sms", "13900000001"),
        ]
    )
    in_app, sms = Outbox.objects.order_by("channel")
    assert (in_app.channel, in_app.audience_id, in_app.recipient_id, in_app.address) == (
        "in_app",
        pk,
        None,
        "",
    )
    assert (in_app.status, in_app.sent_at, in_app.delivered_at) == (OutboxStatus.DELIVERED, now, now)
    assert (sms.channel, sms.audience_id, sms.status, sms.sent_at) == ("sms", pk, OutboxStatus.PENDING, None)
    for row in (in_app, sms):
        assert (row.attempts, row.sealed_body, row.last_error, row.external_id, row.parent_id) == (
            0,
            "",
            "",
            "",
            None,
        )
        assert row.created_at == now and row.next_attempt_at >= now - dt.timedelta(seconds=1)
        assert (row.subject, row.body, row.link, row.template) == ("主题", "正文", "/cases/1/", "sla_yellow")

    # the same members again (in another order): the same audience, nothing stored twice
    again = {"again": list(reversed(members))}
    queue_fanout(messages=[Rendered("again", "sla_red", "红", "红牌", "")], audiences=again, now=now)
    assert Audience.objects.count() == 1 and AudienceMember.objects.count() == 3
    assert set(Outbox.objects.values_list("audience_id", flat=True)) == {pk}
