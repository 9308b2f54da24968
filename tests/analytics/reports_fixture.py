"""A small hand-built month of cases for the cross-tab and report tests; every expected figure is worked out by
hand in tests/analytics/test_crosstab.py from what is written here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hotline.cases import services
from hotline.cases.models import Assignment, AssignmentRole, Case
from hotline.common import clock
from hotline.common.models import DictKind
from hotline.sla.models import Clock, Stage
from tests.conftest import case_input, dict_item, dispatched_to, fresh, submitted_case

SH = ZoneInfo("Asia/Shanghai")
T0 = dt.datetime(2026, 11, 23, 10, tzinfo=SH)  # a Monday
PERIOD = {"period": "custom", "from": "2026-11-01", "to": "2026-12-31"}
RUN_AT = dt.datetime(2026, 12, 31, 20, tzinfo=SH)


@dataclass
class Month:
    a: Case  # complaint, phone, 幸福社区 → 东湖区 (main); redone once (a reopened case), then satisfied
    b: Case  # complaint, web, 关山街道 → 东湖区; signed late, an extension asked, reported late, satisfied
    c: Case  # consultation, phone, 西湖社区, bureau 税务局 → 西湖区; never signed for
    d: Case  # consultation answered at intake (first-contact resolution)
    g: Case  # complaint in December, not dispatched
    f: Case  # October: outside the period
    e: Case  # a draft: never counted


def main_of(case: Case) -> Assignment:
    return Assignment.objects.get(case=case, role=AssignmentRole.MAIN)


def build(city, people) -> Month:
    h = dt.timedelta(hours=1)
    d = dt.timedelta(days=1)
    consult = dict_item(DictKind.CASE_TYPE, "consult")
    with clock.frozen_now(dt.datetime(2026, 10, 14, 9, tzinfo=SH)):
        f = dispatched_to(city, people, city.east)
    with clock.frozen_now(T0):
        a = dispatched_to(city, people, city.east)
        b = dispatched_to(city, people, city.east, channel="web", location_unit=city.guanshan)
        c = dispatched_to(
            city, people, city.west, case_type=consult, location_unit=city.west_comm, bureau=city.tax
        )
        d_case = services.case_intake(
            actor=people.agent,
            data=case_input(city, case_type=consult),
            action="archive",
            answer="已答复政策",
        ).case
        e = services.case_intake(actor=people.agent, data=case_input(city), action="save_draft").case
    with clock.frozen_now(dt.datetime(2026, 12, 2, 10, tzinfo=SH)):
        g = submitted_case(city, people)
    # A: signed in time, reported, dissatisfied → redo (the same assignment reopened), reported again, satisfied
    with clock.frozen_now(T0 + h):
        services.assignment_sign_for(assignment=main_of(a), actor=people.east, expected_version=None)
    with clock.frozen_now(T0 + 2 * d):
        services.assignment_report(
            assignment=main_of(a), actor=people.east, expected_version=None, result="已处理"
        )
    with clock.frozen_now(T0 + 2 * d + h):
        services.case_review_accept(case=fresh(a), actor=people.dispatcher, expected_version=None)
    with clock.frozen_now(T0 + 3 * d):
        services.case_callback(
            case=fresh(a),
            actor=people.agent,
            expected_version=None,
            rating="dissatisfied",
            method="phone",
            responded="yes",
            solution="unsolved",
        )
    with clock.frozen_now(T0 + 4 * d):
        services.assignment_report(
            assignment=main_of(a), actor=people.east, expected_version=None, result="再次处理"
        )
    with clock.frozen_now(T0 + 4 * d + h):
        services.case_review_accept(case=fresh(a), actor=people.dispatcher, expected_version=None)
    with clock.frozen_now(T0 + 5 * d):
        services.case_callback(
            case=fresh(a),
            actor=people.agent,
            expected_version=None,
            rating="satisfied",
            method="phone",
            responded="yes",
            solution="solved",
        )
    # B: signed a day late, asks for more time, reports after its deadline, satisfied
    with clock.frozen_now(T0 + d):
        services.assignment_sign_for(assignment=main_of(b), actor=people.east, expected_version=None)
    with clock.frozen_now(T0 + d + 2 * h):
        services.assignment_request_extension(
            assignment=main_of(b),
            actor=people.east,
            expected_version=None,
            requested_due_at=T0 + 20 * d,
            reason="需要协调多个部门",
        )
    with clock.frozen_now(T0 + 3 * d):
        services.assignment_report(
            assignment=main_of(b), actor=people.east, expected_version=None, result="已处理"
        )
    with clock.frozen_now(T0 + 3 * d + h):
        services.case_review_accept(case=fresh(b), actor=people.dispatcher, expected_version=None)
    with clock.frozen_now(T0 + 4 * d):
        services.case_callback(
            case=fresh(b),
            actor=people.agent,
            expected_version=None,
            rating="satisfied",
            method="phone",
            responded="no",
            solution="partly",
        )
    # deadlines pinned, so that the figures can be worked out by hand
    for case in (a, b, c):
        Clock.objects.filter(assignment=main_of(case), stage=Stage.SIGN_FOR).update(due_at=T0 + 4 * h)
    Assignment.objects.filter(pk=main_of(a).pk).update(due_at=T0 + 5 * d)  # reported at T0+4d: on time
    Assignment.objects.filter(pk=main_of(b).pk).update(due_at=T0 + 2 * d)  # reported at T0+3d: late
    return Month(a=a, b=b, c=c, d=d_case, g=g, f=f, e=e)
