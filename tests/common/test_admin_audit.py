"""ORG-3: the Django admin's citizen, blacklist and outbox pages show personal data, so every view is audited."""

from __future__ import annotations

from django.test import Client

from hotline.citizens.models import Citizen
from hotline.common.models import AuditLog
from hotline.orgs.models import User
from tests.conftest import submitted_case


def _admin() -> Client:
    user = User.objects.create_superuser("root", password="pw-123456")
    client = Client()
    client.force_login(user)
    return client


def test_citizen_admin_list_and_record_are_audited(city, people):
    submitted_case(city, people, citizen_phone="13912340001")
    citizen = Citizen.objects.get()
    client = _admin()
    response = client.get("/admin/citizens/citizen/", {"q": "139"})
    assert response.status_code == 200 and "13912340001" in response.content.decode()
    row = AuditLog.objects.get(object_type="citizens.citizen", object_id="")
    assert row.actor.username == "root" and row.changes == {"filter": {"q": "139"}, "rows": 1}
    assert client.get(f"/admin/citizens/citizen/{citizen.pk}/change/").status_code == 200
    assert AuditLog.objects.filter(
        object_type="citizens.citizen", object_id=str(citizen.pk), action="view"
    ).exists()


def test_blacklist_and_outbox_admin_are_audited(city, people):
    from hotline.citizens import services

    services.blacklist_add(
        actor=people.dispatcher, data=services.BlacklistInput(number="13912340002", reason="骚扰")
    )
    submitted_case(city, people, citizen_phone="13812345678")
    client = _admin()
    client.get("/admin/citizens/blacklistentry/")
    client.get("/admin/notify/outbox/")
    types = set(AuditLog.objects.filter(action="view").values_list("object_type", flat=True))
    assert {"citizens.blacklistentry", "notify.outbox"} <= types
