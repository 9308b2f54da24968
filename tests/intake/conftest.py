"""Helpers for the citizen-channel tests: templates after a flush, and a channel request carried to its callback."""

from __future__ import annotations

from typing import Any

import pytest

from hotline.cases import services
from hotline.cases.lifecycle import Action
from hotline.cases.models import Assignment, AssignmentRole, Case
from hotline.intake.defaults import seed_channel_templates
from hotline.notify.models import MessageTemplate
from tests.conftest import fresh


@pytest.fixture
def channel_templates(city: Any) -> None:
    seed_channel_templates(MessageTemplate)  # transactional tests flush what the migration seeded


def carry_to_callback(case: Case, city: Any, people: Any) -> Case:
    """An agent accepts the citizen's request, the office dispatches it, the unit answers, the office accepts."""
    services.case_take_intake_action(
        case=fresh(case), actor=people.agent, action=Action.SUBMIT, expected_version=None
    )
    services.case_dispatch(
        case=fresh(case),
        actor=people.dispatcher,
        expected_version=None,
        targets=[services.Target(city.east, AssignmentRole.MAIN)],
    )
    main = Assignment.objects.get(case=case, unit=city.east, role=AssignmentRole.MAIN)
    services.assignment_sign_for(assignment=main, actor=people.east, expected_version=None)
    services.assignment_report(
        assignment=main, actor=people.east, expected_version=None, result="已安排清理完毕"
    )
    services.case_review_accept(case=fresh(case), actor=people.dispatcher, expected_version=None)
    return fresh(case)
