"""The superior 12345 platform and the police platform (seed 4.5, API-4): a case sent down arrives once, goes
to the dispatchers from the sender's channel, and its progress is reported back at every stage; the sender reads
only its own cases. Both directions over real HTTP: the sender posts to our live server, we push to its server."""

from __future__ import annotations

import json

import pytest
import requests

from hotline.cases import services as case_services
from hotline.cases.models import AssignmentRole, Case, CaseStatus
from hotline.integrations import signing
from hotline.integrations.delivery import deliver_due
from hotline.integrations.models import Delivery
from hotline.integrations.services import partner_create, subscription_create
from tests.integrations.partner_server import PartnerServer

CASE = {
    "external_id": "SD-2026-000123",
    "case_type": "complaint",
    "title": "小区噪音扰民",
    "content": "上级平台转来：东湖区幸福路 8 号附近工地连续一周夜间施工到凌晨两点，噪音严重影响周边居民休息，来电人多次向施工方反映无果，请核实处理并答复。",
    "caller": {"name": "李先生", "phone": "13900001111"},
    "location": "东湖区幸福路 8 号",
    "deadline": "2026-12-20T18:00:00+08:00",
}


def _send(base, partner, secret, method, path, body=None):
    raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
    headers = signing.signed_headers(
        partner=partner.code, secret=secret.encode(), method=method, path=path, body=raw
    )
    return requests.request(
        method, base + path, data=raw, headers={**headers, "Content-Type": "application/json"}, timeout=60
    )


@pytest.fixture
def province(admin_user):
    partner, creds = partner_create(
        actor=admin_user, code="province-12345", name="省 12345 平台", kind="superior",
        scopes=["cases:receive", "cases:read"],
    )  # fmt: skip
    server = PartnerServer(secret=creds.secret.encode(), code=partner.code).start()
    subscription_create(
        actor=admin_user, partner=partner, url=server.url, events=["status_changed", "closed"]
    )
    yield partner, creds.secret, server
    server.stop()


def test_both_directions(transactional_db, live_server, city, people, province):
    partner, secret, server = province
    first = _send(live_server.url, partner, secret, "POST", "/api/v1/partner/cases/", CASE)
    assert first.status_code == 201, first.text
    again = _send(live_server.url, partner, secret, "POST", "/api/v1/partner/cases/", CASE)
    assert again.status_code == 200 and again.json()["number"] == first.json()["number"]
    case = Case.objects.get()
    assert case.status == CaseStatus.SUBMITTED and case.channel == "other_hotline"
    assert case.origin["external_id"] == "SD-2026-000123"
    # our progress goes back: dispatch, then the sender reads it too
    case_services.case_dispatch(
        case=case, actor=people.dispatcher, expected_version=case.version,
        targets=[case_services.Target(city.tax, AssignmentRole.MAIN)],
    )  # fmt: skip
    deliver_due()
    reports = sorted(server.received, key=lambda m: m["event_id"])
    assert [(m["event"], m["to_status"]) for m in reports] == [
        ("status_changed", "submitted"),  # accepted here
        ("status_changed", "dispatched"),
    ]
    assert server.received[0]["case"]["number"] == case.number and server.bad_signatures == 0
    read = _send(live_server.url, partner, secret, "GET", "/api/v1/partner/cases/SD-2026-000123/")
    assert read.status_code == 200 and read.json()["status"] == "dispatched"


def test_the_sender_reads_and_hears_only_its_own(
    transactional_db, live_server, city, people, province, admin_user
):
    partner, secret, server = province
    from tests.conftest import dispatched_to

    dispatched_to(city, people, city.tax)  # a local case
    deliver_due()
    assert server.received == [] and not Delivery.objects.exists()
    other, creds = partner_create(
        actor=admin_user, code="police", name="110", kind="emergency", scopes=["cases:receive", "cases:read"]
    )
    _send(
        live_server.url,
        other,
        creds.secret,
        "POST",
        "/api/v1/partner/cases/",
        {**CASE, "external_id": "110-9"},
    )
    assert Case.objects.get(origin__external_id="110-9").channel == "police_110"
    assert _send(live_server.url, partner, secret, "GET", "/api/v1/partner/cases/110-9/").status_code == 404


def test_bad_cases_are_400_with_field_errors(transactional_db, live_server, city, province):
    partner, secret, _ = province
    bad = _send(
        live_server.url,
        partner,
        secret,
        "POST",
        "/api/v1/partner/cases/",
        {**CASE, "external_id": "bad id!", "content": ""},
    )
    assert bad.status_code == 400 and {"external_id", "content"} <= set(bad.json()["errors"])
    unknown = _send(
        live_server.url, partner, secret, "POST", "/api/v1/partner/cases/", {**CASE, "case_type": "nope"}
    )
    assert unknown.status_code == 400 and "case_type" in unknown.json()["errors"]
    assert not Case.objects.exists()
