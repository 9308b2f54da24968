"""Hostile input on every page and list endpoint is a 4xx, never a 500 (run it on PostgreSQL too):
integers beyond 64 bits, years 1 and 9999, NUL bytes, deeply nested JSON (anonymous endpoints included)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from hotline.orgs.models import User
from tests.conftest import submitted_case

pytestmark = pytest.mark.django_db

HUGE = "1" + "0" * 23  # 10^23
PARAMS = [
    "unit",
    "page",
    "page_size",
    "from",
    "to",
    "date_from",
    "date_to",
    "since",
    "until",
    "year",
    "month",
    "id",
    "q",
    "status",
    "number",
    "district",
    "bureau",
    "case_type",
    "days",
    "limit",
    "directory",
    "phone",
]
HOSTILE = {
    "beyond 64 bits": {p: HUGE for p in PARAMS},
    "negative beyond 64 bits": {p: "-" + HUGE for p in PARAMS},
    "year 1": {p: "0001-01-01" for p in PARAMS},
    "year 9999": {p: "9999-12-31" for p in PARAMS},
    "NUL": {p: "a\x00b" for p in PARAMS},
}
# Values inside the bounds must be handled by the views themselves.
EDGE = {
    "int64 max": {p: str(2**63 - 1) for p in PARAMS},
    "oldest allowed year": {p: "1900-01-01" for p in PARAMS},
    "latest allowed year": {p: "2199-12-31" for p in PARAMS},
    "nonsense": {p: "x'\"<>" for p in PARAMS},
}


def get_paths(case_id: int) -> list[str]:
    """Every GET-able route: literal ones as they are, `<int:…>` ones with the case's id."""
    found: list[str] = []

    def walk(patterns: list[Any], prefix: str) -> None:
        for p in patterns:
            route = str(p.pattern)
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + route)
            elif isinstance(p, URLPattern):
                path = prefix + route
                if path.startswith(("admin/", "^", "i18n/")) or "(?P" in path or "logout" in path:
                    continue
                path = re.sub(r"<int:\w+>", str(case_id), path)
                if "<" in path:
                    continue
                found.append("/" + path)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def test_hostile_query_strings_never_500(city, people):
    case = submitted_case(city, people)
    root = User.objects.create_superuser(username="root", password="x", full_name="root", unit=city.office)
    client = Client(raise_request_exception=False)
    client.force_login(root)
    paths = get_paths(case.pk)
    assert len(paths) > 60 and "/supervision/" in paths and "/api/v1/cases/" in paths
    failures = []
    for path in paths:
        for name, params in {**HOSTILE, **EDGE}.items():
            status = client.get(path, params).status_code
            if status >= 500 or (name in HOSTILE and status < 400 and status not in (301, 302, 405)):
                failures.append((path, name, status))
    assert failures == [], failures


@pytest.mark.parametrize("anonymous", [True, False])
def test_hostile_json_bodies_are_400(city, people, anonymous):
    client = Client(raise_request_exception=False)
    if not anonymous:
        client.force_login(people.agent)
    deep: Any = "x"
    for _ in range(5000):
        deep = [deep]
    bodies = {
        "deep": deep,
        "huge int": {"number": 10**23, "password": "1", "version": 10**23},
        "NUL": {"number": "2026\x00", "password": "\x00"},
        "year 1": {"number": "0001-01-01", "due_at": "0001-01-01T00:00:00"},
    }
    for path in ["/api/v1/public/case-status/", "/api/v1/cases/", "/api/v1/auth/token/"]:
        for name, body in bodies.items():
            import json

            raw = json.dumps(body) if name != "deep" else "[" * 5000 + "]" * 5000
            response = client.post(path, raw, content_type="application/json")
            assert response.status_code == 400, (path, name, response.status_code)


def test_supervision_from_year_1_is_a_clear_400(city, people):
    client = Client(raise_request_exception=False)
    client.force_login(people.dispatcher)
    response = client.get("/supervision/", {"from": "0001-01-01"})
    assert response.status_code == 400 and "日期超出范围" in response.content.decode()


def test_a_page_with_a_nul_form_value_is_400(city, people):
    client = Client(raise_request_exception=False)
    client.force_login(people.agent)
    response = client.post("/cases/new/", {"content": "噪音\x00", "action": "submit"})
    assert response.status_code == 400
