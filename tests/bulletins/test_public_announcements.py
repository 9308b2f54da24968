"""Public announcements (WEB-1 最新公告): a staff draft marked public always goes to review by someone else, is
published with its validity, and the portal shows it only inside that window."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from hotline.bulletins import selectors, services
from hotline.bulletins.models import BulletinKind, BulletinRecipient, BulletinStatus
from hotline.common import clock
from hotline.common.errors import NotAllowed, NotFound, ServiceError
from hotline.orgs.models import User

pytestmark = pytest.mark.django_db


def _public(**kw):
    return services.BulletinInput(
        kind=BulletinKind.objects.get_or_create(name="通知公告")[0],
        subject=kw.pop("subject", "春节期间12345热线正常服务"),
        body=kw.pop("body", "春节期间热线24小时服务，网上诉求照常受理。"),
        is_public=True,
        **kw,
    )


def test_a_public_draft_waits_for_a_reviewer_then_shows_on_the_portal(people, client):
    draft = services.bulletin_save_draft(actor=people.dispatcher, data=_public())
    assert not selectors.public_announcements().exists()
    pending = services.bulletin_send(actor=people.dispatcher, bulletin=draft)
    assert pending.status == BulletinStatus.PENDING
    assert client.get("/portal/").context["announcements"].count() == 0
    published = services.bulletin_review(actor=people.leader, bulletin=pending, approve=True)
    assert published.status == BulletinStatus.PUBLISHED and published.public_from == published.sent_at
    assert not BulletinRecipient.objects.filter(bulletin=published).exists()  # nobody's inbox: it is public
    home = client.get("/portal/")
    assert [b.pk for b in home.context["announcements"]] == [published.pk]
    assert "春节期间12345热线正常服务" in home.content.decode()
    page = client.get(f"/portal/notices/{published.pk}/")
    assert page.status_code == 200 and "24小时服务" in page.content.decode()
    assert "春节期间12345热线正常服务" in client.get("/portal/notices/").content.decode()
    listed = client.get("/api/v1/citizen/announcements/").json()  # the app and H5: the same, as JSON
    assert [a["id"] for a in listed] == [published.pk] and listed[0]["kind"] == "通知公告"
    assert client.get(f"/api/v1/citizen/announcements/{published.pk}/").json()["body"].startswith("春节期间")


def test_even_a_reviewer_cannot_publish_their_own_public_announcement(people):
    draft = services.bulletin_save_draft(actor=people.leader, data=_public())
    pending = services.bulletin_send(actor=people.leader, bulletin=draft)
    assert pending.status == BulletinStatus.PENDING  # a reviewer sending it still needs another reviewer
    with pytest.raises(NotAllowed):
        services.bulletin_review(actor=people.leader, bulletin=pending, approve=True)
    with pytest.raises(NotAllowed):
        services.bulletin_review(actor=people.tax, bulletin=pending, approve=True)  # not a reviewer
    other = User.objects.create(username="office_admin", is_superuser=True)
    rejected = services.bulletin_review(actor=other, bulletin=pending, approve=False, opinion="措辞")
    assert rejected.status == BulletinStatus.REJECTED and not selectors.public_announcements().exists()


def test_validity_window_hides_announcements_before_and_after(people, client):
    now = clock.now()
    later = services.bulletin_save_draft(
        actor=people.dispatcher,
        data=_public(subject="下周公告", public_from=now + dt.timedelta(days=7)),
    )
    short = services.bulletin_save_draft(
        actor=people.dispatcher,
        data=_public(subject="短期公告", public_until=now + dt.timedelta(hours=1)),
    )
    for draft in (later, short):
        services.bulletin_review(
            actor=people.leader, bulletin=services.bulletin_send(actor=people.dispatcher, bulletin=draft),
            approve=True,
        )  # fmt: skip
    assert [b.subject for b in selectors.public_announcements()] == ["短期公告"]
    assert client.get(f"/portal/notices/{later.pk}/").status_code == 404
    with clock.frozen_now(now + dt.timedelta(days=8)):
        assert [b.subject for b in selectors.public_announcements()] == ["下周公告"]
        assert client.get(f"/portal/notices/{short.pk}/").status_code == 404
        with pytest.raises(NotFound):
            selectors.public_announcement_get(pk=short.pk)


def test_bad_validity_is_refused_with_field_errors_and_nothing_saved(people):
    now = timezone.now()
    with pytest.raises(ServiceError) as caught:
        services.bulletin_save_draft(
            actor=people.dispatcher, data=_public(public_from=now, public_until=now - dt.timedelta(hours=1))
        )
    assert "public_until" in caught.value.field_errors
    internal = services.BulletinInput(
        kind=BulletinKind.objects.get_or_create(name="通知公告")[0], subject="内部", units=[],
        public_until=now + dt.timedelta(days=1),
    )  # fmt: skip
    with pytest.raises(ServiceError) as caught:
        services.bulletin_save_draft(actor=people.dispatcher, data=internal)
    assert "public_until" in caught.value.field_errors
    assert not selectors.drafts(user=people.dispatcher).exists()


def test_internal_and_unreviewed_bulletins_never_reach_the_portal(city, people, client):
    internal = services.bulletin_save_draft(
        actor=people.dispatcher,
        data=services.BulletinInput(
            kind=BulletinKind.objects.get_or_create(name="通知公告")[0],
            subject="内部值班表",
            units=[city.tax],
        ),
    )
    services.bulletin_send(actor=people.dispatcher, bulletin=internal)
    pending = services.bulletin_send(
        actor=people.dispatcher,
        bulletin=services.bulletin_save_draft(actor=people.dispatcher, data=_public()),
    )
    for pk in (internal.pk, pending.pk):
        assert client.get(f"/portal/notices/{pk}/").status_code == 404
        assert client.get(f"/api/v1/citizen/announcements/{pk}/").status_code == 404
    assert "内部值班表" not in client.get("/portal/notices/").content.decode()


def test_compose_form_marks_a_bulletin_public(people, client):
    client.force_login(people.dispatcher)
    kind = BulletinKind.objects.get_or_create(name="通知公告")[0]
    response = client.post(
        "/bulletins/new/",
        {"kind": kind.pk, "subject": "停水通知", "body": "明日停水", "is_public": "on",
         "public_until": "2099-01-01T00:00", "send": "1"},
    )  # fmt: skip
    assert response.status_code == 302
    bulletin = selectors.outbox(user=people.dispatcher).get(subject="停水通知")
    assert bulletin.is_public and bulletin.status == BulletinStatus.PENDING
    assert bulletin.public_until is not None and timezone.localtime(bulletin.public_until).year == 2099
    bad = client.post(
        "/bulletins/new/",
        {
            "kind": kind.pk,
            "subject": "坏时间",
            "is_public": "on",
            "public_until": "2000-01-01T00:00",
            "send": "1",
        },
    )
    assert bad.status_code == 200 and "公开截止时间须晚于" in bad.content.decode()
