"""Throttles and lockouts kept in the shared cache (Redis when `HOTLINE_REDIS_URL` is set), keyed by the client
address taken by the proxy rule — never by a header the client writes.

Counting is a fixed window with an atomic increment (`cache.add` + `cache.incr`): every web process and server
sees the same count, and concurrent requests cannot both read "19" and both pass. DRF's own SimpleRateThrottle
reads, appends and writes back a list, which loses counts under concurrency.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from rest_framework.throttling import SimpleRateThrottle

from .netaddr import request_client_ip

CACHE_ALIAS = "default"


def shared_cache() -> BaseCache:
    return caches[CACHE_ALIAS]


def increment(key: str, timeout: int) -> int:
    """Add one to a counter that expires `timeout` seconds after its first increment; atomic on Redis."""
    cache = shared_cache()
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return int(cache.incr(key))
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1


def client_ident(request: Any) -> str:
    return request_client_ip(request) or "unknown"


class AddressRateThrottle(SimpleRateThrottle):
    """A rate per client address (proxy rule), counted in the shared cache. Subclasses set `scope` and `rate`."""

    scope = "address"
    cache_format = "throttle:%(scope)s:%(ident)s"

    def __init__(self) -> None:
        if not getattr(self, "rate", None):
            self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        self._wait = 0.0

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        return self.cache_format % {"scope": self.scope, "ident": client_ident(request)}

    def get_ident(self, request: Any) -> str:
        return client_ident(request)

    def allow_request(self, request: Any, view: Any) -> bool:
        if self.rate is None or self.num_requests is None or self.duration is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        count = increment(f"{key}:{window}", self.duration + 1)
        if count <= self.num_requests:
            return True
        self._wait = (window + 1) * self.duration - now
        return False

    def wait(self) -> float | None:
        return max(self._wait, 1.0)


class AnonymousAddressRateThrottle(AddressRateThrottle):
    """Counts only anonymous visitors (signed-in staff are not throttled by the public rates)."""

    def get_cache_key(self, request: Any, view: Any) -> str | None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return None
        return super().get_cache_key(request, view)


@dataclass(frozen=True)
class Lockout:
    """Locks a key (e.g. one case's lookup) for `lock_seconds` after `limit` failures within `window_seconds`."""

    name: str
    limit: int
    window_seconds: int
    lock_seconds: int

    def _keys(self, key: str) -> tuple[str, str]:
        return f"lockout:{self.name}:{key}:failures", f"lockout:{self.name}:{key}:locked"

    def locked_for(self, key: str) -> int:
        """Seconds the key stays locked (0: not locked)."""
        until = shared_cache().get(self._keys(key)[1])
        return max(0, math.ceil(float(until) - time.time())) if until else 0

    def fail(self, key: str) -> int:
        """Count a failure; returns the seconds the key is now locked for (0 while under the limit)."""
        failures_key, locked_key = self._keys(key)
        if increment(failures_key, self.window_seconds) < self.limit:
            return 0
        shared_cache().set(locked_key, time.time() + self.lock_seconds, timeout=self.lock_seconds)
        shared_cache().delete(failures_key)
        return self.lock_seconds

    def succeed(self, key: str) -> None:
        shared_cache().delete(self._keys(key)[0])
