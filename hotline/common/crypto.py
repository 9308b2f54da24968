"""Encryption at rest for personal data: Fernet (AES-128-CBC + HMAC) plus a keyed hash for exact search."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from functools import lru_cache

from cryptography.fernet import Fernet
from django.conf import settings


@lru_cache(maxsize=4)
def _keys(secret: str) -> tuple[Fernet, bytes]:
    material = hashlib.sha256(secret.encode()).digest()
    fernet = Fernet(base64.urlsafe_b64encode(material))
    lookup = hashlib.sha256(b"lookup:" + material).digest()
    return fernet, lookup


def encrypt(value: str) -> str:
    if not value:
        return ""
    return _keys(settings.HOTLINE_DATA_KEY)[0].encrypt(value.encode()).decode()


def decrypt(token: str) -> str:
    if not token:
        return ""
    return _keys(settings.HOTLINE_DATA_KEY)[0].decrypt(token.encode()).decode()


def lookup_hash(value: str) -> str:
    """Deterministic keyed hash, indexed, so an exact value can be found without decrypting every row."""
    if not value:
        return ""
    return hmac.new(_keys(settings.HOTLINE_DATA_KEY)[1], value.encode(), hashlib.sha256).hexdigest()


def mask_phone(value: str) -> str:
    return value[:3] + "****" + value[-4:] if len(value) >= 11 else value[:2] + "****"


def mask_id_card(value: str) -> str:
    return value[:6] + "********" + value[-4:] if len(value) == 18 else "****"


def hash_code(code: str) -> str:
    """A keyed, salted hash of a short code (a case's 6-digit query password).

    A slow password hash buys nothing for six digits (the space is tiny either way; the lookup endpoint is
    rate-limited) and would hold the intake transaction for a quarter of a second.
    """
    salt = secrets.token_hex(8)
    return f"hmac${salt}${_code_digest(salt, code)}"


def check_code(code: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    return scheme == "hmac" and hmac.compare_digest(digest, _code_digest(salt, code))


def _code_digest(salt: str, code: str) -> str:
    key = _keys(settings.HOTLINE_DATA_KEY)[1]
    return hmac.new(key, f"code:{salt}:{code}".encode(), hashlib.sha256).hexdigest()
