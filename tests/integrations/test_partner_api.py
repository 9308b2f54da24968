"""A partner calls us with a signed (and optionally encrypted) request: every refusal has its reason code and is
logged, a replay is refused, and a real HTTP client round trip works (API-5)."""

from __future__ import annotations

import json
import time

import pytest
import requests

from hotline.common.errors import NotAllowed, ServiceError
from hotline.integrations import payload, signing
from hotline.integrations.models import Partner, PartnerCall
from hotline.integrations.services import (
    forget_partners,
    partner_create,
    partner_rotate_credentials,
    partner_set_active,
)

PING = "/api/v1/partner/ping/"


def _partner(actor, **kw):
    kw.setdefault("code", "tax-system")
    kw.setdefault("name", "税务局业务系统")
    return partner_create(actor=actor, **kw)


def _send(client, partner, secret, *, method="GET", path=PING, body=b"", **header_kw):
    headers = signing.signed_headers(
        partner=partner.code,
        secret=secret.encode(),
        method=method,
        path=path,
        body=body,
        algorithm=partner.sign_method,
        **header_kw,
    )
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    if method == "GET":
        return client.get(path, **extra), headers
    return client.post(path, data=body, content_type="application/json", **extra), headers


def test_a_signed_request_is_answered_and_logged(client, admin_user):
    partner, creds = _partner(admin_user)
    response, _ = _send(client, partner, creds.secret)
    assert response.status_code == 200, response.content
    assert response.json()["partner"] == "tax-system"
    call = PartnerCall.objects.get()
    assert (call.partner, call.status_code, call.reason, call.direction) == (partner, 200, "", "in")


def test_a_replay_is_refused_with_its_reason(client, admin_user):
    partner, creds = _partner(admin_user)
    first, headers = _send(client, partner, creds.secret)
    assert first.status_code == 200
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    again = client.get(PING, **extra)
    assert again.status_code == 401 and again.json()["reason"] == "replayed"
    assert PartnerCall.objects.filter(reason="replayed", partner=partner).count() == 1


@pytest.mark.parametrize(
    "tamper, reason",
    [
        (lambda h: h.pop(signing.HEADER_SIGNATURE), "missing_signature"),
        (lambda h: h.update({signing.HEADER_NONCE: "short"}), "bad_nonce"),
        (lambda h: h.update({signing.HEADER_TIMESTAMP: str(int(time.time()) - 301)}), "expired"),
        (lambda h: h.update({signing.HEADER_TIMESTAMP: "9" * 40}), "expired"),
        (lambda h: h.update({signing.HEADER_PARTNER: "nobody"}), "unknown_partner"),
        (lambda h: h.update({signing.HEADER_METHOD: "HMAC-SM3"}), "bad_sign_method"),
        (
            lambda h: h.update({signing.HEADER_SIGNATURE: "AAAA" + h[signing.HEADER_SIGNATURE][4:]}),
            "bad_signature",
        ),
    ],
)
def test_every_refusal_is_401_with_a_reason_code_and_logged(client, admin_user, tamper, reason):
    partner, creds = _partner(admin_user)
    headers = signing.signed_headers(
        partner=partner.code, secret=creds.secret.encode(), method="GET", path=PING
    )
    tamper(headers)
    response = client.get(PING, **{"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()})
    assert response.status_code == 401, response.content
    assert response.json()["reason"] == reason
    assert PartnerCall.objects.get().reason == reason


def test_a_wrong_body_breaks_the_signature(client, admin_user):
    partner, creds = _partner(admin_user)
    headers = signing.signed_headers(
        partner=partner.code, secret=creds.secret.encode(), method="POST", path=PING, body=b'{"a": 1}'
    )
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    response = client.post(PING, data=b'{"a": 2}', content_type="application/json", **extra)
    assert response.status_code == 401 and response.json()["reason"] == "bad_signature"


def test_source_address_allow_list(client, admin_user):
    partner, creds = _partner(admin_user, allowed_networks="10.1.0.0/16")
    response, _ = _send(client, partner, creds.secret)
    assert response.status_code == 403 and response.json()["reason"] == "ip_not_allowed"
    Partner.objects.filter(pk=partner.pk).update(allowed_networks="127.0.0.0/8")
    forget_partners()  # what the cache's time limit does in production
    response, _ = _send(client, partner, creds.secret)
    assert response.status_code == 200


def test_scope_and_disabled_partner(client, admin_user):
    partner, creds = _partner(admin_user, scopes=[Partner.Scope.CASES_READ])
    response, _ = _send(client, partner, creds.secret)
    assert response.status_code == 403 and response.json()["reason"] == "scope"
    partner_set_active(actor=admin_user, partner=partner, active=False)
    response, _ = _send(client, partner, creds.secret)
    assert response.status_code == 401 and response.json()["reason"] == "unknown_partner"


def test_rate_limit_per_partner(client, admin_user):
    partner, creds = _partner(admin_user, rate_per_minute=3)
    codes = [_send(client, partner, creds.secret)[0].status_code for _ in range(5)]
    assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429]


def test_rotating_credentials_stops_the_old_secret(client, admin_user):
    partner, creds = _partner(admin_user)
    fresh = partner_rotate_credentials(actor=admin_user, partner=partner)
    assert _send(client, partner, creds.secret)[0].json()["reason"] == "bad_signature"
    assert _send(client, partner, fresh.secret)[0].status_code == 200


@pytest.mark.parametrize("cipher", [payload.AES_256_GCM, payload.SM4_GCM, payload.SM4_CBC])
def test_encrypted_payload_both_ways_with_sm3(client, admin_user, cipher):
    partner, creds = _partner(admin_user, sign_method="HMAC-SM3", encryption=cipher)
    key = __import__("base64").b64decode(creds.encryption_key)
    body = payload.encrypt(algorithm=cipher, key=key, plaintext=json.dumps({"问题": "路灯不亮"}).encode())
    response, _ = _send(client, partner, creds.secret, method="POST", body=body)
    assert response.status_code == 200, response.content
    assert "路灯".encode() not in response.content
    answer = json.loads(payload.decrypt(algorithm=cipher, key=key, envelope=response.content))
    assert answer["received"] == {"问题": "路灯不亮"}


def test_an_undecryptable_body_is_400(client, admin_user):
    partner, creds = _partner(admin_user, encryption=payload.AES_256_GCM)
    response, _ = _send(client, partner, creds.secret, method="POST", body=b'{"iv": "AAAA", "data": "AAAA"}')
    assert response.status_code == 400 and response.json()["reason"] == "bad_payload"


def test_partner_rules(admin_user, people):
    with pytest.raises(NotAllowed):
        _partner(people.dispatcher)
    with pytest.raises(ServiceError) as refused:
        _partner(
            admin_user, code="bad code!", encryption=payload.DES_CBC, allowed_networks="10.0.0.0/8\nnot-an-ip"
        )
    assert set(refused.value.field_errors) == {"code", "encryption", "allowed_networks"}
    partner, creds = _partner(admin_user, encryption=payload.DES_CBC, accept_legacy_cipher=True)
    assert partner.is_legacy_cipher and len(creds.encryption_key) == 12
    assert creds.secret not in partner.secret_sealed
    with pytest.raises(ServiceError):
        _partner(admin_user)  # the same code twice


def test_a_real_http_client_round_trip(transactional_db, live_server, admin_user):
    """The README's Python snippet, over a real socket."""
    partner, creds = _partner(admin_user, encryption=payload.AES_256_GCM)
    key = __import__("base64").b64decode(creds.encryption_key)
    body = payload.encrypt(algorithm=payload.AES_256_GCM, key=key, plaintext=b'{"hello": "world"}')
    headers = signing.signed_headers(
        partner=partner.code, secret=creds.secret.encode(), method="POST", path=PING, body=body
    )
    response = requests.post(
        live_server.url + PING, data=body, headers={**headers, "Content-Type": "application/json"}, timeout=10
    )
    assert response.status_code == 200, response.text
    assert json.loads(payload.decrypt(algorithm=payload.AES_256_GCM, key=key, envelope=response.content))[
        "received"
    ] == {"hello": "world"}
    replay = requests.post(
        live_server.url + PING, data=body, headers={**headers, "Content-Type": "application/json"}, timeout=10
    )
    assert replay.status_code == 401 and replay.json()["reason"] == "replayed"


def test_replay_and_rate_through_redis(client, admin_user, settings):
    """Production path: nonce and counter in Redis, one pipelined round trip."""
    import redis

    settings.HOTLINE_REDIS_URL = "redis://127.0.0.1:6379/15"
    redis.Redis.from_url(settings.HOTLINE_REDIS_URL).flushdb()
    partner, creds = _partner(admin_user, rate_per_minute=2)
    first, headers = _send(client, partner, creds.secret)
    assert first.status_code == 200
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    assert client.get(PING, **extra).json()["reason"] == "replayed"
    assert _send(client, partner, creds.secret)[0].json()["reason"] == "rate_limited"


def test_the_readme_curl_snippet_works(transactional_db, live_server, admin_user):
    """The README's curl + openssl example, run as written against a live server."""
    import re
    import shutil
    import subprocess
    from pathlib import Path

    if not (shutil.which("openssl") and shutil.which("curl")):
        pytest.skip("openssl or curl absent")
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    snippet = re.search(r"curl with openssl.*?```bash\n(.*?)```", readme, re.S).group(1)
    partner, creds = _partner(admin_user)
    script = snippet.replace("<secret>", creds.secret).replace(
        "https://12345.example.gov.cn", live_server.url
    )
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True, timeout=30)
    assert json.loads(result.stdout)["received"] == {"hello": "12345"}, result.stdout + result.stderr


CRAFTED = [
    (
        json.dumps({"问题": "路灯\u0000不亮"}).encode(),
        "问题",
    ),  # a NUL character (PostgreSQL refuses it in text)
    (
        b'{"deep": ' + b"[" * 40 + b"]" * 40 + b"}",
        "deep",
    ),  # deeper than the 32 levels a plain request may have
    (b"[" * 100_000 + b"]" * 100_000, "body"),  # deep enough to exhaust Python's parser (RecursionError)
    (b'{"n": 123456789012345678901234567890}', "n"),  # beyond 64 bits
    (b'{"deadline": "0001-01-01T00:00:00+08:00"}', "deadline"),  # a date the calendar arithmetic overflows on
]


@pytest.mark.parametrize("cipher", [payload.AES_256_GCM, payload.SM4_GCM, payload.SM4_CBC])
@pytest.mark.parametrize("plaintext, field", CRAFTED)
def test_a_crafted_encrypted_body_gets_the_plain_request_bounds(client, admin_user, cipher, plaintext, field):
    partner, creds = _partner(admin_user, encryption=cipher)
    key = __import__("base64").b64decode(creds.encryption_key)
    body = payload.encrypt(algorithm=cipher, key=key, plaintext=plaintext)
    response, _ = _send(client, partner, creds.secret, method="POST", body=body)
    assert response.status_code == 400, response.content
    answer = response.json()
    assert answer["reason"] == "payload_bounds" and answer["detail"].startswith(f"{field}：")
    assert PartnerCall.objects.get(partner=partner).reason == "payload_bounds"


def test_a_decrypted_body_that_is_not_utf8_json_is_bad_payload(client, admin_user):
    partner, creds = _partner(admin_user, encryption=payload.SM4_CBC)
    key = __import__("base64").b64decode(creds.encryption_key)
    body = payload.encrypt(algorithm=payload.SM4_CBC, key=key, plaintext=b"\xff\xfe{")
    response, _ = _send(client, partner, creds.secret, method="POST", body=body)
    assert response.status_code == 400 and response.json()["reason"] == "bad_payload"


def test_a_plain_body_sent_as_text_gets_the_bounds_too(client, admin_user):
    """The bounds middleware checks JSON bodies by content type; the partner endpoints read the body whatever its
    content type, so they check it themselves."""
    partner, creds = _partner(admin_user)
    body = json.dumps({"问题": "a\u0000b"}).encode()
    headers = signing.signed_headers(
        partner=partner.code, secret=creds.secret.encode(), method="POST", path=PING, body=body
    )
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    response = client.post(PING, data=body, content_type="text/plain", **extra)
    assert response.status_code == 400 and response.json()["reason"] == "payload_bounds"


def test_an_oversized_encrypted_body_is_4xx(client, admin_user, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 10_000
    partner, creds = _partner(admin_user, encryption=payload.AES_256_GCM)
    key = __import__("base64").b64decode(creds.encryption_key)
    body = payload.encrypt(
        algorithm=payload.AES_256_GCM, key=key, plaintext=json.dumps({"x": "y" * 20_000}).encode()
    )
    for content_type in ("application/json", "application/octet-stream"):
        headers = signing.signed_headers(
            partner=partner.code, secret=creds.secret.encode(), method="POST", path=PING, body=body
        )
        extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
        response = client.post(PING, data=body, content_type=content_type, **extra)
        assert 400 <= response.status_code < 500, (content_type, response.status_code)
