"""The partner screen: only system administrators; credentials shown once; traffic and failures per partner."""

from __future__ import annotations

from hotline.integrations import signing
from hotline.integrations.models import Partner, PartnerCall


def test_register_a_partner_and_see_its_secret_once(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/integrations/partners/new/",
        {
            "code": "superior",
            "name": "省 12345 平台",
            "kind": "superior",
            "sign_method": "HMAC-SM3",
            "encryption": "SM4-GCM",
            "scopes": ["ping", "cases:receive"],
            "rate_per_minute": 600,
            "allowed_networks": "10.8.0.0/16",
        },
    )
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    partner = Partner.objects.get(code="superior")
    secret = response.context["issued"].secret
    assert secret in response.content.decode() and secret not in partner.secret_sealed
    detail = client.get(f"/integrations/partners/{partner.pk}/").content.decode()
    assert secret not in detail and "10.8.0.0/16" in detail


def test_bad_fields_come_back_on_the_form(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/integrations/partners/new/",
        {
            "code": "x y",
            "name": "n",
            "kind": "other",
            "sign_method": "HMAC-SHA256",
            "encryption": "DES-CBC",
            "scopes": ["ping"],
            "rate_per_minute": 10,
            "allowed_networks": "999.1.1.1",
        },
    )
    assert response.status_code == 200 and not Partner.objects.exists()
    errors = response.context["form"].errors
    assert {"code", "encryption", "allowed_networks"} <= set(errors)


def test_traffic_and_failures_are_shown(client, admin_user):
    client.force_login(admin_user)
    from hotline.integrations.services import partner_create

    partner, creds = partner_create(actor=admin_user, code="tax", name="税务")
    headers = signing.signed_headers(
        partner="tax", secret=creds.secret.encode(), method="GET", path="/api/v1/partner/ping/"
    )
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    client.get("/api/v1/partner/ping/", **extra)
    client.get("/api/v1/partner/ping/", **extra)  # replayed
    assert PartnerCall.objects.count() == 2
    listing = client.get("/integrations/partners/")
    row = listing.context["partners"][0]
    assert (row.calls_ok, row.calls_failed) == (1, 1)
    detail = client.get(f"/integrations/partners/{partner.pk}/")
    assert [f["reason"] for f in detail.context["failures"]] == ["replayed"]


def test_rotate_and_disable(client, admin_user):
    from hotline.integrations.services import partner_create

    client.force_login(admin_user)
    partner, creds = partner_create(actor=admin_user, code="tax", name="税务")
    response = client.post(f"/integrations/partners/{partner.pk}/rotate/")
    assert response.context["issued"].secret != creds.secret
    client.post(f"/integrations/partners/{partner.pk}/toggle/")
    assert not Partner.objects.get().is_active


def test_other_roles_get_404(client, admin_user, people):
    from hotline.integrations.services import partner_create

    partner, _ = partner_create(actor=admin_user, code="tax", name="税务")
    for user in (people.dispatcher, people.leader, people.tax):
        client.force_login(user)
        for url in (
            "/integrations/partners/",
            "/integrations/partners/new/",
            f"/integrations/partners/{partner.pk}/",
        ):
            assert client.get(url).status_code == 404, (user, url)
        assert client.post(f"/integrations/partners/{partner.pk}/rotate/").status_code == 404
        assert client.post(f"/integrations/partners/{partner.pk}/toggle/").status_code == 404
    assert Partner.objects.get().is_active
