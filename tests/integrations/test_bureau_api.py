"""A bureau's own system works its unit's assignments through the signed API (API-3): the same rules and timeline
as a person, nothing outside its unit, stale versions refused."""

from __future__ import annotations

import base64
import json

import pytest

from hotline.cases.models import CaseEvent, CaseStatus
from hotline.integrations import payload, signing
from hotline.integrations.services import partner_create
from tests.conftest import dispatched_to, fresh


def _call(client, partner, creds, path, body=None, method="POST"):
    raw = b"" if body is None else json.dumps(body).encode()
    key = base64.b64decode(creds.encryption_key) if creds.encryption_key else b""
    if key and raw:
        raw = payload.encrypt(algorithm=partner.encryption, key=key, plaintext=raw)
    headers = signing.signed_headers(
        partner=partner.code, secret=creds.secret.encode(), method=method, path=path, body=raw
    )
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    if method == "GET":
        response = client.get(path, **extra)
    else:
        response = client.post(path, data=raw, content_type="application/json", **extra)
    if key and response.status_code == 200:
        return response.status_code, json.loads(
            payload.decrypt(algorithm=partner.encryption, key=key, envelope=response.content)
        )
    return response.status_code, response.json()


@pytest.fixture
def tax_system(admin_user, city):
    return partner_create(
        actor=admin_user,
        code="tax-system",
        name="税务局系统",
        kind="bureau",
        unit=city.tax,
        scopes=["cases:result"],
        encryption=payload.SM4_GCM,
    )


def test_the_bureau_system_signs_for_records_and_reports(client, city, people, tax_system):
    partner, creds = tax_system
    case = dispatched_to(city, people, city.tax)
    status, rows = _call(client, partner, creds, "/api/v1/partner/assignments/", method="GET")
    assert status == 200 and [r["case"]["number"] for r in rows] == [case.number]
    assert rows[0]["case"]["caller"]["phone"] == "138****5678"
    pk, version = rows[0]["id"], rows[0]["version"]
    base = f"/api/v1/partner/assignments/{pk}"
    status, row = _call(client, partner, creds, f"{base}/sign-for/", {"version": version})
    assert status == 200, row
    status, row = _call(
        client,
        partner,
        creds,
        f"{base}/handling-records/",
        {"result": "已联系纳税人核实", "version": row["version"]},
    )
    assert status == 200, row
    status, row = _call(
        client,
        partner,
        creds,
        f"{base}/report/",
        {"result": "已办结，退还多缴税款", "version": row["version"]},
    )
    assert status == 200, row
    assert fresh(case).status == CaseStatus.RESULT_REVIEW
    actors = set(
        CaseEvent.objects.filter(case=case, action__in=["sign_for", "report"]).values_list(
            "actor__username", flat=True
        )
    )
    assert actors == {"partner-tax-system"}


def test_nothing_outside_its_unit_and_bad_input(client, city, people, tax_system):
    partner, creds = tax_system
    other = dispatched_to(city, people, city.housing)
    foreign = other.assignments.get().pk
    status, _ = _call(client, partner, creds, f"/api/v1/partner/assignments/{foreign}/sign-for/", {})
    assert status == 404
    mine = dispatched_to(city, people, city.tax).assignments.get().pk
    status, body = _call(
        client, partner, creds, f"/api/v1/partner/assignments/{mine}/extension/", {"reason": "x"}
    )
    assert status == 400 and "requested_due_at" in body["errors"]
    status, _ = _call(client, partner, creds, f"/api/v1/partner/assignments/{mine}/dispatch/", {})
    assert status == 404  # an office action is not offered to a bureau system
    status, body = _call(
        client, partner, creds, f"/api/v1/partner/assignments/{mine}/sign-for/", {"version": 1}
    )
    assert status == 409, body


def test_scope_is_required(client, admin_user, city, people):
    partner, creds = partner_create(
        actor=admin_user, code="ro", name="ro", kind="bureau", unit=city.tax, scopes=["ping"]
    )
    status, body = _call(client, partner, creds, "/api/v1/partner/assignments/", method="GET")
    assert status == 403 and body["reason"] == "scope"
