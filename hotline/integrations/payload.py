"""Optional payload encryption per partner (API-5): AES-256-GCM, SM4-GCM, SM4-CBC; DES-CBC only as legacy.

A body is the JSON envelope `{"alg": ..., "iv": base64, "data": base64}`; GCM appends its 16-byte tag to `data`.
CBC modes carry no tag of their own: the request signature (signing.py) covers the envelope and is what protects it.
"""

from __future__ import annotations

import base64
import json
import logging
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

NONE = "none"
AES_256_GCM = "AES-256-GCM"
SM4_GCM = "SM4-GCM"
SM4_CBC = "SM4-CBC"
DES_CBC = "DES-CBC"
LEGACY = frozenset({DES_CBC})

KEY_BYTES = {AES_256_GCM: 32, SM4_GCM: 16, SM4_CBC: 16, DES_CBC: 8}
IV_BYTES = {AES_256_GCM: 12, SM4_GCM: 12, SM4_CBC: 16, DES_CBC: 8}
TAG_BYTES = 16


class PayloadError(ValueError):
    """The envelope is malformed or does not decrypt with the partner's key."""


def new_key(algorithm: str) -> bytes:
    return os.urandom(KEY_BYTES[algorithm])


def encrypt(*, algorithm: str, key: bytes, plaintext: bytes) -> bytes:
    iv = os.urandom(IV_BYTES[algorithm])
    if algorithm == AES_256_GCM:
        data = AESGCM(key).encrypt(iv, plaintext, None)
    elif algorithm == SM4_GCM:
        encryptor = Cipher(algorithms.SM4(key), modes.GCM(iv)).encryptor()
        data = encryptor.update(plaintext) + encryptor.finalize() + encryptor.tag
    elif algorithm in (SM4_CBC, DES_CBC):
        data = _cbc(algorithm, key, iv).encryptor().update(_pad(algorithm, plaintext))
    else:
        raise ValueError(f"unknown cipher {algorithm!r}")
    if algorithm in LEGACY:
        log.warning("payload encrypted with the legacy cipher %s", algorithm)
    return json.dumps({"alg": algorithm, "iv": _b64(iv), "data": _b64(data)}).encode()


def decrypt(*, algorithm: str, key: bytes, envelope: bytes) -> bytes:
    try:
        parsed: Any = json.loads(envelope)
        iv, data = _unb64(parsed["iv"]), _unb64(parsed["data"])
        sent_alg = parsed.get("alg", algorithm)
    except (ValueError, KeyError, TypeError) as exc:
        raise PayloadError("envelope") from exc
    if sent_alg != algorithm or len(iv) != IV_BYTES.get(algorithm, -1):
        raise PayloadError("algorithm")
    try:
        if algorithm == AES_256_GCM:
            return AESGCM(key).decrypt(iv, data, None)
        if algorithm == SM4_GCM:
            if len(data) < TAG_BYTES:
                raise PayloadError("tag")
            decryptor = Cipher(algorithms.SM4(key), modes.GCM(iv, data[-TAG_BYTES:])).decryptor()
            return decryptor.update(data[:-TAG_BYTES]) + decryptor.finalize()
        if algorithm in (SM4_CBC, DES_CBC):
            return _unpad(algorithm, _cbc(algorithm, key, iv).decryptor().update(data))
    except (InvalidTag, ValueError) as exc:
        raise PayloadError("decrypt") from exc
    raise PayloadError("algorithm")


def _cbc(algorithm: str, key: bytes, iv: bytes) -> Cipher[modes.CBC]:
    # Single DES is TripleDES with one 8-byte key (K1 = K2 = K3): kept only for partners that cannot move.
    block = algorithms.SM4(key) if algorithm == SM4_CBC else TripleDES(key * 3)
    return Cipher(block, modes.CBC(iv))


def _block_bits(algorithm: str) -> int:
    return 64 if algorithm == DES_CBC else 128


def _pad(algorithm: str, data: bytes) -> bytes:
    padder = padding.PKCS7(_block_bits(algorithm)).padder()
    return padder.update(data) + padder.finalize()


def _unpad(algorithm: str, data: bytes) -> bytes:
    unpadder = padding.PKCS7(_block_bits(algorithm)).unpadder()
    return unpadder.update(data) + unpadder.finalize()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode(), validate=True)
