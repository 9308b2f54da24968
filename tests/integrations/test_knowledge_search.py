"""The knowledge base's third-party search (KB-8) as a partner endpoint: a partner with `knowledge:read` searches
the spaces set on it, with its key or a signed request; the scope, the address allowlist and the per-minute limit
apply; every call is logged. The knowledge base's former API clients became partners and their keys still work."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import Client

from hotline.integrations import signing
from hotline.integrations.models import Partner, PartnerCall
from hotline.integrations.services import forget_partners, partner_create, partner_for_api_key
from tests.knowledge.conftest import KB, commit, kb, kb_index, publish  # noqa: F401

SEARCH = "/api/v1/kb/open/search/"


def _partner(actor: Any, kb: KB, **kw: Any) -> tuple[Partner, Any]:  # noqa: F811
    kw.setdefault("code", "gov-portal")
    kw.setdefault("name", "政务服务网")
    kw.setdefault("scopes", [Partner.Scope.KNOWLEDGE_READ])
    kw.setdefault("knowledge_spaces", [kb.space])
    return partner_create(actor=actor, **kw)


@pytest.fixture
def items(kb: KB, commit: Any) -> Any:  # noqa: F811
    with commit():
        public = publish(kb, kb.card, "社保卡办理网点", "各银行网点均可办理。", is_public=True)
        internal = publish(kb, kb.card, "社保卡内部口径", "内部处理口径。")
    return public, internal


def test_a_partner_searches_with_its_key_and_every_call_is_logged(client: Client, admin_user, kb, items):  # noqa: F811
    public, internal = items
    partner, creds = _partner(admin_user, kb)
    assert creds.api_key  # issued once with the credentials
    body = client.get(SEARCH, {"q": "社保卡"}, HTTP_X_API_KEY=creds.api_key).json()
    assert [r["id"] for r in body["results"]] == [public.pk]  # public items only by default
    assert "银行网点" in body["results"][0]["content"]
    other = client.get(SEARCH, {"q": "社保卡"}, HTTP_AUTHORIZATION=f"ApiKey {creds.api_key}")
    assert other.status_code == 200
    assert client.get(SEARCH, {"q": "OR"}, HTTP_X_API_KEY=creds.api_key).status_code == 400
    calls = list(
        PartnerCall.objects.filter(partner=partner).order_by("id").values_list("status_code", "path")
    )
    assert calls == [(200, SEARCH), (200, SEARCH), (400, SEARCH)]


def test_a_partner_allowed_internal_items_sees_them(client: Client, admin_user, kb, items):  # noqa: F811
    public, internal = items
    _partner_obj, creds = _partner(admin_user, kb, knowledge_public_only=False)
    body = client.get(SEARCH, {"q": "社保卡"}, HTTP_X_API_KEY=creds.api_key).json()
    assert sorted(r["id"] for r in body["results"]) == sorted([public.pk, internal.pk])


def test_a_partner_without_the_space_finds_nothing(client: Client, admin_user, kb, items):  # noqa: F811
    _partner_obj, creds = _partner(admin_user, kb, knowledge_spaces=[])
    body = client.get(SEARCH, {"q": "社保卡"}, HTTP_X_API_KEY=creds.api_key).json()
    assert body["results"] == []


def test_a_signed_request_works_too(client: Client, admin_user, kb, items):  # noqa: F811
    public, _internal = items
    partner, creds = _partner(admin_user, kb)
    path = f"{SEARCH}?q=%E7%A4%BE%E4%BF%9D%E5%8D%A1"
    headers = signing.signed_headers(
        partner=partner.code, secret=creds.secret.encode(), method="GET", path=path
    )
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    response = client.get(path, **extra)
    assert response.status_code == 200, response.content
    assert [r["id"] for r in response.json()["results"]] == [public.pk]
    again = client.get(path, **extra)
    assert again.status_code == 401 and again.json()["reason"] == "replayed"


def test_refusals_have_reason_codes_and_are_logged(client: Client, admin_user, kb, items):  # noqa: F811
    assert client.get(SEARCH, {"q": "社保卡"}).json()["reason"] == "missing_signature"
    bad = client.get(SEARCH, {"q": "社保卡"}, HTTP_X_API_KEY="abcdef.wrong")
    assert bad.status_code == 401 and bad.json()["reason"] == "bad_api_key"
    # An Open311 app's key does not open the knowledge base: the scope is missing.
    app, app_creds = partner_create(
        actor=admin_user,
        code="civic",
        name="随手拍",
        kind=Partner.Kind.CIVIC_APP,
        scopes=[Partner.Scope.OPEN311],
    )
    refused = client.get(SEARCH, {"q": "社保卡"}, HTTP_X_API_KEY=app_creds.api_key)
    assert refused.status_code == 403 and refused.json()["reason"] == "scope"
    assert PartnerCall.objects.filter(partner=app, status_code=403, reason="scope").count() == 1
    assert PartnerCall.objects.filter(partner=None, reason="bad_api_key").count() == 1
    # The address allowlist applies to key callers (the test client comes from 127.0.0.1).
    fenced, fenced_creds = _partner(admin_user, kb, code="fenced", allowed_networks="10.0.0.0/8")
    walled = client.get(SEARCH, {"q": "社保卡"}, HTTP_X_API_KEY=fenced_creds.api_key)
    assert walled.status_code == 403 and walled.json()["reason"] == "ip_not_allowed"
    assert PartnerCall.objects.filter(partner=fenced, reason="ip_not_allowed").count() == 1
    # A disabled partner's key stops working.
    Partner.objects.filter(pk=fenced.pk).update(is_active=False, allowed_networks="")
    forget_partners()
    gone = client.get(SEARCH, {"q": "社保卡"}, HTTP_X_API_KEY=fenced_creds.api_key)
    assert gone.status_code == 401 and gone.json()["reason"] == "bad_api_key"


def test_one_partners_rate_limit_does_not_touch_another(client: Client, admin_user, kb, items):  # noqa: F811
    busy, busy_creds = _partner(admin_user, kb, code="busy", rate_per_minute=2)
    calm, calm_creds = _partner(admin_user, kb, code="calm", rate_per_minute=2)
    codes = [
        client.get(SEARCH, {"q": "社保卡"}, HTTP_X_API_KEY=busy_creds.api_key).status_code for _ in range(3)
    ]
    assert codes == [200, 200, 429]
    limited = PartnerCall.objects.get(partner=busy, status_code=429)
    assert limited.reason == "rate_limited"
    assert client.get(SEARCH, {"q": "社保卡"}, HTTP_X_API_KEY=calm_creds.api_key).status_code == 200


@pytest.mark.django_db(transaction=True)
def test_the_knowledge_api_clients_became_partners_and_their_keys_still_work(kb_index):  # noqa: F811
    """Migrate back to before the move, make an API client the old way, migrate forward: its key still opens the
    search through the partner it became."""
    before = [("integrations", "0004_partner_knowledge_search"), ("knowledge", "0002_synonym_groups")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    try:
        old = MigrationExecutor(connection).loader.project_state(before).apps
        space = old.get_model("knowledge", "Space").objects.create(name="知识库", code="KB1")
        secret = "s" * 43
        client_row = old.get_model("knowledge", "ApiClient").objects.create(
            name="旧客户端", key_prefix="ab12cd34", key_hash=hashlib.sha256(secret.encode()).hexdigest(),
            public_only=False,
        )  # fmt: skip
        client_row.spaces.set([space.pk])
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
    forget_partners()
    partner = Partner.objects.get(code="kb-ab12cd34")
    assert partner.name == "旧客户端" and partner.scopes == [Partner.Scope.KNOWLEDGE_READ]
    assert list(partner.knowledge_spaces.values_list("code", flat=True)) == ["KB1"]
    assert partner.knowledge_public_only is False
    assert partner_for_api_key(f"ab12cd34.{secret}", Partner.Scope.KNOWLEDGE_READ) == partner
    assert partner_for_api_key(f"ab12cd34.{'t' * 43}", Partner.Scope.KNOWLEDGE_READ) is None
    response = Client().get(SEARCH, {"q": "社保卡"}, HTTP_X_API_KEY=f"ab12cd34.{secret}")
    assert response.status_code == 200, response.content
    assert response.json()["results"] == []
    assert PartnerCall.objects.filter(partner=partner, status_code=200).count() == 1


def test_the_partner_screen_registers_a_knowledge_partner(client: Client, admin_user, kb, items):  # noqa: F811
    public, internal = items
    client.force_login(admin_user)
    response = client.post(
        "/integrations/partners/new/",
        {
            "code": "gov-portal",
            "name": "政务服务网",
            "kind": "other",
            "sign_method": "HMAC-SHA256",
            "encryption": "none",
            "scopes": ["knowledge:read"],
            "rate_per_minute": 600,
            "knowledge_spaces": [kb.space.pk],
            "knowledge_public_only": "on",
        },
    )
    assert response.status_code == 200
    key = response.context["issued"].api_key
    assert key and key in response.content.decode()
    partner = Partner.objects.get(code="gov-portal")
    assert list(partner.knowledge_spaces.all()) == [kb.space] and partner.knowledge_public_only
    detail = client.get(f"/integrations/partners/{partner.pk}/").content.decode()
    assert 'data-testid="knowledge-spaces"' in detail and kb.space.name in detail
    client.logout()
    body = client.get(SEARCH, {"q": "社保卡"}, HTTP_X_API_KEY=key).json()
    assert [r["id"] for r in body["results"]] == [public.pk]
