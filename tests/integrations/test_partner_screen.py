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
            f"/integrations/partners/{partner.pk}/edit/",
        ):
            assert client.get(url).status_code == 404, (user, url)
        assert client.post(f"/integrations/partners/{partner.pk}/rotate/").status_code == 404
        assert client.post(f"/integrations/partners/{partner.pk}/toggle/").status_code == 404
        edit = client.post(f"/integrations/partners/{partner.pk}/edit/", {"name": "x", "rate_per_minute": 1})
        assert edit.status_code == 404
    assert Partner.objects.get().is_active and Partner.objects.get().name == "税务"


def test_edit_scopes_spaces_allowlist_and_rate(client, admin_user):
    from hotline.common.models import AuditLog
    from hotline.integrations.services import partner_create
    from hotline.knowledge.models import Space

    space = Space.objects.create(code="public-kb", name="公共知识库")
    partner, _ = partner_create(actor=admin_user, code="tax", name="税务", scopes=["ping"])
    client.force_login(admin_user)
    url = f"/integrations/partners/{partner.pk}/edit/"
    assert 'value="税务"' in client.get(url).content.decode()
    refused = client.post(url, {"name": "税务", "scopes": ["ping", "knowledge:read"], "rate_per_minute": 60})
    assert refused.status_code == 400 and "更换密钥" in refused.content.decode()  # needs an API key first
    bad = client.post(
        url, {"name": "税务", "scopes": ["ping"], "rate_per_minute": 0, "allowed_networks": "x"}
    )
    assert bad.status_code == 400 and Partner.objects.get().rate_per_minute == 600
    saved = client.post(
        url,
        {
            "name": "市税务局",
            "scopes": ["ping", "cases:read"],
            "rate_per_minute": 60,
            "allowed_networks": "10.1.0.0/16",
            "knowledge_spaces": [space.pk],
        },
    )
    assert saved.status_code == 302
    partner = Partner.objects.get()
    assert (partner.name, partner.scopes, partner.rate_per_minute) == ("市税务局", ["cases:read", "ping"], 60)
    assert partner.allowed_networks == "10.1.0.0/16" and list(partner.knowledge_spaces.all()) == [space]
    assert partner.knowledge_public_only is False  # the unticked box
    assert AuditLog.objects.filter(object_id=str(partner.pk), summary__startswith="修改接入系统").exists()
