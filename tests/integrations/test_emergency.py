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


@pytest.fixture
def agent_on_call(people, settings):
    """people.agent's seat talking with a citizen on call `em01`."""
    from hotline.telephony import services as tel
    from hotline.telephony.models import Agent, Number, Queue
    from hotline.telephony.states import AgentEvent

    settings.HOTLINE_TELEPHONY = "on"
    queue = Queue.objects.create(code="general", name="综合")
    Number.objects.create(number="12345", name="热线", queue=queue)
    seat = tel.agent_create(
        agent_id="1001", password="secret1", extension="1001", skills=[queue], user=people.agent, actor=None
    )
    tel.agent_event(agent_pk=seat.pk, event=AgentEvent.LOGIN)
    tel.agent_event(agent_pk=seat.pk, event=AgentEvent.READY)
    call = tel.call_arrive(call_id="em01", leg_id="in-1", caller="13812345678", dialed="12345", node="n")
    call = tel.call_enqueue(call=call, queue=queue)
    tel.call_offer(call=call, agent_pk=seat.pk, leg_id="out-1", remote="sip:1001@x", node="n")
    tel.call_connect(call=call, leg_id="out-1")
    return Agent.objects.get(pk=seat.pk), call


def test_one_click_also_transfers_the_linked_call_to_the_service_number(
    client, city, people, police, agent_on_call, django_capture_on_commit_callbacks
):
    from hotline.telephony import push
    from hotline.telephony import services as tel

    partner, _creds, server = police
    seat, call = agent_on_call
    case = submitted_case(
        city,
        people,
        content="幸福社区12栋楼下有两名男子持刀争吵，情况危急，周围有老人和小孩，请马上派警察到现场处理。来电人在二楼窗口看到，双方情绪激动，已有一人受轻伤，来电人仍在线。",
    )
    listener = push.broker().listen(push.CONTROL_CHANNEL, timeout=0.01)
    client.force_login(people.agent)
    panel = reverse("integ-case-emergency", args=[case.pk])
    assert 'name="transfer_call"' in client.get(panel).content.decode()

    # the call is not linked to this case: the data goes alone, nothing reaches the call controller
    with django_capture_on_commit_callbacks(execute=True):
        client.post(panel, {"service": "110", "partner": partner.pk, "transfer_call": "on"})
    first = EmergencyHandover.objects.get()
    assert first.voice_number == "" and next(listener) is None

    EmergencyHandover.objects.update(status=EmergencyHandover.Status.FINISHED)
    tel.call_link_case(call_id=call.call_id, case=case)
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(panel, {"service": "110", "partner": partner.pk, "transfer_call": "on"})
    assert answer.status_code == 200 and "通话已转接 110" in answer.content.decode()
    handover = EmergencyHandover.objects.latest("pk")
    assert handover.voice_number == "110"
    sent = json.loads(next(listener) or "{}")
    assert sent["action"] == "transfer" and sent["target_kind"] == "number" and sent["target"] == "110"
    assert sent["call_id"] == "em01" and sent["agent"] == seat.pk
    assert case.events.filter(action=Action.EMERGENCY_TRANSFER, opinion__contains="通话已转接 110").exists()
    deliver_due()
    pushed = {
        p["handover_id"]: p["voice_transferred_to"] for p in server.received if p["event"] == "emergency"
    }
    assert pushed == {first.pk: None, handover.pk: "110"}

    # unticked: no voice transfer even with the linked call on
    EmergencyHandover.objects.update(status=EmergencyHandover.Status.FINISHED)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(panel, {"service": "110", "partner": partner.pk})
    assert EmergencyHandover.objects.latest("pk").voice_number == "" and next(listener) is None
