"""The client address by the proxy rule, taken once for every entry point and recorded by the audit log."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings

from hotline.common.models import AuditLog
from hotline.common.netaddr import client_address
from tests.conftest import CONTENT, as_user, submitted_case

PROXY = ["10.0.0.0/8", "127.0.0.1"]


def meta(remote: str, xff: str | None = None) -> dict[str, str]:
    return {"REMOTE_ADDR": remote, **({"HTTP_X_FORWARDED_FOR": xff} if xff is not None else {})}


def test_forwarded_for_is_ignored_without_trusted_proxies():
    assert client_address(meta("198.51.100.7", "1.2.3.4")) == "198.51.100.7"


@override_settings(HOTLINE_TRUSTED_PROXIES=PROXY)
@pytest.mark.parametrize(
    ("remote", "xff", "client"),
    [
        ("10.0.0.2", "203.0.113.9", "203.0.113.9"),
        # The client wrote the left part; the right-most untrusted address is the one our proxy saw.
        ("10.0.0.2", "1.1.1.1, 203.0.113.9", "203.0.113.9"),
        ("10.0.0.2", "1.1.1.1, 203.0.113.9, 10.0.0.5", "203.0.113.9"),
        # A request from outside the proxies: its header is the client's own claim.
        ("198.51.100.7", "203.0.113.9", "198.51.100.7"),
        # Garbage never becomes the address; the nearest trusted hop stands in.
        ("10.0.0.2", "not-an-ip", "10.0.0.2"),
        ("10.0.0.2", "1.1.1.1, <script>", "10.0.0.2"),
        ("10.0.0.2", "[2001:db8::1]:443", "2001:db8::1"),
        ("10.0.0.2", "203.0.113.9:51000", "203.0.113.9"),
        ("10.0.0.2", "", "10.0.0.2"),
        ("::ffff:10.0.0.2", "203.0.113.9", "203.0.113.9"),
        ("garbage", "203.0.113.9", None),
    ],
)
def test_right_most_untrusted_address(remote, xff, client):
    assert client_address(meta(remote, xff)) == client


@pytest.mark.django_db
def test_a_screen_action_records_the_address(city, people):
    case = submitted_case(city, people)
    client = Client(REMOTE_ADDR="198.51.100.7")
    client.force_login(people.agent)
    response = client.get(f"/citizens/{case.citizen_id}/", HTTP_X_FORWARDED_FOR="6.6.6.6")
    assert response.status_code == 200
    row = AuditLog.objects.filter(action="view", object_type="citizens.citizen").latest("id")
    assert row.ip_address == "198.51.100.7"


@pytest.mark.django_db
@override_settings(HOTLINE_TRUSTED_PROXIES=PROXY)
@pytest.mark.parametrize(
    ("xff", "recorded"), [("not-an-ip, also bad", "127.0.0.1"), ("203.0.113.9", "203.0.113.9")]
)
def test_api_intake_with_any_forwarded_header_is_audited_with_a_valid_address(
    api, city, people, xff, recorded
):
    """On PostgreSQL the column is inet: a non-IP value used to fail every audited API call with a 500."""
    response = as_user(api, people.agent).post(
        "/api/v1/cases/",
        {
            "case_type": "complaint",
            "content": CONTENT,
            "citizen_name": "王女士",
            "citizen_phone": "13812345678",
            "location_unit": city.xingfu.pk,
            "bureau": city.housing.pk,
            "action": "submit",
        },
        format="json",
        HTTP_X_FORWARDED_FOR=xff,
    )
    assert response.status_code == 201, response.content
    assert AuditLog.objects.filter(object_type="cases.case").latest("id").ip_address == recorded
