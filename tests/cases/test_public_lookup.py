"""INT-6 lookup abuse: the address throttle follows the proxy rule, a case locks after repeated wrong codes, the
counts live in the shared cache (Redis when configured)."""

from __future__ import annotations

import uuid

import pytest
import redis
from django.test import override_settings
from rest_framework.test import APIClient

from hotline.cases import services
from hotline.cases.models import Case
from hotline.common.crypto import hash_code
from tests.conftest import case_input

URL = "/api/v1/public/case-status/"
pytestmark = pytest.mark.django_db
REDIS_URL = "redis://127.0.0.1:6379/0"


def new_case(city, people) -> tuple[Case, str]:
    result = services.case_intake(actor=people.agent, data=case_input(city))
    return result.case, result.query_password


def lookup(client: APIClient, number: str, password: str, **headers: str):
    return client.post(URL, {"number": number, "password": password}, format="json", **headers)


def wrong(password: str) -> str:
    return "1" * len(password) if password != "1" * len(password) else "2" * len(password)


def test_new_codes_have_eight_digits_and_old_six_digit_codes_still_work(city, people):
    case, password = new_case(city, people)
    assert len(password) == 8 and password.isdigit()
    Case.objects.filter(pk=case.pk).update(query_password=hash_code("123456"))
    assert lookup(APIClient(), case.number, "123456").status_code == 200


@pytest.mark.parametrize("trusted", [[], ["127.0.0.1"]])
def test_rotating_forwarded_for_does_not_bypass_the_address_throttle(city, people, trusted):
    case, password = new_case(city, people)
    client = APIClient()
    with override_settings(HOTLINE_TRUSTED_PROXIES=trusted, HOTLINE_LOOKUP_FAILURE_LIMIT=1000):
        codes = [
            lookup(client, "20990101000000", "0", HTTP_X_FORWARDED_FOR=f"10.{i}.0.1, 203.0.113.9").status_code
            for i in range(25)
        ]
    assert codes[:20] == [404] * 20 and set(codes[20:]) == {429}


def test_a_case_locks_after_repeated_wrong_codes_from_any_address(city, people):
    case, password = new_case(city, people)
    with override_settings(HOTLINE_TRUSTED_PROXIES=["127.0.0.1"]):
        answers = [
            lookup(APIClient(), case.number, wrong(password), HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
            for i in range(5)
        ]
        assert [a.status_code for a in answers] == [404, 404, 404, 404, 429]
        locked = lookup(APIClient(), case.number, password, HTTP_X_FORWARDED_FOR="198.51.100.99")
    assert locked.status_code == 429 and locked["Retry-After"] == "1800"
    assert "锁定" in locked.json()["detail"]


def test_the_right_code_resets_the_failure_count(city, people):
    case, password = new_case(city, people)
    client = APIClient()
    for _ in range(4):
        assert lookup(client, case.number, wrong(password)).status_code == 404
    assert lookup(client, case.number, password).status_code == 200
    for _ in range(4):
        assert lookup(client, case.number, wrong(password)).status_code == 404
    assert lookup(client, case.number, password).status_code == 200


def test_the_counts_live_in_redis_when_configured(city, people):
    prefix = f"test-{uuid.uuid4().hex}"
    caches = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": prefix,
        }
    }
    case, password = new_case(city, people)
    raw = redis.Redis.from_url(REDIS_URL)
    try:
        with override_settings(CACHES=caches):
            for _ in range(5):
                lookup(APIClient(), case.number, wrong(password))
            assert lookup(APIClient(), case.number, password).status_code == 429
        # Another process reading the same Redis sees the lock: it is not in this process's memory.
        assert raw.keys(f"{prefix}:*lockout:case-lookup:{case.pk}:locked")
        with override_settings(CACHES=caches):
            assert lookup(APIClient(), case.number, password).status_code == 429
    finally:
        for key in raw.scan_iter(f"{prefix}:*"):
            raw.delete(key)
