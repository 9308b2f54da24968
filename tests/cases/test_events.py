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


@pytest.fixture
def queued(monkeypatch):
    """A queued receiver (run by the case-events job), alone: the packages' own ones are put aside."""
    from hotline.cases import events

    seen: list[dict[str, Any]] = []
    monkeypatch.setattr(events, "_QUEUED", {})

    def receiver(sender: Any, **kwargs: Any) -> None:
        seen.append(kwargs)

    events.connect_queued(receiver, dispatch_uid="test-queued")
    return seen


def test_queued_receivers_run_by_the_job_not_at_commit_once_in_order(
    city, people, queued, received, django_capture_on_commit_callbacks
):
    from hotline.cases.events import run_queued
    from hotline.cases.models import CaseEvent

    with django_capture_on_commit_callbacks(execute=True):
        first = services.case_intake(actor=people.agent, data=case_input(city)).case
        second = services.case_intake(actor=people.agent, data=case_input(city)).case
    assert len(received) == 4 and queued == []  # the light receivers ran at commit, the queued ones wait
    assert CaseEvent.objects.filter(queued=True).count() == 4
    assert run_queued() == 4
    assert [(e["case"].pk, e["action"], e["from_status"], e["to_status"], e["actor"]) for e in queued] == [
        (first.pk, Action.CREATE, "", CaseStatus.DRAFT, people.agent),
        (first.pk, Action.SUBMIT, CaseStatus.DRAFT, CaseStatus.SUBMITTED, people.agent),
        (second.pk, Action.CREATE, "", CaseStatus.DRAFT, people.agent),
        (second.pk, Action.SUBMIT, CaseStatus.DRAFT, CaseStatus.SUBMITTED, people.agent),
    ]
    assert all(e["event"].case_id == e["case"].pk for e in queued)
    assert run_queued() == 0 and len(queued) == 4  # done once
    assert not CaseEvent.objects.filter(queued=True).exists()


def test_a_failing_queued_receiver_leaves_the_others_and_its_writes_are_undone(
    city, people, queued, django_capture_on_commit_callbacks
):
    from hotline.cases import events
    from hotline.cases.models import Case

    def broken(sender: Any, *, case: Any, **kwargs: Any) -> None:
        Case.objects.filter(pk=case.pk).update(title="written by a failing receiver")
        raise RuntimeError("boom")

    events.connect_queued(broken, dispatch_uid="test-broken")  # runs after test-queued
    with django_capture_on_commit_callbacks(execute=True):
        case = services.case_intake(actor=people.agent, data=case_input(city)).case
    assert events.run_queued() == 2 and len(queued) == 2
    assert Case.objects.get(pk=case.pk).title != "written by a failing receiver"  # its savepoint rolled back


def test_without_queued_receivers_events_are_not_queued(city, people, monkeypatch):
    from hotline.cases import events
    from hotline.cases.models import CaseEvent

    monkeypatch.setattr(events, "_QUEUED", {})
    services.case_intake(actor=people.agent, data=case_input(city))
    assert CaseEvent.objects.count() == 2 and not CaseEvent.objects.filter(queued=True).exists()


def test_queued_receivers_take_only_the_events_they_want_and_batch_receivers_the_whole_batch(
    city, people, monkeypatch, django_capture_on_commit_callbacks
):
    import contextlib

    from hotline.cases import events
    from hotline.cases.models import Case

    monkeypatch.setattr(events, "_QUEUED", {})
    singles: list[tuple[int, str]] = []
    batches: list[list[tuple[int, str]]] = []
    rounds: list[str] = []

    @contextlib.contextmanager
    def around():
        rounds.append("in")
        yield
        rounds.append("out")

    def one(sender: Any, *, case: Any, action: str, **kwargs: Any) -> None:
        singles.append((case.pk, action))

    def many(sender: Any, *, events: list[Any], **kwargs: Any) -> None:
        batches.append([(e.case_id, e.action) for e in events])

    def broken_many(sender: Any, *, events: list[Any], **kwargs: Any) -> None:
        Case.objects.filter(pk=events[0].case_id).update(title="written by a failing receiver")
        raise RuntimeError("boom")

    events.connect_queued(one, dispatch_uid="t-one", wants=lambda e: e.action == Action.CREATE, around=around)
    events.connect_queued(many, dispatch_uid="t-many", many=True, wants=lambda e: e.action == Action.SUBMIT)
    events.connect_queued(broken_many, dispatch_uid="t-broken", many=True)
    with django_capture_on_commit_callbacks(execute=True):
        first = services.case_intake(actor=people.agent, data=case_input(city)).case
        second = services.case_intake(actor=people.agent, data=case_input(city)).case
    assert events.run_queued() == 4
    assert singles == [(first.pk, Action.CREATE), (second.pk, Action.CREATE)]
    assert batches == [[(first.pk, Action.SUBMIT), (second.pk, Action.SUBMIT)]]  # one call for the batch
    assert rounds == ["in", "out"]  # entered once around the batch
    assert Case.objects.get(pk=first.pk).title != "written by a failing receiver"  # its savepoint rolled back
    assert events.run_queued() == 0 and len(batches) == 1
