"""Password spraying: many user names tried from one address. axes locks a user name per address after
repeated failures; a sprayer tries each name a few times only, so the address itself is locked once failures for
`HOTLINE_LOGIN_SPRAY_LIMIT` distinct user names come from it within an hour. Counted in the shared cache by the
proxy-rule address; a call centre behind one NAT address is not locked by a few agents mistyping.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied

from hotline.common.netaddr import request_client_ip
from hotline.common.throttles import increment, shared_cache

WINDOW_SECONDS = 3600


def _lock_seconds() -> int:
    return int(float(settings.AXES_COOLOFF_TIME) * 3600)


def _locked_key(address: str) -> str:
    return f"spray:{address}:locked"


def address_locked_for(address: str | None) -> int:
    if not address:
        return 0
    until = shared_cache().get(_locked_key(address))
    return max(0, int(float(until) - time.time())) if until else 0


def record_failure(*, address: str | None, username: str) -> bool:
    """Count a failed login; True when the address is (now) locked."""
    if not address:
        return False
    cache = shared_cache()
    name = hashlib.sha256(username.strip().lower().encode()).hexdigest()[:16]
    if cache.add(f"spray:{address}:user:{name}", 1, timeout=WINDOW_SECONDS):
        distinct = increment(f"spray:{address}:users", WINDOW_SECONDS)
        if distinct >= settings.HOTLINE_LOGIN_SPRAY_LIMIT:
            seconds = _lock_seconds()
            cache.set(_locked_key(address), time.time() + seconds, timeout=seconds)
    return address_locked_for(address) > 0


def on_login_failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kwargs: Any) -> None:
    if request is not None:
        username = str(credentials.get("username", "") or "")
        record_failure(address=request_client_ip(request), username=username)


class SprayGuardBackend:
    """First in AUTHENTICATION_BACKENDS: refuses every login from a locked address (right password or not).

    Deliberately no `get_user` (like axes' backend): it authenticates nobody, so sessions never name it.
    """

    def authenticate(self, request: Any, **credentials: Any) -> None:
        if request is not None and address_locked_for(request_client_ip(request)):
            raise PermissionDenied("login address locked (password spraying)")
        return None
