"""A warning announces a deadline still ahead: once the deadline has passed it is never sent (issue 11, item 18)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from hotline.cases import services
from hotline.cases.models import Assignment, AssignmentRole, OverdueMark
from hotline.common import clock
from hotline.notify.models import Outbox
from hotline.sla.models import Alert, Stage
from hotline.sla.sweep import sweep
from tests.conftest import dispatched_to, fresh

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def signed_case(city, people):
    with clock.frozen_now(at(2026, 11, 23, 10)):  # Monday; reply due Mon 30 Nov 10:00, warning Fri 27 Nov
        case = dispatched_to(city, people, city.east)
        main = Assignment.objects.get(case=case, role=AssignmentRole.MAIN, round=fresh(case).dispatch_round)
        services.assignment_sign_for(assignment=main, actor=people.east, expected_version=None)
    return case


def reply_kinds(case) -> list[str]:
    return sorted(Alert.objects.filter(case=case, clock__stage=Stage.REPLY).values_list("kind", flat=True))


def test_no_sweep_between_warning_and_deadline_means_no_warning_ever(city, people):
    case = signed_case(city, people)
    with clock.frozen_now(at(2026, 11, 30, 11)):  # the first sweep after the deadline: yellow only
        sweep()
    assert reply_kinds(case) == ["yellow"]
    with clock.frozen_now(at(2026, 12, 3, 11)):  # three working days later: red, and still no stale warning
        sweep()
    assert reply_kinds(case) == ["red", "yellow"]
    assert not Outbox.objects.filter(template="sla_warning").exists()
    assert not Outbox.objects.filter(
        template="sla_reminder"
    ).exists()  # the 7-day reminder came after the deadline


def test_first_sweep_after_the_red_time_raises_cards_only(city, people):
    case = signed_case(city, people)
    with clock.frozen_now(at(2026, 12, 10, 11)):
        sweep()
    assert reply_kinds(case) == ["red", "yellow"]
    assert not Outbox.objects.filter(template__in=["sla_warning", "sla_reminder"]).exists()


def test_a_sweep_before_the_deadline_still_warns(city, people):
    case = signed_case(city, people)
    with clock.frozen_now(at(2026, 11, 27, 11)):
        sweep()
    assert reply_kinds(case) == ["warning"]
    body = (
        Outbox.objects.filter(template="sla_warning", channel="in_app").values_list("body", flat=True).first()
    )
    assert body is not None and "将于2026年11月30日 10:00到期" in body
    with clock.frozen_now(at(2026, 11, 30, 11)):
        sweep()
    assert reply_kinds(case) == ["warning", "yellow"]


def test_the_sweep_marks_overdue_through_cases_with_one_audit_row_per_batch(city, people):
    from hotline.cases.models import CaseEvent
    from hotline.common.models import AuditLog

    case = signed_case(city, people)
    for moment in (at(2026, 11, 30, 11), at(2026, 12, 3, 11)):
        with clock.frozen_now(moment):
            sweep()
    assert OverdueMark.objects.filter(case=case, at=at(2026, 11, 30, 11)).exists()
    # flagged once, by the first card: one audit row for the sweep's batch, listing the case
    audits = AuditLog.objects.filter(object_type="cases.case", changes__is_overdue=[False, True])
    assert [row for row in audits.values_list("changes", flat=True) if case.pk in row["cases"]] == [
        {"is_overdue": [False, True], "cases": [case.pk]}
    ]
    yellow = CaseEvent.objects.get(case=case, action="sla_yellow", assignment__isnull=False)
    assert yellow.from_status == yellow.to_status == fresh(case).status
    assert yellow.at == at(2026, 11, 30, 11) and yellow.opinion == "答复热线办时限 2026年11月30日 10:00：黄牌"
