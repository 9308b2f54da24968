"""Signed partner requests (API-5): the canonical string, the signature, the headers.

Pure functions with no Django import, so a partner's developer can copy this module as the client SDK.

    canonical = METHOD \n PATH?QUERY \n TIMESTAMP \n NONCE \n hex(digest(BODY))
    signature = base64(HMAC(secret, canonical))

The digest is SHA-256 for HMAC-SHA256 and SM3 for HMAC-SM3 (GM/T 0004). The body is signed exactly as sent (the
ciphertext envelope when the payload is encrypted), so the signature also protects an encrypted body's integrity.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

HMAC_SHA256 = "HMAC-SHA256"
HMAC_SM3 = "HMAC-SM3"
ALGORITHMS = (HMAC_SHA256, HMAC_SM3)

HEADER_PARTNER = "X-Hotline-Partner"
HEADER_TIMESTAMP = "X-Hotline-Timestamp"
HEADER_NONCE = "X-Hotline-Nonce"
HEADER_METHOD = "X-Hotline-Signature-Method"
HEADER_SIGNATURE = "X-Hotline-Signature"

NONCE_ALPHABET = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")


def body_digest(body: bytes, algorithm: str) -> str:
    if algorithm == HMAC_SM3:
        digest = hashes.Hash(hashes.SM3())
        digest.update(body)
        return digest.finalize().hex()
    return hashlib.sha256(body).hexdigest()


def canonical(*, method: str, path: str, timestamp: str, nonce: str, body: bytes, algorithm: str) -> bytes:
    return "\n".join((method.upper(), path, timestamp, nonce, body_digest(body, algorithm))).encode()


def sign(
    *,
    secret: bytes,
    method: str,
    path: str,
    timestamp: str,
    nonce: str,
    body: bytes,
    algorithm: str = HMAC_SHA256,
) -> str:
    message = canonical(
        method=method, path=path, timestamp=timestamp, nonce=nonce, body=body, algorithm=algorithm
    )
    if algorithm == HMAC_SM3:
        mac = crypto_hmac.HMAC(secret, hashes.SM3())
        mac.update(message)
        raw = mac.finalize()
    elif algorithm == HMAC_SHA256:
        raw = hmac.new(secret, message, hashlib.sha256).digest()
    else:
        raise ValueError(f"unknown signature method {algorithm!r}")
    return base64.b64encode(raw).decode()


def signatures_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def signed_headers(
    *,
    partner: str,
    secret: bytes,
    method: str,
    path: str,
    body: bytes = b"",
    algorithm: str = HMAC_SHA256,
    timestamp: int | None = None,
    nonce: str | None = None,
) -> dict[str, str]:
    """The headers a partner sends with one request (`path` includes the query string exactly as sent)."""
    stamp = str(int(time.time()) if timestamp is None else timestamp)
    nonce = nonce or secrets.token_urlsafe(16)
    return {
        HEADER_PARTNER: partner,
        HEADER_TIMESTAMP: stamp,
        HEADER_NONCE: nonce,
        HEADER_METHOD: algorithm,
        HEADER_SIGNATURE: sign(
            secret=secret,
            method=method,
            path=path,
            timestamp=stamp,
            nonce=nonce,
            body=body,
            algorithm=algorithm,
        ),
    }


def valid_nonce(nonce: str) -> bool:
    return 16 <= len(nonce) <= 64 and all(ch in NONCE_ALPHABET for ch in nonce)
