"""Agent login and the agent state machine: every move logged, impossible moves refused."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.common.errors import NotAllowed, ServiceError
from hotline.common.models import AuditLog
from hotline.telephony import services, states
from hotline.telephony.models import AgentStateLog, Queue
from hotline.telephony.states import AgentEvent, AgentState


@pytest.fixture
def agent(people: Any) -> Any:
    queue = Queue.objects.create(code="general", name="综合")
    return services.agent_create(
        agent_id="1001", password="secret1", extension="1001", skills=[queue], user=people.agent, actor=None
    )


def test_every_listed_transition_is_reachable_and_others_refused() -> None:
    for (source, event), target in states.TRANSITIONS.items():
        assert states.next_state(source, event) == target
    with pytest.raises(ServiceError):
        states.next_state(AgentState.LOGGED_OUT, AgentEvent.OFFER)
    with pytest.raises(ServiceError):
        states.next_state(AgentState.TALKING, AgentEvent.LOGOUT)  # hang up first


def test_login_with_agent_id_and_password(agent: Any, people: Any) -> None:
    with pytest.raises(ServiceError) as bad:
        services.agent_login(agent_id="1001", password="wrong", actor=people.agent)
    assert "password" in bad.value.field_errors
    with pytest.raises(NotAllowed):
        services.agent_login(agent_id="1001", password="secret1", actor=people.dispatcher)
    logged = services.agent_login(agent_id="1001", password="secret1", actor=people.agent)
    assert logged.state == AgentState.NOT_READY and logged.state_reason == "login"
    assert AuditLog.objects.filter(
        action="login", object_type="telephony.agent", object_id=str(agent.pk)
    ).exists()


def test_ready_not_ready_with_reason_and_log(agent: Any, people: Any) -> None:
    services.agent_login(agent_id="1001", password="secret1", actor=people.agent)
    a = services.agent_set_state(agent=agent, event=AgentEvent.READY, actor=people.agent)
    assert a.state == AgentState.READY and a.ready_since is not None
    with pytest.raises(ServiceError) as no_reason:
        services.agent_set_state(agent=agent, event=AgentEvent.NOT_READY, reason="", actor=people.agent)
    assert "reason" in no_reason.value.field_errors
    a = services.agent_set_state(agent=agent, event=AgentEvent.NOT_READY, reason="meal", actor=people.agent)
    assert (a.state, a.state_reason) == (AgentState.NOT_READY, "meal")
    with pytest.raises(NotAllowed):
        services.agent_set_state(agent=agent, event=AgentEvent.READY, actor=people.dispatcher)
    rows = list(AgentStateLog.objects.filter(agent=agent).values_list("from_state", "to_state", "reason"))
    assert rows == [
        ("logged_out", "not_ready", "login"),
        ("not_ready", "ready", ""),
        ("ready", "not_ready", "meal"),
    ]


def test_duplicate_agent_refused_with_field_errors(agent: Any) -> None:
    with pytest.raises(ServiceError) as exc:
        services.agent_create(agent_id="1001", password="x", extension="1001", actor=None)
    assert set(exc.value.field_errors) == {"agent_id", "password", "extension"}


def test_abandoned_call_goes_on_the_callback_list_once_and_is_worked_once(agent: Any, people: Any) -> None:
    from hotline.telephony.models import CallbackStatus, MissedCall

    queue = Queue.objects.get(code="general")
    call = services.call_arrive(call_id="abc", leg_id="in-a", caller="13700001234", dialed="12345", node="n")
    services.call_enqueue(call=call, queue=queue)
    services.call_end(call=call)
    services.call_end(call=call)  # a second hang-up report changes nothing
    missed = MissedCall.objects.get(call=call)
    assert missed.reason == "abandoned" and missed.status == CallbackStatus.OPEN
    done = services.missed_call_done(missed=missed, actor=people.agent)
    assert done.status == CallbackStatus.DONE and done.done_by == people.agent
    with pytest.raises(ServiceError):
        services.missed_call_done(missed=missed, actor=people.agent)
    assert (
        AuditLog.objects.filter(
            object_type="telephony.missedcall", summary__startswith="missed_call_done"
        ).count()
        == 1
    )
    answered = services.call_arrive(
        call_id="def", leg_id="in-b", caller="13700001235", dialed="12345", node="n"
    )
    services.call_end(call=answered, disposition="answered")
    assert not MissedCall.objects.filter(call=answered).exists()
