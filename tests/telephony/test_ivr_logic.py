"""IVR logic nodes: conditions in a whitelisted expression language (never eval), collect-digits nodes of fixed
length with their timeout and invalid paths, routing by citizen level and by the business type and urgency of
the caller's open case, the validator refusing malformed graphs, the editor handling the new kinds; the call
controller walking them against a scripted engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from hotline.citizens.models import Citizen
from hotline.common import clock
from hotline.orgs.models import User
from hotline.telephony import ivr, ivr_expr, selectors, services
from hotline.telephony.controller import CallController
from hotline.telephony.engine import Ev, MediaEvent
from hotline.telephony.models import Agent, Call, Flow, IvrStep, Number, Queue
from hotline.telephony.states import AgentEvent, AgentState

from .test_controller_races import ScriptedEngine
from .test_ivr import FakeVoice

ROUTING: dict[str, Any] = {
    "start": "route",
    "nodes": [
        {
            "id": "route",
            "type": "condition",
            "branches": [
                {"when": "level in (vip, sensitive)", "next": "vip_q"},
                {"when": "urgency in (urgent, very_urgent) and open_case == yes", "next": "urgent_q"},
                {"when": "business == complaint", "next": "complaint_q"},
            ],
            "fallback": "ask_id",
        },
        {
            "id": "ask_id",
            "type": "collect",
            "prompt": "请输入身份证后四位，以井号键结束。",
            "digits": 4,
            "timeout": 3,
            "retries": 1,
            "var": "id_tail",
            "next": "check",
            "fallback": "general_q",
            "invalid": "bye",
        },
        {
            "id": "check",
            "type": "condition",
            "branches": [{"when": "id_tail == 1234", "next": "vip_q"}],
            "fallback": "general_q",
        },
        {"id": "vip_q", "type": "queue", "queue": "vip"},
        {"id": "urgent_q", "type": "queue", "queue": "urgent", "priority": 2},
        {"id": "complaint_q", "type": "queue", "queue": "complaints"},
        {"id": "general_q", "type": "queue", "queue": "general"},
        {"id": "bye", "type": "hangup", "prompt": "输入有误，再见。"},
    ],
}
QUEUES = ("general", "vip", "urgent", "complaints")


def problems(graph: dict[str, Any]) -> set[tuple[str, str]]:
    return {(p.node, p.field) for p in ivr.validate(graph, queue_codes=QUEUES)}


def test_expressions_parse_to_trees_and_evaluate_without_eval() -> None:
    tree = ivr_expr.parse("level == vip or (urgency in (urgent, 'very_urgent') and not workday == no)")
    assert ivr_expr.evaluate(tree, {"level": "vip"})
    assert ivr_expr.evaluate(tree, {"level": "normal", "urgency": "urgent", "workday": "yes"})
    assert not ivr_expr.evaluate(tree, {"level": "normal", "urgency": "urgent", "workday": "no"})
    late = ivr_expr.parse("time >= 18:00 or time < 08:30")
    assert ivr_expr.evaluate(late, {"time": "19:05"}) and ivr_expr.evaluate(late, {"time": "07:59"})
    assert not ivr_expr.evaluate(late, {"time": "12:00"}) and not ivr_expr.evaluate(late, {})
    assert ivr_expr.evaluate(ivr_expr.parse("choice == 2", variables={"choice"}), {"choice": "2"})


@pytest.mark.parametrize(
    "text",
    [
        "__import__('os').system('id')",  # no calls, no attributes: not a fact
        "level = vip",  # '=' is not an operator
        "level == gold",  # not a level
        "business > complaint",  # only time orders
        "time >= 25:00",
        "level == vip and",
        "(level == vip",
        "level == vip urgency == urgent",
        "choice == 1",  # an undeclared variable
        "",
    ],
)
def test_malformed_or_unknown_expressions_are_refused(text: str) -> None:
    with pytest.raises(ivr_expr.ExprError):
        ivr_expr.parse(text)


def test_the_validator_accepts_the_routing_graph_and_refuses_broken_logic_nodes() -> None:
    assert problems(ROUTING) == set()
    nodes = {n["id"]: dict(n) for n in ROUTING["nodes"]}

    def broken(**changes: dict[str, Any]) -> set[tuple[str, str]]:
        graph = {"start": "route", "nodes": [{**n, **changes.get(nid, {})} for nid, n in nodes.items()]}
        return problems(graph)

    assert broken(route={"branches": [{"when": "level == gold", "next": "vip_q"}]}) >= {("route", "branches")}
    assert ("route", "branches") in broken(route={"branches": [{"when": "level == vip", "next": "nowhere"}]})
    assert ("route", "branches") in broken(route={"branches": []})
    assert ("route", "branches") in broken(route={"branches": "level == vip"})
    assert ("ask_id", "invalid") in broken(ask_id={"invalid": ""})
    assert ("ask_id", "digits") in broken(ask_id={"digits": 0})
    assert ("ask_id", "var") in broken(ask_id={"var": "level"})  # a fact cannot be overwritten
    assert ("ask_id", "var") in broken(ask_id={"var": "Bad Name"})
    # The variable is declared by the collect node only: without it, the check's condition is unknown.
    assert ("check", "branches") in broken(ask_id={"var": "other"})
    # Conditions whose every path loops back have no way out (dead ends), whatever their branches say.
    loop = {
        "start": "a",
        "nodes": [
            {
                "id": "a",
                "type": "condition",
                "branches": [{"when": "level == vip", "next": "b"}],
                "fallback": "b",
            },
            {
                "id": "b",
                "type": "condition",
                "branches": [{"when": "workday == no", "next": "a"}],
                "fallback": "a",
            },
        ],
    }
    assert problems(loop) == {("a", "id"), ("b", "id")}


@pytest.mark.django_db
def test_facts_come_from_the_citizen_level_and_the_callers_open_case(city: Any, people: Any) -> None:
    from tests.conftest import dict_item, submitted_case

    Citizen.objects.create(name="李四", phone="13900000001", level="vip")
    moment = timezone.make_aware(timezone.datetime(2026, 12, 7, 19, 30))  # a Monday evening
    facts = selectors.ivr_facts(caller="13900000001", moment=moment)
    assert facts == {
        "level": "vip",
        "business": "",
        "urgency": "",
        "open_case": "no",
        "workday": "yes",
        "time": "19:30",
    }
    submitted_case(city, people, citizen_phone="13900000002", urgency=dict_item("urgency", "urgent"))
    facts = selectors.ivr_facts(caller="13900000002", moment=moment)
    assert (facts["level"], facts["business"], facts["urgency"], facts["open_case"]) == (
        "normal",
        "complaint",
        "urgent",
        "yes",
    )


def publish(graph: dict[str, Any]) -> None:
    admin = User.objects.create(username="ivr-logic-admin", is_superuser=True)
    queues = {code: Queue.objects.create(code=code, name=code) for code in QUEUES}
    flow = services.ivr_flow_create(code="logic", name="条件路由", actor=admin)
    assert services.ivr_draft_save(flow=flow, graph=graph, actor=admin)[1] == []
    services.ivr_publish(flow=flow, actor=admin)
    Number.objects.create(number="12345", name="热线", queue=queues["general"], flow=Flow.IVR, ivr_flow=flow)


def run_call(caller: str, keys: list[tuple[str, str]]) -> tuple[Call, ScriptedEngine]:
    """An incoming call answered by the scripted engine, then each (digits, reason) collect result in turn."""
    engine = ScriptedEngine()
    ctrl = CallController(engine, registrar="127.0.0.1:5060")
    leg = f"in-{caller}"
    try:
        engine.events.put(
            MediaEvent(Ev.INCOMING, leg=leg, node="node1", data={"caller": caller, "dialed": "12345"})
        )
        engine.events.put(MediaEvent(Ev.ANSWERED, leg=leg, node="node1"))
        ctrl.run_once(0)
        ctrl.run_once(0)
        for digits, reason in keys:
            engine.events.put(MediaEvent(Ev.DIGITS, leg=leg, data={"digits": digits, "reason": reason}))
            ctrl.run_once(0)
    finally:
        ctrl.close()
    return Call.objects.get(caller=caller), engine


def steps(call: Call) -> list[tuple[str, str, str]]:
    return list(IvrStep.objects.filter(call=call).values_list("node", "event", "digits"))


@pytest.fixture
def logic_hotline(db: Any, settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    settings.HOTLINE_TTS_ENGINE = "tests.telephony.test_ivr.FakeVoice"
    FakeVoice.rendered = []
    publish(ROUTING)


@pytest.mark.django_db(transaction=True)
def test_a_vip_caller_is_routed_to_the_vip_queue_by_the_condition(logic_hotline: None) -> None:
    Citizen.objects.create(name="王五", phone="13900000011", level="vip")
    call, engine = run_call("13900000011", [])
    assert call.queue.code == "vip" and call.status == "queued"
    assert steps(call) == [("route", "enter", ""), ("route", "branch", "1"), ("vip_q", "enter", "")]
    assert not engine.ops("collect_digits")


@pytest.mark.django_db(transaction=True)
def test_a_complete_entry_goes_on_a_short_one_is_invalid_and_silence_times_out(logic_hotline: None) -> None:
    call, engine = run_call("13900000021", [("1234", "max")])
    assert call.queue.code == "vip"  # the keyed variable made the second condition hold
    assert steps(call)[1:] == [
        ("route", "branch", "0"),
        ("ask_id", "enter", ""),
        ("ask_id", "keys", "1234"),
        ("check", "enter", ""),
        ("check", "branch", "1"),
        ("vip_q", "enter", ""),
    ]
    leg, *_ = engine.ops("collect_digits")[0]
    assert leg == "in-13900000021"

    call, _engine = run_call("13900000022", [("12", "terminator"), ("12*4", "max")])
    assert call.status == "ivr" and call.queue.code == "general"  # hung up by the `bye` node's prompt
    assert [s[1:] for s in steps(call) if s[0] == "ask_id"] == [
        ("enter", ""),
        ("invalid", "12"),
        ("enter", ""),
        ("invalid", "12*4"),
    ]
    assert steps(call)[-1] == ("bye", "enter", "")

    call, _engine = run_call("13900000023", [("", "timeout"), ("", "timeout")])
    assert call.queue.code == "general" and call.status == "queued"
    assert [s[1] for s in steps(call) if s[0] == "ask_id"] == ["enter", "timeout", "enter", "timeout"]


@pytest.mark.django_db(transaction=True)
def test_an_urgent_open_case_routes_the_caller_to_the_urgent_queue(
    logic_hotline: None, city: Any, people: Any
) -> None:
    from tests.conftest import dict_item, submitted_case

    submitted_case(city, people, citizen_phone="13900000031", urgency=dict_item("urgency", "very_urgent"))
    call, _engine = run_call("13900000031", [])
    assert call.queue.code == "urgent"
    submitted_case(city, people, citizen_phone="13900000032")  # a complaint of normal urgency
    call, _engine = run_call("13900000032", [])
    assert call.queue.code == "complaints"
    assert clock.now()  # the facts are read at the call's time


@pytest.mark.django_db
def test_the_editor_reads_and_shows_condition_branches_and_collect_nodes(
    settings: Any, tmp_path: Path
) -> None:
    settings.VAR_DIR = tmp_path
    admin = User.objects.create(username="ivr-editor-admin", is_superuser=True)
    for code in QUEUES:
        Queue.objects.create(code=code, name=code)
    flow = services.ivr_flow_create(code="edit", name="编辑", actor=admin)
    client = Client()
    client.force_login(admin)
    post: dict[str, str] = {"start": "route", "action": "save"}
    for i, node in enumerate(ROUTING["nodes"]):
        for key, value in node.items():
            if key == "branches":
                value = "\n".join(f"{b['when']} => {b['next']}" for b in value)
            post[f"n-{i}-{key}"] = str(value)
    response = client.post(f"/telephony/ivr/{flow.code}/", post)
    assert response.status_code == 200
    draft = flow.versions.get(status="draft")
    assert draft.graph == ROUTING
    page = response.content.decode()
    assert "条件判断" in page and "收号（固定位数）" in page
    assert "level in (vip, sensitive) =&gt; vip_q" in page
    assert "优先 2" in page  # the preview shows the urgent queue node's priority
    post["n-0-branches"] = "level == vip vip_q"  # no "=>"
    response = client.post(f"/telephony/ivr/{flow.code}/", {**post, "action": "publish"})
    assert response.status_code == 400
    assert "格式应为 条件 =&gt; 节点" in response.content.decode()


URGENT_FIRST: dict[str, Any] = {
    "start": "route",
    "nodes": [
        {
            "id": "route",
            "type": "condition",
            "branches": [{"when": "urgency in (urgent, very_urgent)", "next": "fast"}],
            "fallback": "ask",
        },
        {
            "id": "ask",
            "type": "menu",
            "prompt": "情况紧急请按1，其他请按2。",
            "options": {"1": "fast", "2": "slow"},
            "fallback": "slow",
        },
        {"id": "fast", "type": "queue", "queue": "general", "priority": 3},
        {"id": "slow", "type": "queue", "queue": "general"},
    ],
}


def test_a_queue_nodes_priority_is_validated() -> None:
    assert problems(URGENT_FIRST) == set()
    for bad in (5, -1, "3", True):
        graph = {
            "start": "route",
            "nodes": [{**n, "priority": bad} if n["id"] == "fast" else n for n in URGENT_FIRST["nodes"]],
        }
        assert problems(graph) == {("fast", "priority")}, bad


@pytest.mark.django_db(transaction=True)
def _served_in_turn(ctrl: Any, engine: Any, agent: Any, count: int, now: list[float]) -> list[str]:
    """The callers the one agent is offered, in order: each rings, hangs up while ringing (out of the race for
    the next round), and the agent is made ready again."""
    served = []
    for _ in range(count):
        if Agent.objects.get(pk=agent.pk).state == AgentState.NOT_READY:
            services.agent_event(agent_pk=agent.pk, event=AgentEvent.READY)
        now[0] += 1
        ctrl.run_once(0)
        ctrl.run_once(0)
        ringing = Call.objects.get(agent=agent, status="ringing")
        served.append(ringing.caller)
        engine.events.put(MediaEvent(Ev.HUNGUP, leg=f"in-{ringing.caller}", node="node1", data={"code": 200}))
        ctrl.run_once(0)
        agent_leg = engine.ops("call_out")[-1][0]
        engine.events.put(MediaEvent(Ev.HUNGUP, leg=agent_leg, node="node1", data={"code": 487}))
        ctrl.run_once(0)
    return served


def test_urgency_routed_by_the_ivr_puts_the_caller_ahead_of_those_already_waiting(
    settings: Any, tmp_path: Path, city: Any, people: Any
) -> None:
    """Three callers wait for the one agent: an ordinary one (keyed 2), then one whose open case is very urgent
    (the condition), then one who keyed 1 (urgent). The agent, ready at last, gets the very urgent caller, then
    the one who keyed 1, then the ordinary caller who came first; the priorities are kept on the calls."""
    from tests.conftest import dict_item, submitted_case

    settings.VAR_DIR = tmp_path
    settings.HOTLINE_TTS_ENGINE = "tests.telephony.test_ivr.FakeVoice"
    publish(URGENT_FIRST)
    agent = services.agent_create(
        agent_id="1001",
        password="secret1",
        extension="1001",
        skills=[Queue.objects.get(code="general")],
        actor=None,
    )
    services.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
    submitted_case(city, people, citizen_phone="13900000042", urgency=dict_item("urgency", "very_urgent"))
    engine = ScriptedEngine()
    now = [1000.0]
    ctrl = CallController(engine, registrar="127.0.0.1:5060", ring_timeout=20, now=lambda: now[0])
    try:
        for caller, keys in (("13900000041", "2"), ("13900000042", None), ("13900000043", "1")):
            leg = f"in-{caller}"
            engine.events.put(
                MediaEvent(Ev.INCOMING, leg=leg, node="node1", data={"caller": caller, "dialed": "12345"})
            )
            engine.events.put(MediaEvent(Ev.ANSWERED, leg=leg, node="node1"))
            ctrl.run_once(0)
            ctrl.run_once(0)
            if keys:
                engine.events.put(MediaEvent(Ev.DIGITS, leg=leg, data={"digits": keys, "reason": "max"}))
                ctrl.run_once(0)
            now[0] += 1
        calls = {c.caller: c for c in Call.objects.all()}
        assert {caller: (c.status, c.priority) for caller, c in calls.items()} == {
            "13900000041": ("queued", 0),
            "13900000042": ("queued", 3),
            "13900000043": ("queued", 3),
        }
        assert calls["13900000041"].enqueued_at < calls["13900000042"].enqueued_at
        served = _served_in_turn(ctrl, engine, agent, len(calls), now)
    finally:
        ctrl.close()
    assert served == ["13900000042", "13900000043", "13900000041"]


@pytest.mark.django_db(transaction=True)
def test_on_the_default_path_an_urgent_open_case_puts_the_caller_ahead(
    settings: Any, tmp_path: Path, city: Any, people: Any
) -> None:
    """IVR-6, no menu: four callers wait for the one agent: an ordinary one, one whose open case is of normal
    urgency, one whose open case is urgent, one whose open case is very urgent (the same `urgency` fact an IVR
    condition reads). The very urgent caller is served first, then the urgent one, then the others in the
    order they came; the priorities are kept on the calls."""
    from tests.conftest import dict_item, submitted_case

    settings.VAR_DIR = tmp_path
    general = Queue.objects.create(code="general", name="general")
    Number.objects.create(number="12345", name="热线", queue=general, flow=Flow.DIRECT_QUEUE)
    agent = services.agent_create(
        agent_id="1001", password="secret1", extension="1001", skills=[general], actor=None
    )
    services.agent_event(agent_pk=agent.pk, event=AgentEvent.LOGIN)
    for phone, urgency in (
        ("13900000052", "normal"),
        ("13900000053", "urgent"),
        ("13900000054", "very_urgent"),
    ):
        submitted_case(city, people, citizen_phone=phone, urgency=dict_item("urgency", urgency))
    engine = ScriptedEngine()
    now = [1000.0]
    ctrl = CallController(engine, registrar="127.0.0.1:5060", ring_timeout=20, now=lambda: now[0])
    try:
        for caller in ("13900000051", "13900000052", "13900000053", "13900000054"):
            leg = f"in-{caller}"
            engine.events.put(
                MediaEvent(Ev.INCOMING, leg=leg, node="node1", data={"caller": caller, "dialed": "12345"})
            )
            engine.events.put(MediaEvent(Ev.ANSWERED, leg=leg, node="node1"))
            ctrl.run_once(0)
            ctrl.run_once(0)
            now[0] += 1
        calls = {c.caller: c for c in Call.objects.all()}
        assert {caller: (c.status, c.priority) for caller, c in calls.items()} == {
            "13900000051": ("queued", 0),
            "13900000052": ("queued", 0),
            "13900000053": ("queued", ivr.URGENCY_PRIORITY["urgent"]),
            "13900000054": ("queued", ivr.URGENCY_PRIORITY["very_urgent"]),
        }
        assert 0 < ivr.URGENCY_PRIORITY["urgent"] < ivr.URGENCY_PRIORITY["very_urgent"]
        served = _served_in_turn(ctrl, engine, agent, len(calls), now)
    finally:
        ctrl.close()
    assert served == ["13900000054", "13900000053", "13900000051", "13900000052"]
