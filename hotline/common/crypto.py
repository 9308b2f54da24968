"""Encryption at rest for personal data: Fernet (AES-128-CBC + HMAC) plus a keyed hash for exact search."""

from __future__ import annotations

import base64
import hashlib
import hmac
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
