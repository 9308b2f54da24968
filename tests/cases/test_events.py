"""case_transitioned: one event per timeline row, sent only after the transaction commits."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.cases import services
from hotline.cases.events import case_transitioned
from hotline.cases.lifecycle import Action
from hotline.cases.models import AssignmentRole, CaseStatus
from hotline.common.errors import ServiceError
from tests.conftest import case_input


@pytest.fixture
def received():
    seen: list[dict[str, Any]] = []

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    case_transitioned.connect(receiver, dispatch_uid="test-events")
    yield seen
    case_transitioned.disconnect(dispatch_uid="test-events")


def test_sent_after_commit_with_case_action_from_to_actor(
    city, people, received, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = services.case_intake(actor=people.agent, data=case_input(city))
    assert received == []  # nothing is sent while the transaction is open
    assert len(callbacks) == 2
    for callback in callbacks:
        callback()
    assert [(e["action"], e["from_status"], e["to_status"]) for e in received] == [
        (Action.CREATE, "", CaseStatus.DRAFT),
        (Action.SUBMIT, CaseStatus.DRAFT, CaseStatus.SUBMITTED),
    ]
    assert all(e["case"].pk == result.case.pk and e["actor"] == people.agent for e in received)
    assert received[1]["event"].pk is not None

    received.clear()
    with django_capture_on_commit_callbacks(execute=True):
        services.case_dispatch(
            case=result.case,
            actor=people.dispatcher,
            expected_version=result.case.version,
            targets=[services.Target(city.xingfu, AssignmentRole.MAIN)],
        )
    assert [(e["action"], e["to_status"], e["actor"]) for e in received] == [
        (Action.DISPATCH, CaseStatus.DISPATCHED, people.dispatcher)
    ]


def test_a_failing_receiver_does_not_disturb_the_others(
    city, people, received, django_capture_on_commit_callbacks
):
    def broken(sender: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    case_transitioned.connect(broken, dispatch_uid="test-broken")
    try:
        with django_capture_on_commit_callbacks(execute=True):
            services.case_intake(actor=people.agent, data=case_input(city))
    finally:
        case_transitioned.disconnect(dispatch_uid="test-broken")
    assert len(received) == 2


def test_nothing_is_sent_for_a_rolled_back_action(city, people, received, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(ServiceError):
        services.case_intake(actor=people.agent, data=case_input(city, content="太短"))
    assert callbacks == [] and received == []
