"""The signature and payload primitives a partner's SDK copies (API-5)."""

from __future__ import annotations

import base64
import hashlib
import hmac

import pytest

from hotline.integrations import payload, signing


def test_sha256_signature_is_hmac_over_the_documented_canonical_string():
    body = b'{"a":1}'
    headers = signing.signed_headers(
        partner="p1",
        secret=b"s3cret",
        method="post",
        path="/api/v1/partner/ping/?x=1",
        body=body,
        timestamp=1700000000,
        nonce="n" * 16,
    )
    canonical = "\n".join(
        ["POST", "/api/v1/partner/ping/?x=1", "1700000000", "n" * 16, hashlib.sha256(body).hexdigest()]
    ).encode()
    expected = base64.b64encode(hmac.new(b"s3cret", canonical, hashlib.sha256).digest()).decode()
    assert headers[signing.HEADER_SIGNATURE] == expected
    assert headers[signing.HEADER_METHOD] == "HMAC-SHA256"


def test_sm3_digest_matches_the_standard_test_vector():
    # GB/T 32905-2016 appendix A, example 1: SM3("abc").
    assert (
        signing.body_digest(b"abc", signing.HMAC_SM3)
        == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    )


def test_sm3_and_sha256_signatures_differ_and_depend_on_every_part():
    base = dict(secret=b"k", method="GET", path="/p", timestamp="1", nonce="a" * 16, body=b"")
    sig = signing.sign(**base, algorithm=signing.HMAC_SM3)
    assert sig != signing.sign(**base, algorithm=signing.HMAC_SHA256)
    for field, other in [
        ("method", "POST"),
        ("path", "/q"),
        ("timestamp", "2"),
        ("nonce", "b" * 16),
        ("body", b"x"),
    ]:
        assert signing.sign(**{**base, field: other}, algorithm=signing.HMAC_SM3) != sig


@pytest.mark.parametrize(
    "algorithm", [payload.AES_256_GCM, payload.SM4_GCM, payload.SM4_CBC, payload.DES_CBC]
)
def test_payload_round_trip_and_wrong_key(algorithm):
    key = payload.new_key(algorithm)
    envelope = payload.encrypt(algorithm=algorithm, key=key, plaintext="市民诉求".encode())
    assert "市民诉求".encode() not in envelope
    assert payload.decrypt(algorithm=algorithm, key=key, envelope=envelope) == "市民诉求".encode()
    with pytest.raises(payload.PayloadError):
        payload.decrypt(algorithm=algorithm, key=payload.new_key(algorithm), envelope=envelope)


@pytest.mark.parametrize("algorithm", [payload.AES_256_GCM, payload.SM4_GCM])
def test_gcm_refuses_a_tampered_ciphertext(algorithm):
    import json

    key = payload.new_key(algorithm)
    envelope = json.loads(payload.encrypt(algorithm=algorithm, key=key, plaintext=b"hello world"))
    raw = bytearray(base64.b64decode(envelope["data"]))
    raw[0] ^= 1
    envelope["data"] = base64.b64encode(bytes(raw)).decode()
    with pytest.raises(payload.PayloadError):
        payload.decrypt(algorithm=algorithm, key=key, envelope=json.dumps(envelope).encode())


@pytest.mark.parametrize(
    "envelope", [b"", b"not json", b"[]", b'{"iv": "!!", "data": ""}', b'{"alg": "SM4-GCM"}']
)
def test_malformed_envelopes_are_payload_errors(envelope):
    with pytest.raises(payload.PayloadError):
        payload.decrypt(
            algorithm=payload.AES_256_GCM, key=payload.new_key(payload.AES_256_GCM), envelope=envelope
        )
