"""End to end (see `e2e.py`; runs inside a compact 1,000-port range with HOTLINE_TEST_TEL_COMPACT=1): a SIPp
citizen keys four digits (RFC 2833) into a collect node and a condition over them routes the call to the
complaints agent; an agent transfers a caller to an IVR flow and gets the caller back when the flow's `back`
node is reached (the agent on hold meanwhile), the agent-ID announcement played on each answer."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.orgs.models import User
from hotline.telephony import services
from hotline.telephony.models import Agent, Call, CallControl, Flow, IvrStep, Number, Queue
from hotline.telephony.states import AgentEvent, AgentState

from .e2e import BASE, MEDIA_BASE, PROXY, finished, pump
from .sip_tools import sipp_citizen


def seats() -> tuple[dict[str, Queue], dict[str, Agent], User]:
    admin = User.objects.create(username="e2e-ivr-admin", is_superuser=True)
    queues = {code: Queue.objects.create(code=code, name=code) for code in ("general", "complaints")}
    agents = {}
    for user, queue in (("1001", "general"), ("1002", "complaints")):
        owner = User.objects.create(username=f"seat-{user}")
        agent = services.agent_create(
            agent_id=user, password="secret1", extension=user, skills=[queues[queue]], user=owner, actor=None
        )
        services.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
        agents[user] = services.agent_event(agent_pk=agent.pk, event=AgentEvent.READY)
    return queues, agents, admin


def publish(admin: User, code: str, graph: dict[str, Any]) -> Any:
    flow = services.ivr_flow_create(code=code, name=code, actor=admin)
    assert services.ivr_draft_save(flow=flow, graph=graph, actor=admin)[1] == []
    services.ivr_publish(flow=flow, actor=admin)
    return flow


@pytest.mark.django_db(transaction=True)
def test_keyed_digits_and_a_condition_route_the_call(sip_env: dict[str, Any], controller: Any) -> None:
    queues, agents, admin = seats()
    flow = publish(
        admin,
        "keyed",
        {
            "start": "vip",
            "nodes": [
                {
                    "id": "vip",
                    "type": "condition",
                    "branches": [{"when": "level == vip", "next": "to_general"}],
                    "fallback": "ask",
                },
                {
                    "id": "ask",
                    "type": "collect",
                    "prompt": "请输入四位业务代码。",
                    "digits": 4,
                    "timeout": 6,
                    "retries": 0,
                    "var": "code",
                    "next": "route",
                    "fallback": "to_general",
                    "invalid": "to_general",
                },
                {
                    "id": "route",
                    "type": "condition",
                    "branches": [{"when": "code in (1234, 5678)", "next": "to_complaints"}],
                    "fallback": "to_general",
                },
                {"id": "to_general", "type": "queue", "queue": "general"},
                {"id": "to_complaints", "type": "queue", "queue": "complaints"},
            ],
        },
    )
    Number.objects.create(number="12345", name="热线", queue=queues["general"], flow=Flow.IVR, ivr_flow=flow)
    sipp = sipp_citizen(
        work=sip_env["work"],
        proxy=PROXY,
        number="12345",
        caller="13900000301",
        sip_port=BASE + 35,
        media_port=MEDIA_BASE,
        keys="1234",
        keys_after_ms=1200,
        talk_ms=8000,
    )
    try:
        pump(controller, sip_env["phones"], lambda user: "accept", finished({"caller": "13900000301"}), 45)
        assert sipp.wait(timeout=60) == 0
    finally:
        if sipp.poll() is None:
            sipp.kill()
    call = Call.objects.get(caller="13900000301")
    assert (call.disposition, call.agent_id, call.queue_id) == (
        "answered",
        agents["1002"].pk,
        queues["complaints"].pk,
    )
    assert list(IvrStep.objects.filter(call=call).values_list("node", "event", "digits")) == [
        ("vip", "enter", ""),
        ("vip", "branch", "0"),
        ("ask", "enter", ""),
        ("ask", "keys", "1234"),
        ("route", "enter", ""),
        ("route", "branch", "1"),
        ("to_complaints", "enter", ""),
    ]


@pytest.mark.django_db(transaction=True)
def test_an_agent_transfers_the_caller_to_the_ivr_and_gets_them_back(
    sip_env: dict[str, Any], controller: Any
) -> None:
    queues, agents, admin = seats()
    Number.objects.create(number="12345", name="热线", queue=queues["general"])
    publish(
        admin,
        "verify",
        {
            "start": "ask",
            "nodes": [
                {
                    "id": "ask",
                    "type": "collect",
                    "prompt": "请输入六位查询密码。",
                    "digits": 6,
                    "timeout": 2,
                    "retries": 0,
                    "next": "back",
                    "fallback": "back",
                    "invalid": "back",
                },
                {"id": "back", "type": "back"},
            ],
        },
    )
    sipp = sipp_citizen(
        work=sip_env["work"],
        proxy=PROXY,
        number="12345",
        caller="13900000302",
        sip_port=BASE + 36,
        media_port=MEDIA_BASE + 20,
        keys="",
        talk_ms=22000,
    )
    agent = agents["1001"]
    phones = sip_env["phones"]

    def state(wanted: str) -> Any:
        return lambda: Agent.objects.get(pk=agent.pk).state == wanted

    try:
        pump(controller, phones, lambda user: "accept", state(AgentState.TALKING), 30)
        services.agent_call_action(
            agent=agent, action="transfer", actor=agent.user, target_kind="ivr", target="verify"
        )
        pump(controller, phones, lambda user: "accept", state(AgentState.HOLD), 10)
        back = lambda: CallControl.objects.filter(kind="ivr_back").exists()  # noqa: E731
        pump(controller, phones, lambda user: "accept", back, 20)
        assert Agent.objects.get(pk=agent.pk).state == AgentState.TALKING
        pump(controller, phones, lambda user: "accept", finished({"caller": "13900000302"}), 30)
        assert sipp.wait(timeout=60) == 0
    finally:
        if sipp.poll() is None:
            sipp.kill()
    call = Call.objects.get(caller="13900000302")
    assert (call.disposition, call.agent_id) == ("answered", agent.pk)
    assert list(IvrStep.objects.filter(call=call).values_list("node", "event")) == [
        ("ask", "enter"),
        ("ask", "timeout"),
        ("back", "enter"),
    ]
    assert list(CallControl.objects.filter(call=call).values_list("kind", flat=True)) == [
        "ivr_transfer",
        "ivr_back",
    ]
    assert call.legs.filter(role="agent").count() == 1  # the same agent leg throughout
    assert call.recordings.get().duration_ms > 5000


def register(extension: str, contact_port: int) -> None:
    """REGISTER an extension at Kamailio with a SIPp phone as its contact (one UDP request)."""
    import socket
    import uuid

    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    local = sock.getsockname()[1]
    msg = (
        f"REGISTER sip:{PROXY} SIP/2.0\r\n"
        f"Via: SIP/2.0/UDP 127.0.0.1:{local};branch=z9hG4bK{uuid.uuid4().hex[:16]}\r\n"
        "Max-Forwards: 70\r\n"
        f"From: <sip:{extension}@{PROXY}>;tag={uuid.uuid4().hex[:8]}\r\n"
        f"To: <sip:{extension}@{PROXY}>\r\n"
        f"Call-ID: {uuid.uuid4().hex}\r\nCSeq: 1 REGISTER\r\n"
        f"Contact: <sip:{extension}@127.0.0.1:{contact_port}>\r\nExpires: 300\r\nContent-Length: 0\r\n\r\n"
    )
    try:
        sock.sendto(msg.encode(), ("127.0.0.1", BASE))
        assert sock.recv(4096).decode(errors="replace").startswith("SIP/2.0 200")
    finally:
        sock.close()


@pytest.mark.django_db(transaction=True)
def test_an_auto_answer_seat_is_offered_with_the_intercom_headers(
    sip_env: dict[str, Any], controller: Any
) -> None:
    """The seat's phone (SIPp) answers at once, and only an INVITE carrying Call-Info answer-after=0."""
    import shutil
    import subprocess
    from pathlib import Path

    queue = Queue.objects.create(code="general", name="综合")
    Number.objects.create(number="12345", name="热线", queue=queue)
    agent = services.agent_create(
        agent_id="1005", password="secret1", extension="1005", skills=[queue], actor=None
    )
    Agent.objects.filter(pk=agent.pk).update(auto_answer=True)
    services.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
    services.agent_event(agent_pk=agent.pk, event=AgentEvent.READY)
    work = sip_env["work"]
    shutil.copy(Path(__file__).parent / "sipp" / "intercom_uas.xml", work / "intercom_uas.xml")
    phone = subprocess.Popen(
        ["sipp", "-sf", "intercom_uas.xml", "-i", "127.0.0.1", "-p", str(BASE + 57), "-mi", "127.0.0.1",
         "-mp", str(MEDIA_BASE + 60), "-m", "1", "-nostdin", "-timeout", "60", "-trace_err"],
        cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    sipp = None
    try:
        register("1005", BASE + 57)
        sipp = sipp_citizen(
            work=work,
            proxy=PROXY,
            number="12345",
            caller="13900000303",
            sip_port=BASE + 58,
            media_port=MEDIA_BASE + 80,
            keys="",
            talk_ms=4000,
        )
        pump(controller, sip_env["phones"], lambda user: "hangup", finished({"caller": "13900000303"}), 30)
        assert sipp.wait(timeout=60) == 0
        assert phone.wait(timeout=30) == 0  # the header was there (check_it), answered without ringing
    finally:
        for proc in (sipp, phone):
            if proc is not None and proc.poll() is None:
                proc.kill()
    call = Call.objects.get(caller="13900000303")
    assert (call.disposition, call.agent_id) == ("answered", agent.pk)
