"""Call control and supervision without SIP: what the call bar and the monitor page accept and refuse (4xx with
the reason, the agent's own seat only, supervisors only), what reaches the call controller, the CDR page."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from hotline.common.errors import NotAllowed, NotFound, ServiceError
from hotline.common.models import AuditLog
from hotline.telephony import push, services
from hotline.telephony.models import Agent, CallControl, Number, Queue
from hotline.telephony.states import AgentEvent, AgentState

from ..conftest import as_user


@pytest.fixture(autouse=True)
def telephony_on(settings: Any) -> None:
    settings.HOTLINE_TELEPHONY = "on"


@pytest.fixture
def talking(people: Any) -> tuple[Agent, Any]:
    """Agent 1001 (people.agent's seat) talking with a citizen; 1002 ready."""
    queue = Queue.objects.create(code="general", name="综合")
    Number.objects.create(number="12345", name="热线", queue=queue)
    seat = services.agent_create(
        agent_id="1001", password="secret1", extension="1001", skills=[queue], user=people.agent, actor=None
    )
    other = services.agent_create(
        agent_id="1002", password="secret1", extension="1002", skills=[queue], actor=None
    )
    for a in (seat, other):
        services.agent_event(agent_pk=a.pk, event=AgentEvent.LOGIN)
        services.agent_event(agent_pk=a.pk, event=AgentEvent.READY)
    call = services.call_arrive(call_id="cc01", leg_id="in-1", caller="13812345678", dialed="12345", node="n")
    call = services.call_enqueue(call=call, queue=queue)
    services.call_offer(call=call, agent_pk=seat.pk, leg_id="out-1", remote="sip:1001@x", node="n")
    services.call_connect(call=call, leg_id="out-1")
    return Agent.objects.get(pk=seat.pk), call


def control_messages() -> Any:
    return push.broker().listen(push.CONTROL_CHANNEL, timeout=0.01)


@pytest.mark.django_db(transaction=True)
def test_transfer_and_consult_targets_are_checked_and_sent_to_the_controller(
    people: Any, talking: Any
) -> None:
    seat, call = talking
    listener = control_messages()
    client = Client()
    client.force_login(people.agent)
    cases = [
        ({"action": "transfer", "target_kind": "agent", "target": "9999"}, "坐席工号不存在"),
        ({"action": "transfer", "target_kind": "agent", "target": "1001"}, "坐席工号不存在"),  # not oneself
        ({"action": "transfer", "target_kind": "queue", "target": "nope"}, "队列不存在"),
        ({"action": "consult", "target_kind": "queue", "target": "general"}, "请选择转接目标类型"),
        ({"action": "transfer", "target_kind": "number", "target": "12-34"}, "号码应为"),
        ({"action": "explode"}, "不支持的操作"),
    ]
    for data, reason in cases:
        refused = client.post("/telephony/callbar/call/", data)
        assert refused.status_code == 400 and reason in refused.content.decode(), data
    assert next(listener) is None  # nothing reached the controller
    services.agent_event(
        agent_pk=Agent.objects.get(agent_id="1002").pk, event=AgentEvent.NOT_READY, reason="meal"
    )
    busy = client.post(
        "/telephony/callbar/call/", {"action": "transfer", "target_kind": "agent", "target": "1002"}
    )
    assert busy.status_code == 400 and "当前不空闲" in busy.content.decode()
    ok = client.post(
        "/telephony/callbar/call/", {"action": "transfer", "target_kind": "queue", "target": "general"}
    )
    assert ok.status_code == 200
    sent = json.loads(next(listener) or "{}")
    assert (sent["action"], sent["call_id"], sent["target_kind"], sent["agent"]) == (
        "transfer",
        "cc01",
        "queue",
        seat.pk,
    )
    bar = client.get("/telephony/callbar/").content.decode()
    assert 'data-testid="callbar-transfer"' in bar and 'data-testid="callbar-consult-start"' in bar
    # Someone else's seat: refused.
    with pytest.raises(NotAllowed):
        services.agent_call_action(agent=seat, action="hangup", actor=people.dispatcher)
    # Consult buttons only for a consult in progress.
    with pytest.raises(ServiceError):
        services.agent_call_action(
            agent=Agent.objects.get(agent_id="1002"), action="consult_transfer", actor=None
        )


@pytest.mark.django_db(transaction=True)
def test_monitor_is_for_supervisors_with_a_seat_and_every_mode_is_audited(people: Any, talking: Any) -> None:
    seat, call = talking
    listener = control_messages()
    with pytest.raises(NotAllowed):
        services.call_monitor(call_id=call.call_id, mode="listen", actor=people.agent)
    with pytest.raises(ServiceError):  # a supervisor without a seat has no phone to ring
        services.call_monitor(call_id=call.call_id, mode="listen", actor=people.monitor)
    services.agent_create(
        agent_id="9001", password="secret1", extension="1009", user=people.monitor, actor=None
    )
    with pytest.raises(NotFound):
        services.call_monitor(call_id="no-such-call", mode="listen", actor=people.monitor)
    with pytest.raises(ServiceError):
        services.call_monitor(call_id=call.call_id, mode="spy", actor=people.monitor)
    client = Client()
    client.force_login(people.monitor)
    page = client.get("/telephony/monitor/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "138****5678" in text and "13812345678" not in text  # masked on the board
    assert client.post("/telephony/monitor/", {"call_id": call.call_id, "mode": "whisper"}).status_code == 302
    sent = json.loads(next(listener) or "{}")
    assert (sent["action"], sent["mode"], sent["extension"]) == ("monitor", "whisper", "1009")
    assert client.post("/telephony/monitor/", {"call_id": call.call_id, "mode": "bad"}).status_code == 400
    assert CallControl.objects.filter(call=call, kind="whisper", actor=people.monitor).count() == 1
    assert AuditLog.objects.filter(actor=people.monitor, summary__startswith="monitor_whisper").exists()
    agent_client = Client()
    agent_client.force_login(people.agent)
    assert agent_client.get("/telephony/monitor/").status_code == 403
    assert (
        agent_client.post("/telephony/monitor/", {"call_id": call.call_id, "mode": "listen"}).status_code
        == 403
    )
    assert agent_client.get("/telephony/cdr/").status_code == 403


def test_cdr_page_filters_and_refuses_a_bad_date(people: Any, talking: Any) -> None:
    seat, call = talking
    services.call_end(call=call)
    client = Client()
    client.force_login(people.monitor)
    day = timezone.localtime(call.started_at).date().isoformat()
    page = client.get("/telephony/cdr/", {"day": day, "caller": "5678", "agent": "1001"})
    assert page.status_code == 200 and page.content.decode().count('data-testid="cdr-row"') == 1
    assert (
        client.get("/telephony/cdr/", {"agent": "1002"}).content.decode().count('data-testid="cdr-row"') == 0
    )
    assert client.get("/telephony/cdr/", {"day": "2026-13-45"}).status_code == 400
    assert Agent.objects.get(pk=seat.pk).state == AgentState.WRAP_UP


@pytest.mark.django_db(transaction=True)
def test_call_control_and_monitor_through_the_api(people: Any, talking: Any, api: Any) -> None:
    seat, call = talking
    listener = control_messages()
    as_user(api, people.agent)
    bad = api.post(
        "/api/v1/telephony/call-action/", {"action": "transfer", "target_kind": "number", "target": "x"}
    )
    assert bad.status_code == 400 and "target" in bad.json()["errors"]
    assert api.post("/api/v1/telephony/call-action/", {"action": "nope"}).status_code == 400
    ok = api.post(
        "/api/v1/telephony/call-action/", {"action": "consult", "target_kind": "number", "target": "1003"}
    )
    assert ok.status_code == 202
    assert json.loads(next(listener) or "{}")["target"] == "1003"
    assert (
        api.post("/api/v1/telephony/monitor/", {"call_id": call.call_id, "mode": "listen"}).status_code == 403
    )
    as_user(api, people.dispatcher)  # no seat
    assert api.post("/api/v1/telephony/call-action/", {"action": "hangup"}).status_code == 404
