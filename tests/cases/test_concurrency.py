"""Twenty people pressing the same button at once: exactly one wins, the others get a clear conflict."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection, connections

from hotline.cases import services
from hotline.cases.models import Assignment, AssignmentRole, AssignmentStatus, CaseEvent, HandlingRecord
from hotline.common.errors import Conflict, ServiceError
from tests.conftest import dispatched_to

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="needs PostgreSQL row locks across connections"
    ),
]
ATTEMPTS = 20


def race(action: Callable[[], object]) -> tuple[int, list[Exception]]:
    barrier = threading.Barrier(ATTEMPTS)
    successes: list[object] = []
    failures: list[Exception] = []
    lock = threading.Lock()

    def attempt() -> None:
        try:
            barrier.wait()
            result = action()
            with lock:
                successes.append(result)
        except Exception as exc:  # noqa: BLE001 - every failure is inspected by the test
            with lock:
                failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=attempt) for _ in range(ATTEMPTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(successes), failures


def test_twenty_concurrent_sign_fors_leave_one_success(city, people):
    case = dispatched_to(city, people, city.east)
    assignment = Assignment.objects.get(case=case, role=AssignmentRole.MAIN)
    wins, failures = race(
        lambda: services.assignment_sign_for(
            assignment=assignment, actor=people.east, expected_version=case.version
        )
    )
    assert wins == 1 and len(failures) == ATTEMPTS - 1
    assert all(isinstance(f, Conflict | ServiceError) for f in failures), failures
    assert CaseEvent.objects.filter(case=case, action="sign_for").count() == 1


def test_twenty_concurrent_reports_leave_one_success(city, people):
    case = dispatched_to(city, people, city.east)
    assignment = Assignment.objects.get(case=case, role=AssignmentRole.MAIN)
    services.assignment_sign_for(assignment=assignment, actor=people.east, expected_version=None)
    wins, failures = race(
        lambda: services.assignment_report(
            assignment=assignment, actor=people.east, expected_version=None, result="已办结"
        )
    )
    assert wins == 1 and all(isinstance(f, Conflict | ServiceError) for f in failures), failures
    assignment.refresh_from_db()
    assert assignment.status == AssignmentStatus.REPORTED
    assert CaseEvent.objects.filter(case=case, action="report").count() == 1


def test_concurrent_handling_records_are_not_lost_silently(city, people):
    case = dispatched_to(city, people, city.east)
    assignment = Assignment.objects.get(case=case, role=AssignmentRole.MAIN)
    services.assignment_sign_for(assignment=assignment, actor=people.east, expected_version=None)
    wins, failures = race(
        lambda: services.assignment_record_handling(
            assignment=assignment, actor=people.east, expected_version=None, result="记录"
        )
    )
    # each writer either saved its record or was told to retry; nothing vanished without a word
    assert HandlingRecord.objects.filter(assignment=assignment).count() == wins
    assert wins + len(failures) == ATTEMPTS and all(isinstance(f, Conflict) for f in failures)
