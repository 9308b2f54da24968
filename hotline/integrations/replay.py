"""Spending a nonce and counting a partner's requests in one step (API-5 replay window and rate limit).

With Redis (`HOTLINE_REDIS_URL`, shared by every server process) both happen in one pipelined round trip:
`SET nonce NX EX` and `INCR` of the minute's counter. Without it, Django's cache of this process does the same
in three calls (development and tests).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.conf import settings

from hotline.common.throttles import increment, shared_cache


@dataclass(frozen=True)
class Spent:
    fresh: bool  # False: the nonce was seen within the window (a replay)
    count: int  # requests of this partner in the current minute, this one included


@lru_cache(maxsize=4)
def _redis(url: str) -> Any:
    import redis

    return redis.Redis.from_url(url, socket_timeout=2)


def spend(*, partner_id: int, nonce: str, minute: int, nonce_ttl: int) -> Spent:
    nonce_key = f"hotline:partner-nonce:{partner_id}:{nonce}"
    rate_key = f"hotline:partner-rate:{partner_id}:{minute}"
    url = getattr(settings, "HOTLINE_REDIS_URL", "")
    if url:
        pipe = _redis(url).pipeline(transaction=False)
        pipe.set(nonce_key, 1, nx=True, ex=nonce_ttl)
        pipe.incr(rate_key)
        pipe.expire(rate_key, 90)
        fresh, count, _ = pipe.execute()
        return Spent(fresh=bool(fresh), count=int(count))
    fresh = shared_cache().add(nonce_key, 1, timeout=nonce_ttl)
    return Spent(fresh=fresh, count=increment(rate_key, 90))


def count(*, partner_id: int, minute: int) -> int:
    """Count one request of a partner that carries no nonce (an API-key call) in the same per-minute counter."""
    rate_key = f"hotline:partner-rate:{partner_id}:{minute}"
    url = getattr(settings, "HOTLINE_REDIS_URL", "")
    if url:
        pipe = _redis(url).pipeline(transaction=False)
        pipe.incr(rate_key)
        pipe.expire(rate_key, 90)
        value, _ = pipe.execute()
        return int(value)
    return increment(rate_key, 90)
