"""IVR menus as data, end to end (see `e2e.py`): a SIPp citizen presses a key (RFC 2833) and reaches the queue
the published flow sends that key to; no key → the menu is replayed, then its fallback; outside service hours →
a message and voicemail, on the callback list."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from hotline.common import clock
from hotline.orgs.models import User
from hotline.telephony import services
from hotline.telephony.models import Agent, Call, Flow, IvrStep, MissedCall, Number, Queue, QueueLog
from hotline.telephony.states import AgentEvent

from .e2e import BASE, PROXY, controller_var_dir, finished, pump
from .sip_tools import sipp_citizen


def hotline_with_menu(
    *, hours: str = "00:00-24:00", closed: str = "closed"
) -> tuple[dict[str, Queue], dict[str, Agent]]:
    """Two queues (1001 serves 综合, 1002 serves 投诉) and 12345 running a published menu: service hours →
    menu (1 投诉, 2 综合; timeout 2 s, one replay, then 综合) / closed → message → voicemail."""
    admin = User.objects.create(username="ivradmin", is_superuser=True)
    queues = {
        "general": Queue.objects.create(code="general", name="综合"),
        "complaints": Queue.objects.create(code="complaints", name="投诉"),
    }
    agents = {}
    for user, queue in (("1001", "general"), ("1002", "complaints")):
        agent = services.agent_create(
            agent_id=user, password="secret1", extension=user, skills=[queues[queue]], actor=None
        )
        services.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
        agents[user] = services.agent_event(agent_pk=agent.pk, event=AgentEvent.READY)
    flow = services.ivr_flow_create(code="main", name="主菜单", actor=admin)
    graph = {
        "start": "hours",
        "nodes": [
            {
                "id": "hours",
                "type": "hours",
                "ranges": hours,
                "days": "everyday",
                "open": "menu",
                "closed": closed,
            },
            {
                "id": "menu",
                "type": "menu",
                "prompt": "投诉请按1，其他事项请按2。",
                "digits": 1,
                "timeout": 2,
                "retries": 1,
                "options": {"1": "to_complaints", "2": "to_general"},
                "fallback": "to_general",
            },
            {"id": "to_complaints", "type": "queue", "queue": "complaints"},
            {"id": "to_general", "type": "queue", "queue": "general"},
            {"id": "closed", "type": "play", "prompt": "现在是非工作时间。", "next": "leave_message"},
            {"id": "leave_message", "type": "voicemail", "prompt": "请在提示音后留言。"},
            {"id": "duty", "type": "transfer", "number": "1003", "fallback": "leave_message"},
        ],
    }
    if closed != "closed":  # the message node would be unreachable
        graph["nodes"] = [n for n in graph["nodes"] if n["id"] != "closed"]
    elif not any(n.get("closed") == "duty" for n in graph["nodes"]):
        graph["nodes"] = [n for n in graph["nodes"] if n["id"] != "duty"]
    draft, problems = services.ivr_draft_save(flow=flow, graph=graph, actor=admin)
    assert problems == []
    services.ivr_publish(flow=flow, actor=admin)
    Number.objects.create(
        number="12345", name="12345热线", queue=queues["general"], flow=Flow.IVR, ivr_flow=flow
    )
    return queues, agents


def steps(call: Call) -> list[tuple[str, str, str]]:
    return list(IvrStep.objects.filter(call=call).values_list("node", "event", "digits"))


@pytest.mark.django_db(transaction=True)
def test_key_1_reaches_the_complaints_queue_not_the_longest_idle_general_agent(
    sip_env: dict[str, Any], controller: Any
):
    queues, agents = hotline_with_menu()
    sipp = sipp_citizen(
        work=sip_env["work"],
        proxy=PROXY,
        number="12345",
        caller="13800000001",
        sip_port=BASE + 26,
        media_port=BASE + 1960,
        keys="1",
        keys_after_ms=1500,
        talk_ms=4000,
    )
    try:
        pump(controller, sip_env["phones"], lambda user: "accept", finished({"caller": "13800000001"}), 40)
        assert sipp.wait(timeout=60) == 0
    finally:
        if sipp.poll() is None:
            sipp.kill()
    call = Call.objects.get(caller="13800000001")
    assert (call.disposition, call.agent_id, call.queue_id) == (
        "answered",
        agents["1002"].pk,
        queues["complaints"].pk,
    )
    assert call.ivr_version is not None and call.ivr_version.status == "published"
    assert steps(call) == [
        ("hours", "enter", ""),
        ("menu", "enter", ""),
        ("menu", "keys", "1"),
        ("to_complaints", "enter", ""),
    ]
    assert list(QueueLog.objects.filter(call=call).values_list("event", flat=True)) == [
        "enqueue",
        "offer",
        "connect",
    ]


@pytest.mark.django_db(transaction=True)
def test_no_key_replays_the_menu_once_then_the_fallback_queue(sip_env: dict[str, Any], controller: Any):
    queues, agents = hotline_with_menu()
    sipp = sipp_citizen(
        work=sip_env["work"],
        proxy=PROXY,
        number="12345",
        caller="13800000002",
        sip_port=BASE + 27,
        media_port=BASE + 1980,
        keys="",
        talk_ms=16000,
    )
    try:
        pump(controller, sip_env["phones"], lambda user: "accept", finished({"caller": "13800000002"}), 40)
        assert sipp.wait(timeout=60) == 0
    finally:
        if sipp.poll() is None:
            sipp.kill()
    call = Call.objects.get(caller="13800000002")
    assert (call.disposition, call.agent_id) == ("answered", agents["1001"].pk)
    assert steps(call) == [
        ("hours", "enter", ""),
        ("menu", "enter", ""),
        ("menu", "timeout", ""),
        ("menu", "enter", ""),
        ("menu", "timeout", ""),
        ("to_general", "enter", ""),
    ]


@pytest.mark.django_db(transaction=True)
def test_outside_service_hours_the_caller_hears_the_message_and_leaves_a_voicemail(
    sip_env: dict[str, Any], controller: Any
):
    hour = timezone.localtime(clock.now()).hour
    queues, agents = hotline_with_menu(hours="13:00-14:00" if hour < 12 else "01:00-02:00")
    sipp = sipp_citizen(
        work=sip_env["work"],
        proxy=PROXY,
        number="12345",
        caller="13800000003",
        sip_port=BASE + 28,
        media_port=BASE + 2000,
        keys="",
        talk_ms=12000,
    )
    try:
        pump(controller, sip_env["phones"], lambda user: "accept", finished({"caller": "13800000003"}), 40)
        assert sipp.wait(timeout=60) == 0
    finally:
        if sipp.poll() is None:
            sipp.kill()
    call = Call.objects.get(caller="13800000003")
    assert (call.disposition, call.agent_id, call.queue_id) == ("voicemail", None, queues["general"].pk)
    assert [s[0] for s in steps(call)] == ["hours", "closed", "leave_message"]
    missed = MissedCall.objects.get(call=call)
    assert missed.reason == "voicemail" and missed.recording is not None
    message = Path(controller_var_dir()) / missed.recording.path
    assert message.exists() and missed.recording.duration_ms > 1000
    assert not QueueLog.objects.filter(call=call).exists()


@pytest.mark.django_db(transaction=True)
def test_outside_service_hours_the_call_goes_to_the_duty_number(sip_env: dict[str, Any], controller: Any):
    hour = timezone.localtime(clock.now()).hour
    queues, agents = hotline_with_menu(hours="13:00-14:00" if hour < 12 else "01:00-02:00", closed="duty")
    sipp = sipp_citizen(
        work=sip_env["work"],
        proxy=PROXY,
        number="12345",
        caller="13800000004",
        sip_port=BASE + 34,
        media_port=BASE + 2120,
        keys="",
        talk_ms=6000,
    )
    try:
        pump(controller, sip_env["phones"], lambda user: "accept", finished({"caller": "13800000004"}), 40)
        assert sipp.wait(timeout=60) == 0
    finally:
        if sipp.poll() is None:
            sipp.kill()
    call = Call.objects.get(caller="13800000004")
    assert (call.disposition, call.agent_id) == ("answered", None)
    assert call.time_to_person_ms is not None  # the duty officer is the person reached
    assert [s[0] for s in steps(call)] == ["hours", "duty"]
    duty = call.legs.get(role="external")
    assert (duty.remote, duty.purpose) == (f"sip:1003@{PROXY}", "transfer") and duty.answered_at
    assert not MissedCall.objects.filter(call=call).exists()
