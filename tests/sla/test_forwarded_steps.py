"""A step forwarded down runs its own deadline (stage `forwarded`) and is warned and carded by that stage's own
rules, while the unit that forwarded it is warned and carded on its own deadline (issue 11, item 11)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.test import Client

from hotline.cases import services
from hotline.cases.models import Assignment, AssignmentRole, Case, CaseEvent, OverdueMark
from hotline.common import clock
from hotline.common.errors import ServiceError
from hotline.common.templatetags.hotline import cn_short
from hotline.notify.models import Outbox
from hotline.orgs.models import Role
from hotline.orgs.services import user_create
from hotline.sla.models import Alert, Clock, EscalationRule, Stage
from hotline.sla.sweep import sweep
from tests.conftest import dispatched_to
from tests.notices import per_recipient

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def forwarded(city, people) -> tuple[Case, Assignment, Assignment]:
    """Monday 23 Nov: the district (reply due Mon 30 Nov 10:00) forwards to its street at 11:00 (3 working days:
    due Thu 26 Nov 11:00); the street signs for it at once."""
    with clock.frozen_now(at(2026, 11, 23, 10)):
        case = dispatched_to(city, people, city.east)
        east = Assignment.objects.get(case=case, unit=city.east, role=AssignmentRole.MAIN)
        services.assignment_sign_for(assignment=east, actor=people.east, expected_version=None)
    with clock.frozen_now(at(2026, 11, 23, 11)):
        services.assignment_forward(
            assignment=east,
            actor=people.east,
            expected_version=None,
            targets=[services.Target(city.liyuan, AssignmentRole.MAIN)],
        )
        liyuan = Assignment.objects.get(case=case, unit=city.liyuan, role=AssignmentRole.MAIN)
        services.assignment_sign_for(assignment=liyuan, actor=people.liyuan, expected_version=None)
    return case, Assignment.objects.get(pk=east.pk), Assignment.objects.get(pk=liyuan.pk)


def kinds(assignment: Assignment, stage: str) -> list[str]:
    return sorted(
        Alert.objects.filter(clock__assignment=assignment, clock__stage=stage).values_list("kind", flat=True)
    )


def in_app(template: str, user) -> list[str]:
    notices = per_recipient(Outbox.objects.filter(template=template, channel="in_app"), "body")
    return [body for name, _, body in notices if name == user.username]


def test_the_forwarded_step_runs_its_own_stage_and_the_parent_keeps_the_reply_stage(city, people):
    case, east, liyuan = forwarded(city, people)
    child = Clock.objects.get(assignment=liyuan, stopped_at__isnull=True)
    parent = Clock.objects.get(assignment=east, stopped_at__isnull=True)
    assert (child.stage, child.due_at, child.warn_at) == (
        Stage.FORWARDED,
        at(2026, 11, 26, 11),
        at(2026, 11, 25, 11),
    )
    assert child.red_at == at(2026, 11, 30, 11)  # the forwarded red card: two working days after its deadline
    assert (parent.stage, parent.due_at, parent.warn_at) == (
        Stage.REPLY,
        at(2026, 11, 30, 10),
        at(2026, 11, 27, 10),
    )
    assert liyuan.due_at == child.due_at and liyuan.warn_at == child.warn_at  # mirrored for the worklist
    assert child.max_due_at == east.due_at  # it may be extended up to the district's deadline, no further
    # the street's worklist shows its own running deadline under the forwarded stage's name
    client = Client()
    client.force_login(people.liyuan)
    row = client.get("/").content.decode().split('data-testid="work-row"')[1].split("</tr>")[0]
    assert "下派办理" in row and cn_short(child.due_at) in row


def test_a_forwarded_step_warns_and_cards_on_its_own_deadline_and_the_parent_on_its_own(city, people):
    case, east, liyuan = forwarded(city, people)
    with clock.frozen_now(at(2026, 11, 25, 12)):  # the day before the street's deadline
        sweep()
    assert kinds(liyuan, Stage.FORWARDED) == ["warning"] and kinds(east, Stage.REPLY) == []
    [warning] = in_app("sla_warning", people.liyuan)
    assert "将于2026年11月26日 11:00到期" in warning and "梨园街道" in warning
    assert CaseEvent.objects.filter(case=case, unit=city.liyuan, opinion__contains="下派办理时限").exists()
    assert in_app("sla_warning", people.east) == []

    with clock.frozen_now(at(2026, 11, 26, 12)):  # the street's deadline has passed; the district's has not
        sweep()
    assert kinds(liyuan, Stage.FORWARDED) == ["warning", "yellow"] and kinds(east, Stage.REPLY) == []
    # the yellow card reaches the street and the district that forwarded it (the forwarded rule says so)
    for user in (people.liyuan, people.liyuan_leader, people.east, people.east_leader):
        assert len(in_app("sla_yellow", user)) == 1, user.username
    assert OverdueMark.objects.filter(case=case).exists()

    with clock.frozen_now(
        at(2026, 11, 27, 11)
    ):  # the district's own warning, a working day before its deadline
        sweep()
    assert kinds(east, Stage.REPLY) == ["warning"] and kinds(liyuan, Stage.FORWARDED) == ["warning", "yellow"]
    assert any("将于2026年11月30日 10:00到期" in body for body in in_app("sla_warning", people.east))

    with clock.frozen_now(at(2026, 11, 30, 12)):  # the street's red card; the district's yellow card
        sweep()
    assert kinds(liyuan, Stage.FORWARDED) == ["red", "warning", "yellow"]
    assert kinds(east, Stage.REPLY) == ["warning", "yellow"]


def test_the_forwarded_rules_are_data_an_admin_edits(city, people):
    admin = user_create(
        username="rules", password="pw-123456", full_name="管理员", unit=city.office, roles=[Role.ADMIN]
    )
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client = Client()
    client.force_login(admin)
    listing = client.get("/admin/sla/escalationrule/?stage__exact=forwarded").content.decode()
    assert listing.count("下派办理") >= 3
    warning = EscalationRule.objects.get(stage=Stage.FORWARDED, kind="warning")
    answer = client.post(
        f"/admin/sla/escalationrule/{warning.pk}/change/",
        {
            "kind": "warning",
            "stage": "forwarded",
            "offset_days": "-2",
            "recipient_roles": '["unit_handler"]',
            "channels": '["in_app"]',
            "is_active": "on",
        },
    )
    assert answer.status_code == 302
    EscalationRule.objects.filter(stage=Stage.FORWARDED, kind="yellow").update(is_active=False)
    EscalationRule.objects.get(stage=Stage.FORWARDED, kind="red").save()  # signals refresh the rule cache
    case, east, liyuan = forwarded(city, people)
    child = Clock.objects.get(assignment=liyuan, stopped_at__isnull=True)
    assert child.warn_at == at(2026, 11, 24, 11)  # two working days before Thu 26 Nov 11:00
    for moment in (at(2026, 11, 24, 12), at(2026, 11, 26, 12)):
        with clock.frozen_now(moment):
            sweep()
    assert kinds(liyuan, Stage.FORWARDED) == ["warning"]  # no yellow card: that rule is switched off
    assert kinds(east, Stage.REPLY) == []


def test_a_forwarded_step_is_not_extended_beyond_the_parents_deadline(city, people):
    case, east, liyuan = forwarded(city, people)
    with clock.frozen_now(at(2026, 11, 24, 9)):
        with pytest.raises(ServiceError) as refused:
            services.assignment_request_extension(
                assignment=liyuan,
                actor=people.liyuan,
                expected_version=None,
                requested_due_at=at(2026, 12, 1, 10),
                reason="需要协调物业",
            )
        assert "requested_due_at" in refused.value.field_errors
        request = services.assignment_request_extension(
            assignment=liyuan,
            actor=people.liyuan,
            expected_version=None,
            requested_due_at=at(2026, 11, 30, 10),
            reason="需要协调物业",
        )
        services.extension_decide(
            request=request, actor=people.dispatcher, expected_version=None, approve=True
        )
    moved = Clock.objects.get(assignment=liyuan, stopped_at__isnull=True)
    assert (moved.stage, moved.due_at) == (Stage.FORWARDED, at(2026, 11, 30, 10))


def test_the_parents_extension_moves_the_forwarded_step_which_keeps_its_stage(city, people):
    case, east, liyuan = forwarded(city, people)
    with clock.frozen_now(at(2026, 11, 24, 9)):
        request = services.assignment_request_extension(
            assignment=east,
            actor=people.east,
            expected_version=None,
            requested_due_at=at(2026, 12, 4, 10),
            reason="涉及多个部门",
        )
        services.extension_decide(
            request=request, actor=people.dispatcher, expected_version=None, approve=True
        )
    child = Clock.objects.get(assignment=liyuan, stopped_at__isnull=True)
    assert (child.stage, child.due_at) == (Stage.FORWARDED, at(2026, 12, 4, 10))
    assert child.warn_at == at(2026, 12, 3, 10)  # re-computed with the forwarded warning rule
    assert Clock.objects.get(assignment=east, stopped_at__isnull=True).stage == Stage.REPLY


def test_replied_late_on_the_supervision_page_counts_a_late_forwarded_step(city, people):
    from hotline.sla.selectors import Period, time_limit_supervision

    case, east, liyuan = forwarded(city, people)
    with clock.frozen_now(at(2026, 11, 26, 12)):
        sweep()
    rows = time_limit_supervision(
        user=people.leader, period=Period(start=at(2026, 11, 1, 0), end=at(2026, 12, 1, 0))
    )
    by_unit = {row["unit"]: row for row in rows}
    assert by_unit[city.liyuan.pk]["replied_late"] == 1
    assert by_unit[city.east.pk]["replied_late"] == 0
