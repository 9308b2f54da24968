"""Emergency linkage (API-4): one click on the case page hands the case to the 110 platform — timeline, signed push
to the platform's real HTTP endpoint, acknowledgement and outcome back through the signed partner API, the
10-minute hand-over figure — and nobody outside the case's scope or the transfer roles can do it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.urls import reverse

from hotline.cases.lifecycle import Action
from hotline.common import clock
from hotline.integrations import emergency, signing
from hotline.integrations.delivery import deliver_due
from hotline.integrations.models import EmergencyHandover, Partner
from hotline.integrations.services import partner_create, subscription_create
from tests.conftest import submitted_case
from tests.integrations.partner_server import PartnerServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def police(admin_user, city):
    partner, creds = partner_create(
        actor=admin_user, code="police-110", name="市公安110指挥中心", kind="emergency",
        scopes=[Partner.Scope.CASES_RESULT],
    )  # fmt: skip
    server = PartnerServer(secret=creds.secret.encode(), code=partner.code).start()
    subscription_create(
        actor=admin_user, partner=partner, url=server.url, events=["emergency", "status_changed"]
    )
    yield partner, creds, server
    server.stop()


def _feedback(client, partner, secret, handover_id, body):
    path = reverse("partner-emergency-feedback", args=[handover_id])
    raw = json.dumps(body).encode()
    headers = signing.signed_headers(
        partner=partner.code, secret=secret.encode(), method="POST", path=path, body=raw
    )
    extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
    return client.post(path, data=raw, content_type="application/json", **extra)


def test_one_click_hands_the_case_to_110_and_the_platform_reports_back(client, city, people, police):
    partner, creds, server = police
    case = submitted_case(
        city,
        people,
        content="幸福社区12栋楼下有两名男子持刀争吵，情况危急，周围有老人和小孩，请马上派警察到现场处理。来电人在二楼窗口看到，双方情绪激动，已有一人受轻伤，来电人不敢下楼。",
    )
    client.force_login(people.agent)
    panel = reverse("integ-case-emergency", args=[case.pk])
    page = client.get(panel).content.decode()
    assert "一键转交" in page and "市公安110指挥中心" in page
    answer = client.post(panel, {"service": "110", "partner": partner.pk, "note": "持刀，二楼"})
    assert answer.status_code == 200 and "已转交，待接收" in answer.content.decode()
    handover = EmergencyHandover.objects.get()
    assert (handover.case, handover.service, handover.requested_by) == (case, "110", people.agent)
    assert case.events.filter(action=Action.EMERGENCY_TRANSFER, opinion__contains="持刀，二楼").exists()
    again = client.post(panel, {"service": "110", "partner": partner.pk})
    assert again.status_code == 400 and "等待接收" in again.content.decode()

    assert deliver_due() == 1
    pushed = server.received[0]
    assert pushed["event"] == "emergency" and pushed["handover_id"] == handover.pk
    assert pushed["case"]["number"] == case.number and server.bad_signatures == 0

    with clock.frozen_now(handover.requested_at + dt.timedelta(minutes=4)):
        ack = _feedback(
            client, partner, creds.secret, handover.pk, {"status": "acknowledged", "external_id": "JJ-88"}
        )
    assert ack.status_code == 200, ack.content
    assert ack.json()["handover_seconds"] == 240 and ack.json()["external_id"] == "JJ-88"
    done = _feedback(
        client, partner, creds.secret, handover.pk, {"status": "finished", "note": "已出警，双方已劝离"}
    )
    assert done.status_code == 200 and done.json()["status"] == "finished"
    handover.refresh_from_db()
    assert handover.feedback == "已出警，双方已劝离" and handover.finished_at is not None
    assert case.events.filter(action=Action.EMERGENCY_FEEDBACK).count() == 2
    assert "已出警" in client.get(panel).content.decode()

    figure = emergency.handover_figure(partner=partner)
    assert (figure.total, figure.acknowledged, figure.within_limit) == (1, 1, 1)
    bad = _feedback(client, partner, creds.secret, handover.pk, {"status": "lost"})
    assert bad.status_code == 400


def test_the_figure_counts_late_and_missing_acknowledgements(city, people, police):
    partner, _creds, _server = police
    now = clock.now()
    case = submitted_case(city, people)
    base = {"case": case, "partner": partner, "service": "110", "requested_by": people.agent}
    EmergencyHandover.objects.create(**base, requested_at=now - dt.timedelta(minutes=30),
                                     acknowledged_at=now - dt.timedelta(minutes=25))  # fmt: skip
    EmergencyHandover.objects.create(**base, requested_at=now - dt.timedelta(minutes=30),
                                     acknowledged_at=now - dt.timedelta(minutes=15))  # fmt: skip
    EmergencyHandover.objects.create(
        **base, requested_at=now - dt.timedelta(minutes=20)
    )  # never acknowledged
    EmergencyHandover.objects.create(
        **base, requested_at=now - dt.timedelta(minutes=2)
    )  # still within its time
    figure = emergency.handover_figure(partner=partner)
    assert (figure.total, figure.acknowledged, figure.within_limit) == (3, 2, 1)


def test_scope_roles_and_other_platforms(client, city, people, police, admin_user):
    partner, creds, _server = police
    case = submitted_case(city, people)
    panel = reverse("integ-case-emergency", args=[case.pk])
    client.force_login(people.west)  # another unit: the case does not exist for it
    assert client.get(panel).status_code == 404
    assert client.post(panel, {"service": "110", "partner": partner.pk}).status_code == 404
    client.force_login(people.leader)  # sees the case, may not transfer
    assert "一键转交" not in client.get(panel).content.decode()
    assert client.post(panel, {"service": "110", "partner": partner.pk}).status_code == 400
    assert not EmergencyHandover.objects.exists()

    client.force_login(people.dispatcher)
    assert client.post(panel, {"service": "999", "partner": partner.pk}).status_code == 400
    assert client.post(panel, {"service": "119", "partner": partner.pk}).status_code == 200
    handover = EmergencyHandover.objects.get()
    other, other_creds = partner_create(
        actor=admin_user, code="fire-119", name="119", kind="emergency", scopes=[Partner.Scope.CASES_RESULT]
    )
    refused = _feedback(client, other, other_creds.secret, handover.pk, {"status": "acknowledged"})
    assert refused.status_code == 404
    handover.refresh_from_db()
    assert handover.acknowledged_at is None
