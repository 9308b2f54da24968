"""Every anonymous throttle counts the proxy-rule address in the shared cache: rotating X-Forwarded-For (DRF's own
throttles key on the whole header) bypasses none of them."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from hotline.common.throttles import AddressRateThrottle


def views() -> list[object]:
    found: list[object] = []

    def walk(patterns: list[object]) -> None:
        for p in patterns:
            if isinstance(p, URLResolver):
                walk(p.url_patterns)
            elif isinstance(p, URLPattern):
                found.append(getattr(p.callback, "cls", None) or getattr(p.callback, "view_class", None))

    walk(get_resolver().url_patterns)
    return [v for v in found if v is not None]


def test_every_api_throttle_keys_on_the_proxy_rule_address():
    throttles = {t for v in views() for t in getattr(v, "throttle_classes", [])}
    assert throttles  # the public lookup, password reset, hot questions …
    wrong = [
        t for t in throttles if issubclass(t, SimpleRateThrottle) and not issubclass(t, AddressRateThrottle)
    ]
    assert wrong == []


@pytest.mark.django_db
def test_rotating_forwarded_for_does_not_bypass_the_password_code_throttle():
    client = APIClient()
    codes = [
        client.post(
            "/api/v1/public/query-password/code/",
            {"number": "20990101000001", "contact": "13800000000"},
            format="json",
            HTTP_X_FORWARDED_FOR=f"10.9.{i}.1",
        ).status_code
        for i in range(22)
    ]
    assert codes[-1] == 429 and codes.count(429) == 2, codes
