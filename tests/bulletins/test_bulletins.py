"""Internal bulletins (BUL-1): review before publishing to many units, read status per recipient, reply, forward,
favourite, delete, attachments scoped, and nobody else sees them."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from hotline.bulletins import selectors, services
from hotline.bulletins.models import BulletinKind, BulletinRecipient, BulletinStatus
from hotline.common.errors import NotAllowed, NotFound, ServiceError
from hotline.common.models import AuditLog


def _data(city, units, **kw):
    return services.BulletinInput(
        kind=BulletinKind.objects.get_or_create(name="通知公告")[0], subject=kw.pop("subject", "春节值班安排"),
        body=kw.pop("body", "请各单位报送值班表。"), units=units, **kw,
    )  # fmt: skip


def test_to_a_few_units_it_publishes_at_once_and_tracks_reads(city, people):
    draft = services.bulletin_save_draft(actor=people.dispatcher, data=_data(city, [city.tax, city.east]))
    sent = services.bulletin_send(actor=people.dispatcher, bulletin=draft)
    assert sent.status == BulletinStatus.PUBLISHED
    recipients = set(BulletinRecipient.objects.filter(bulletin=sent).values_list("user__username", flat=True))
    assert {"tax", "east", "east_leader"} <= recipients and "housing" not in recipients
    assert selectors.unread_count(user=people.tax) == 1
    services.bulletin_mark_read(actor=people.tax, bulletin=sent)
    status = selectors.read_status(user=people.dispatcher, bulletin=sent)
    assert [r.user.username for r in status["read"]] == ["tax"]
    assert "east" in [r.user.username for r in status["unread"]]
    assert selectors.read_status(user=people.tax, bulletin=sent) is None  # only the sender sees who read it


def test_to_many_units_it_waits_for_review(city, people):
    many = [city.tax, city.housing, city.east, city.west]
    draft = services.bulletin_save_draft(actor=people.dispatcher, data=_data(city, many))
    pending = services.bulletin_send(actor=people.dispatcher, bulletin=draft)
    assert pending.status == BulletinStatus.PENDING and not BulletinRecipient.objects.exists()
    with pytest.raises(NotFound):
        selectors.bulletin_get(user=people.tax, pk=pending.pk)
    with pytest.raises(NotAllowed):
        services.bulletin_review(actor=people.tax, bulletin=pending, approve=True)
    with pytest.raises(ServiceError):
        services.bulletin_review(actor=people.leader, bulletin=pending, approve=False, opinion="")
    rejected = services.bulletin_review(
        actor=people.leader, bulletin=pending, approve=False, opinion="请写明报送时间"
    )
    assert rejected.status == BulletinStatus.REJECTED
    services.bulletin_save_draft(
        actor=people.dispatcher, data=_data(city, many, body="请于 1 月 20 日前报送。"), bulletin=rejected
    )
    again = services.bulletin_send(actor=people.dispatcher, bulletin=rejected)
    published = services.bulletin_review(actor=people.leader, bulletin=again, approve=True)
    assert published.status == BulletinStatus.PUBLISHED
    assert selectors.bulletin_get(user=people.housing, pk=published.pk) == published
    assert (
        AuditLog.objects.filter(
            object_type="bulletins.bulletin", action__in=["approve", "reject", "publish"]
        ).count()
        == 3
    )


def test_reply_forward_favourite_delete(city, people):
    sent = services.bulletin_send(
        actor=people.dispatcher,
        bulletin=services.bulletin_save_draft(
            actor=people.dispatcher, data=_data(city, [city.tax, city.east])
        ),
    )
    reply = services.reply_input(actor=people.tax, original=sent, reply_all=False)
    assert reply.users == [people.dispatcher] and reply.subject.startswith("回复：")
    reply_all = services.reply_input(actor=people.tax, original=sent, reply_all=True)
    assert city.east in reply_all.units and city.tax not in reply_all.units
    answer = services.bulletin_send(
        actor=people.tax, bulletin=services.bulletin_save_draft(actor=people.tax, data=reply)
    )
    assert selectors.bulletin_get(user=people.dispatcher, pk=answer.pk) == answer
    forward = services.forward_input(original=sent)
    assert forward.body.startswith("> ") and forward.forwarded_from == sent
    services.bulletin_set_favourite(actor=people.tax, bulletin=sent, favourite=True)
    assert [r.bulletin for r in selectors.inbox(user=people.tax, favourites=True)] == [sent]
    services.bulletin_delete(actor=people.tax, bulletin=sent)
    assert sent not in [r.bulletin for r in selectors.inbox(user=people.tax)]
    with pytest.raises(NotFound):
        selectors.bulletin_get(user=people.tax, pk=sent.pk)
    assert [r.bulletin for r in selectors.inbox(user=people.tax, q="春节")] == []
    assert [r.bulletin for r in selectors.inbox(user=people.east, q="春节")] == [sent]


def test_bad_input_and_files(city, people):
    with pytest.raises(ServiceError) as refused:
        services.bulletin_save_draft(actor=people.dispatcher, data=_data(city, [], subject=""))
    assert "subject" in refused.value.field_errors
    draft = services.bulletin_save_draft(actor=people.dispatcher, data=_data(city, []))
    with pytest.raises(ServiceError) as no_one:
        services.bulletin_send(actor=people.dispatcher, bulletin=draft)
    assert "units" in no_one.value.field_errors
    evil = SimpleUploadedFile("notice.pdf", b"<html><script>alert(1)</script></html>")
    with pytest.raises(ServiceError):
        services.bulletin_save_draft(
            actor=people.dispatcher, data=_data(city, [city.tax], attachments=[evil])
        )
    with pytest.raises(NotAllowed):
        services.bulletin_send(actor=people.tax, bulletin=draft)  # someone else's draft


def test_attachments_only_for_those_who_may_see_the_bulletin(client, city, people, settings, tmp_path):
    settings.HOTLINE_PRIVATE_MEDIA_ROOT = str(tmp_path)
    pdf = SimpleUploadedFile("值班表.pdf", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
    sent = services.bulletin_send(
        actor=people.dispatcher,
        bulletin=services.bulletin_save_draft(
            actor=people.dispatcher, data=_data(city, [city.tax], attachments=[pdf])
        ),
    )
    attachment = sent.attachments.get()
    client.force_login(people.housing)
    assert client.get(f"/bulletins/attachments/{attachment.pk}/").status_code == 404
    assert client.get(f"/bulletins/{sent.pk}/").status_code == 404
    client.force_login(people.tax)
    response = client.get(f"/bulletins/attachments/{attachment.pk}/")
    assert response.status_code == 200 and response["X-Content-Type-Options"] == "nosniff"
