"""Open311 GeoReport v2 (API-2): a third-party client library (PyPI `georeport`) works against us unchanged,
in JSON and XML; POST with a partner's api_key makes a request awaiting an agent; reads never leak."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pytest
import requests
from georeport import GeoReport

from hotline.cases.models import Case, CaseStatus
from hotline.common import clock
from hotline.integrations.services import partner_create


@pytest.fixture
def civic_app(admin_user):
    partner, creds = partner_create(
        actor=admin_user, code="civic-app", name="随手拍", kind="civic_app", scopes=["open311"]
    )
    return partner, creds.api_key


def _post(base, api_key, **fields):
    data = {"api_key": api_key, "service_code": "complaint", "description": "小区门口路灯坏了三天，晚上很黑",
            "address_string": "东湖区幸福路 12 号", "phone": "13812345678", "first_name": "女士", "last_name": "王"}  # fmt: skip
    data.update(fields)
    return requests.post(f"{base}/open311/v2/requests.json", data=data, timeout=60)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_third_party_client_reads_services_and_definitions(transactional_db, live_server, city, fmt):
    client = GeoReport(f"{live_server.url}/open311/v2", output_format=fmt)
    services = client.get_service_list()
    codes = {s["service_code"] for s in services}
    assert {"complaint", "consultation"} <= codes or "complaint" in codes
    definition = client.get_service_definition("complaint")
    assert definition["service_code"] == "complaint"


def test_post_then_follow_it_with_the_client(transactional_db, live_server, city, civic_app):
    _, api_key = civic_app
    response = _post(live_server.url, api_key)
    assert response.status_code == 201, response.text
    answer = response.json()[0]
    case = Case.objects.get(number=answer["service_request_id"])
    assert case.status == CaseStatus.DRAFT and case.intake_by is None and case.channel == "app"
    token = requests.get(f"{live_server.url}/open311/v2/tokens/{answer['token']}.json", timeout=60).json()
    assert token[0]["service_request_id"] == case.number
    client = GeoReport(f"{live_server.url}/open311/v2", api_key=api_key)
    # the library sends no api_key on reads: ask with it ourselves
    mine = requests.get(
        f"{live_server.url}/open311/v2/requests.json", params={"api_key": api_key}, timeout=10
    ).json()
    assert [r["service_request_id"] for r in mine] == [case.number]
    assert mine[0]["status"] == "open" and "13812345678" not in str(mine) and "王" not in str(mine)
    # without the key, the library sees nothing of it (not public)
    assert client.get_service_requests() == []
    assert (
        requests.get(f"{live_server.url}/open311/v2/requests/{case.number}.json", timeout=60).status_code
        == 404
    )


def test_public_hot_questions_are_readable_by_anyone_in_json_and_xml(
    transactional_db, live_server, city, people
):
    from tests.conftest import submitted_case

    case = submitted_case(city, people, is_public=True)
    Case.objects.filter(pk=case.pk).update(
        status=CaseStatus.CLOSED, push_hot=True, closed_at=clock.now(), answer="已修复"
    )
    json_rows = GeoReport(f"{live_server.url}/open311/v2").get_service_requests(status="closed")
    assert [r["service_request_id"] for r in json_rows] == [case.number]
    assert json_rows[0]["status"] == "closed" and "138" not in str(json_rows)
    xml_row = GeoReport(f"{live_server.url}/open311/v2", output_format="xml").get_service_request(case.number)
    assert xml_row["service_request_id"] == case.number and xml_row["status"] == "closed"
    assert GeoReport(f"{live_server.url}/open311/v2").get_service_requests(status="open") == []


def test_bad_posts_and_keys(transactional_db, live_server, city, civic_app):
    _, api_key = civic_app
    assert _post(live_server.url, "nope.nope").status_code == 403
    bad = _post(live_server.url, api_key, service_code="nothing", description="", address_string="")
    assert bad.status_code == 400 and len(bad.json()) == 3 and bad.json()[0]["code"] == 400
    assert _post(live_server.url, api_key, lat="200", long="1").status_code == 400
    xml = requests.post(f"{live_server.url}/open311/v2/requests.xml", data={"api_key": "x"}, timeout=60)
    assert xml.status_code == 403 and ET.fromstring(xml.content).find("error/code").text == "403"
    assert not Case.objects.exists()


def test_another_partners_requests_stay_hidden(transactional_db, live_server, city, civic_app, admin_user):
    _, api_key = civic_app
    _post(live_server.url, api_key)
    _, other = partner_create(actor=admin_user, code="other-app", name="别的应用", scopes=["open311"])
    theirs = requests.get(
        f"{live_server.url}/open311/v2/requests.json", params={"api_key": other.api_key}, timeout=60
    )
    assert theirs.json() == []


def test_date_window_defaults_and_limits(transactional_db, live_server, city):
    base = f"{live_server.url}/open311/v2/requests.json"
    now = clock.now()
    too_long = {"start_date": (now - dt.timedelta(days=100)).isoformat(), "end_date": now.isoformat()}
    assert requests.get(base, params=too_long, timeout=60).status_code == 400
    assert requests.get(base, params={"start_date": "yesterday"}, timeout=60).status_code == 400
    assert (
        requests.get(base, params={"start_date": "2026-12-01T00:00:00"}, timeout=60).status_code == 400
    )  # no zone
    ok = {"start_date": (now - dt.timedelta(days=10)).isoformat(), "end_date": now.isoformat()}
    assert requests.get(base, params=ok, timeout=60).status_code == 200


def test_discovery(transactional_db, live_server):
    doc = requests.get(f"{live_server.url}/open311/discovery.json", timeout=60).json()
    assert doc["endpoints"][0]["url"].endswith("/open311/v2")
    assert doc["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    assert (
        ET.fromstring(requests.get(f"{live_server.url}/open311/discovery.xml", timeout=60).content).tag
        == "discovery"
    )


def test_keyed_calls_are_in_the_partners_call_log(client, city, civic_app):
    """A call with an api_key is a partner's call: logged like a signed one; keyless public reads are not."""
    from hotline.integrations.models import PartnerCall

    partner, api_key = civic_app
    base = "/open311/v2/requests.json"
    assert client.get(base, {"api_key": api_key}).status_code == 200
    assert client.post(base, {"api_key": api_key, "service_code": "nothing"}).status_code == 400
    assert client.get(base, {"api_key": "nope.nope"}).status_code == 403
    assert client.get(base).status_code == 200
    rows = list(PartnerCall.objects.order_by("id").values_list("partner", "method", "status_code", "reason"))
    assert rows == [
        (partner.pk, "GET", 200, ""),
        (partner.pk, "POST", 400, "open311"),
        (None, "GET", 403, "bad_api_key"),
    ]


def test_a_keyed_caller_gets_its_partners_allowlist_and_limit(client, city, admin_user):
    _, fenced = partner_create(
        actor=admin_user, code="fenced-app", name="围栏", scopes=["open311"], allowed_networks="10.0.0.0/8"
    )
    base = "/open311/v2/requests.json"
    assert client.get(base, {"api_key": fenced.api_key}).status_code == 403  # the test client is 127.0.0.1
    assert client.post(base, {"api_key": fenced.api_key}).status_code == 403
    _, busy = partner_create(
        actor=admin_user, code="busy-app", name="忙", scopes=["open311"], rate_per_minute=2
    )
    codes = [client.get(base, {"api_key": busy.api_key}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    _, calm = partner_create(
        actor=admin_user, code="calm-app", name="闲", scopes=["open311"], rate_per_minute=2
    )
    assert client.get(base, {"api_key": calm.api_key}).status_code == 200


def test_a_partners_own_requests_are_paged_by_the_links_case_time(city, people, civic_app, client):
    """Keyed listing walks the partner's links newest first a page at a time: filters that reject a whole page
    still find older matches, the window applies to the case's time, and a post records that time on its link."""
    from hotline.integrations.models import Open311Request
    from hotline.integrations.open311 import requests_view
    from tests.conftest import submitted_case

    partner, api_key = civic_app
    now = clock.now()
    cases = [submitted_case(city, people) for _ in range(7)]
    for age, case in enumerate(cases):  # cases[0] newest
        at = now - dt.timedelta(days=age)
        Case.objects.filter(pk=case.pk).update(
            created_at=at, status=CaseStatus.CLOSED if age < 3 else CaseStatus.SUBMITTED
        )
        Open311Request.objects.create(
            partner=partner, token=f"t{case.pk}", case_id=case.pk, created_at=now, case_created_at=at
        )
    window = (now - dt.timedelta(days=90), now)
    numbers = [
        c.number for c in Case.objects.order_by("-created_at", "-id").filter(pk__in=[c.pk for c in cases])
    ]

    def listed(**kw):
        return [r["service_request_id"] for r in requests_view.search(partner=partner, **kw)]

    assert listed(window=window, limit=3) == numbers[:3]
    assert listed(window=window, limit=2, statuses=["open"]) == numbers[3:5]  # past a page of closed ones
    assert listed(window=window, limit=10, statuses=["open"]) == numbers[3:]
    assert (
        listed(window=(now - dt.timedelta(days=4, hours=1), now), limit=10, statuses=["open"]) == numbers[3:5]
    )
    assert listed(window=window, limit=10, service_codes=["consultation"]) == []

    response = client.post(
        "/open311/v2/requests.json",
        {"api_key": api_key, "service_code": "complaint", "description": "小区门口路灯坏了三天，晚上很黑",
         "address_string": "东湖区幸福路 12 号", "phone": "13812345678"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    posted = Case.objects.get(number=response.json()[0]["service_request_id"])
    assert Open311Request.objects.get(case_id=posted.pk).case_created_at == posted.created_at
    assert listed(window=(window[0], clock.now()), limit=1) == [posted.number]
