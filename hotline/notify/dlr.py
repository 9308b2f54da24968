"""Authenticating Kannel's delivery reports (`/notify/kannel/dlr/`, no login).

Two keys, both derived per deployment: the dlr-url we give Kannel carries `key` (the deployment's DLR secret,
`HOTLINE_KANNEL_DLR_SECRET`, by default derived from `DJANGO_SECRET_KEY`), and the message reference is
`<outbox id>-<HMAC of the id>`, so knowing or guessing outbox ids marks nothing delivered or failed.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings


def dlr_secret() -> str:
    configured = getattr(settings, "HOTLINE_KANNEL_DLR_SECRET", "")
    if configured:
        return str(configured)
    return hmac.new(settings.SECRET_KEY.encode(), b"kannel-dlr-secret", hashlib.sha256).hexdigest()[:32]


def _digest(message_id: int) -> str:
    key = hashlib.sha256(b"dlr-reference:" + dlr_secret().encode()).digest()
    return hmac.new(key, str(message_id).encode(), hashlib.sha256).hexdigest()[:24]


def sign_reference(message_id: int) -> str:
    return f"{message_id}-{_digest(message_id)}"


def verify_reference(reference: str) -> int | None:
    """The outbox id of a signed reference, or None when it is not one of ours."""
    head, _, digest = reference.partition("-")
    if not head.isdigit() or len(head) > 18 or not digest:
        return None
    message_id = int(head)
    return message_id if hmac.compare_digest(digest, _digest(message_id)) else None


def valid_key(key: str) -> bool:
    return bool(key) and hmac.compare_digest(key.encode(), dlr_secret().encode())
