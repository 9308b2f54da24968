"""A civic app asks for an Open311 key, an administrator approves it, the app collects the key once through its
claim link and posts a request with it (API-2: keys issued to anonymous civic apps on request)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from hotline.integrations.models import ApiKeyRequest, Partner
from hotline.integrations.services import partner_for_api_key

pytestmark = pytest.mark.django_db

FORM = {
    "app_name": "江城随手拍",
    "developer": "江城大学开源社",
    "contact_email": "dev@example.org",
    "purpose": "让市民在 App 中拍照上报路灯、井盖问题",
}


def _ask(client, **overrides):
    response = client.post(reverse("open311-key-request"), {**FORM, **overrides})
    match = re.search(r"/open311/keys/([A-Za-z0-9_-]+)/", response.content.decode())
    return response, match.group(1) if match else None


def test_an_approved_app_collects_its_key_once_and_can_use_it(client, city, admin_user):
    assert client.get(reverse("open311-key-request")).status_code == 200
    response, token = _ask(client)
    assert response.status_code == 200 and token
    claim = reverse("open311-key-claim", args=[token])
    page = client.get(claim).content.decode()
    assert "审核中" in page and 'data-testid="api-key"' not in page

    staff = client.__class__()
    staff.force_login(admin_user)
    listing = staff.get(reverse("integ-partners")).content.decode()
    assert "江城随手拍" in listing
    pending = ApiKeyRequest.objects.get()
    assert (
        staff.post(
            reverse("integ-key-request-decide", args=[pending.pk]), {"decision": "approve"}
        ).status_code
        == 302
    )
    pending.refresh_from_db()
    assert pending.status == ApiKeyRequest.Status.APPROVED and pending.partner.kind == Partner.Kind.CIVIC_APP
    assert pending.partner.scopes == [Partner.Scope.OPEN311] and pending.api_key_sealed

    shown = client.get(claim)
    assert shown["Referrer-Policy"] == "no-referrer"
    api_key = re.search(r'data-testid="api-key">([^<]+)<', shown.content.decode()).group(1)
    assert partner_for_api_key(api_key) == pending.partner
    again = client.get(claim).content.decode()
    assert api_key not in again and "已领取" in again
    pending.refresh_from_db()
    assert pending.status == ApiKeyRequest.Status.CLAIMED and pending.api_key_sealed == ""

    posted = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": api_key,
            "service_code": "complaint",
            "description": "幸福路路灯坏了三天，晚上很黑",
            "address_string": "东湖区幸福路 8 号",
            "phone": "13812345678",
        },
    )
    assert posted.status_code in (200, 201), posted.content
    assert "token" in posted.json()[0] or "service_request_id" in posted.json()[0]


def test_a_rejected_request_says_why_and_never_yields_a_key(client, city, admin_user):
    _response, token = _ask(client)
    staff = client.__class__()
    staff.force_login(admin_user)
    pending = ApiKeyRequest.objects.get()
    url = reverse("integ-key-request-decide", args=[pending.pk])
    assert staff.post(url, {"decision": "reject", "note": ""}).status_code == 400
    assert staff.post(url, {"decision": "reject", "note": "用途不明"}).status_code == 302
    assert staff.post(url, {"decision": "approve"}).status_code == 400  # already decided
    page = client.get(reverse("open311-key-claim", args=[token])).content.decode()
    assert "用途不明" in page and not Partner.objects.filter(kind=Partner.Kind.CIVIC_APP).exists()


def test_only_administrators_decide_and_guessed_tokens_find_nothing(client, city, people, admin_user):
    _ask(client)
    pending = ApiKeyRequest.objects.get()
    client.force_login(people.dispatcher)
    assert (
        client.post(
            reverse("integ-key-request-decide", args=[pending.pk]), {"decision": "approve"}
        ).status_code
        == 404
    )
    client.logout()
    assert client.get(reverse("open311-key-claim", args=["x" * 32])).status_code == 404
    pending.refresh_from_db()
    assert pending.status == ApiKeyRequest.Status.PENDING


def test_requests_are_checked_and_throttled_per_address(client, city):
    bad = client.post(
        reverse("open311-key-request"), {**FORM, "contact_email": "not-an-email", "app_name": ""}
    )
    assert bad.status_code == 400 and not ApiKeyRequest.objects.exists()
    for _ in range(3):
        assert _ask(client)[0].status_code == 200
    refused, token = _ask(client)
    assert refused.status_code == 429 and token is None
    assert ApiKeyRequest.objects.count() == 3


def test_discovery_names_the_key_service(client, city):
    answer = client.get("/open311/discovery.json").json()
    assert answer["key_service"].endswith("/open311/keys/")
