"""The public throttles (portal password reset, its API, the knowledge portal, the case-status lookup) count in
the shared store — Redis when `HOTLINE_REDIS_URL` is set — so every web process sees one count (issue 10)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
import redis
from django.test import Client

REDIS_URL = os.environ.get("HOTLINE_TEST_THROTTLE_REDIS", "redis://127.0.0.1:6379/2")


def _redis() -> redis.Redis | None:
    try:
        client = redis.Redis.from_url(REDIS_URL)
        client.ping()
        return client
    except redis.RedisError:
        return None


pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(_redis() is None and not os.environ.get("CI"), reason="Redis is not running here"),
]


@pytest.fixture
def store(settings: Any) -> Iterator[redis.Redis]:
    """The default cache on Redis, as production configures it (settings/base.py with HOTLINE_REDIS_URL)."""
    client = _redis()
    assert client is not None
    client.flushdb()
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
    }
    yield client
    client.flushdb()


def _counted(store: redis.Redis, scope: str) -> int:
    """The hits counted under a throttle scope, read straight from Redis (what another process would see)."""
    total = 0
    for key in store.scan_iter(match=f"*throttle:{scope}:*"):
        total += int(store.get(key) or 0)
    return total


@pytest.mark.parametrize(
    ("path", "body", "scope", "limit"),
    [
        (
            "/portal/query-password/",
            {"step": "code", "number": "20990101000001", "contact": "13800000000"},
            "portal_query_password",
            30,
        ),
        (
            "/api/v1/public/query-password/code/",
            {"number": "20990101000001", "contact": "13800000000"},
            "query_password_code",
            20,
        ),
        (
            "/api/v1/public/query-password/reset/",
            {"number": "20990101000001", "code": "123456"},
            "query_password_reset",
            30,
        ),
    ],
)
def test_password_reset_throttles_count_in_redis(store, path, body, scope, limit):
    client = Client()
    codes = [client.post(path, body).status_code for _ in range(limit + 1)]
    assert codes[-1] == 429 and 429 not in codes[:-1], codes
    assert _counted(store, scope) == limit + 1


def test_the_knowledge_portal_and_the_case_status_lookup_count_in_redis(store):
    client = Client()
    for _ in range(3):
        client.get("/portal/kb/", {"q": "社保"})
        client.post("/api/v1/public/case-status/", {"number": "20990101000001", "password": "12345678"})
    assert _counted(store, "kb_portal") == 3
    assert _counted(store, "case_lookup") == 3
