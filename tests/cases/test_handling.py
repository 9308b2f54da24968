import datetime as dt

import pytest

from hotline.cases import services
from hotline.cases.models import Assignment, AssignmentRole, AssignmentStatus, CaseStatus, RequestStatus
from hotline.cases.services import Target
from hotline.common import clock
from hotline.common.errors import NotAllowed, ServiceError
from hotline.common.models import DictKind
from tests.conftest import dict_item, dispatched_to, fresh

MAIN, ASSISTING, CC = AssignmentRole.MAIN, AssignmentRole.ASSISTING, AssignmentRole.CC


def main_of(case, unit):
    return Assignment.objects.get(case=case, unit=unit, role=MAIN, round=fresh(case).dispatch_round)


def signed(case, unit, user):
    assignment = Assignment.objects.filter(case=case, unit=unit).latest("id")
    return services.assignment_sign_for(assignment=assignment, actor=user, expected_version=None)


def test_sign_for_moves_case_to_handling_only_for_the_main_unit(city, people):
    case = dispatched_to(city, people, city.east, (city.housing, ASSISTING))
    signed(case, city.housing, people.housing)
    assert fresh(case).status == CaseStatus.DISPATCHED
    assignment = signed(case, city.east, people.east)
    assert (
        assignment.status == AssignmentStatus.HANDLING
        and assignment.signed_at
        and assignment.signed_by == people.east
    )
    assert fresh(case).status == CaseStatus.HANDLING
    with pytest.raises(ServiceError):
        services.assignment_sign_for(assignment=assignment, actor=people.east, expected_version=None)


def test_a_unit_cannot_act_on_a_case_not_assigned_to_it(city, people):
    case = dispatched_to(city, people, city.east)
    assignment = main_of(case, city.east)
    with pytest.raises(NotAllowed):
        services.assignment_sign_for(assignment=assignment, actor=people.west, expected_version=None)
    with pytest.raises(NotAllowed):
        services.assignment_report(
            assignment=assignment, actor=people.liyuan, expected_version=None, result="x"
        )


def test_handling_records_need_sign_for_and_keep_promised_date(city, people):
    case = dispatched_to(city, people, city.east)
    assignment = main_of(case, city.east)
    with pytest.raises(ServiceError, match="签收"):
        services.assignment_record_handling(
            assignment=assignment, actor=people.east, expected_version=None, result="x"
        )
    signed(case, city.east, people.east)
    promised = clock.now() + dt.timedelta(days=3)
    services.assignment_record_handling(
        assignment=assignment,
        actor=people.east,
        expected_version=None,
        cause="商户违规",
        solution="约谈",
        result="已约谈",
        promised_at=promised,
    )
    services.assignment_record_handling(
        assignment=assignment, actor=people.east, expected_version=None, result="复查"
    )
    assignment.refresh_from_db()
    assert assignment.records.count() == 2 and assignment.promised_at == promised
    with pytest.raises(ServiceError):
        services.assignment_record_handling(
            assignment=assignment,
            actor=people.east,
            expected_version=None,
            result="x",
            promised_at=clock.now() - dt.timedelta(hours=1),
        )


def test_forwarding_rules(city, people):
    case = dispatched_to(city, people, city.east)
    district = signed(case, city.east, people.east)
    for bad in (
        city.west_street,
        city.xingfu,
        city.housing,
    ):  # another district's street, a grandchild, a city bureau
        with pytest.raises(ServiceError):
            services.assignment_forward(
                assignment=district, actor=people.east, expected_version=None, targets=[Target(bad, MAIN)]
            )
    services.assignment_forward(
        assignment=district,
        actor=people.east,
        expected_version=None,
        targets=[Target(city.liyuan, MAIN), Target(city.east_cg, ASSISTING)],
    )
    district.refresh_from_db()
    assert district.status == AssignmentStatus.FORWARDED
    street = signed(case, city.liyuan, people.liyuan)
    with pytest.raises(ServiceError):
        services.assignment_forward(
            assignment=street,
            actor=people.liyuan,
            expected_version=None,
            targets=[Target(city.guanshan, MAIN)],
        )
    services.assignment_forward(
        assignment=street, actor=people.liyuan, expected_version=None, targets=[Target(city.xingfu, MAIN)]
    )
    community = signed(case, city.xingfu, people.xingfu)
    assert community.level == 3 and community.parent == street
    with pytest.raises(ServiceError, match="不能向下派单"):
        services.assignment_forward(
            assignment=community,
            actor=people.xingfu,
            expected_version=None,
            targets=[Target(city.heping, MAIN)],
        )


def test_city_bureau_cannot_forward(city, people):
    case = dispatched_to(city, people, city.housing)
    bureau = signed(case, city.housing, people.housing)
    with pytest.raises(ServiceError):
        services.assignment_forward(
            assignment=bureau, actor=people.housing, expected_version=None, targets=[Target(city.east, MAIN)]
        )


def test_send_back_reopens_the_forwarding_unit(city, people):
    case = dispatched_to(city, people, city.liyuan)
    street = signed(case, city.liyuan, people.liyuan)
    services.assignment_forward(
        assignment=street, actor=people.liyuan, expected_version=None, targets=[Target(city.xingfu, MAIN)]
    )
    community = Assignment.objects.get(case=case, unit=city.xingfu)
    with pytest.raises(ServiceError):
        services.assignment_send_back(
            assignment=community, actor=people.xingfu, expected_version=None, reason=""
        )
    services.assignment_send_back(
        assignment=community, actor=people.xingfu, expected_version=None, reason="不在本社区"
    )
    community.refresh_from_db()
    street.refresh_from_db()
    assert community.status == AssignmentStatus.SENT_BACK and street.status == AssignmentStatus.HANDLING
    with pytest.raises(ServiceError, match="退件"):
        services.assignment_send_back(
            assignment=street, actor=people.liyuan, expected_version=None, reason="x"
        )


def test_child_report_goes_to_the_parent_and_the_top_report_to_the_office(city, people):
    case = dispatched_to(city, people, city.east)
    district = signed(case, city.east, people.east)
    services.assignment_forward(
        assignment=district, actor=people.east, expected_version=None, targets=[Target(city.liyuan, MAIN)]
    )
    street = signed(case, city.liyuan, people.liyuan)
    services.assignment_report(assignment=street, actor=people.liyuan, expected_version=None, result="已整改")
    district.refresh_from_db()
    assert district.status == AssignmentStatus.HANDLING and fresh(case).status == CaseStatus.HANDLING
    services.assignment_report(assignment=district, actor=people.east, expected_version=None, result="已办结")
    case = fresh(case)
    assert case.status == CaseStatus.RESULT_REVIEW


def test_assisting_opinions_before_the_main_report(city, people):
    case = dispatched_to(city, people, city.east, (city.housing, ASSISTING))
    main = signed(case, city.east, people.east)
    assisting = signed(case, city.housing, people.housing)
    with pytest.raises(ServiceError, match="协办单位尚未全部反馈"):
        services.assignment_report(assignment=main, actor=people.east, expected_version=None, result="好了")
    with pytest.raises(ServiceError, match="主办"):
        services.assignment_report(
            assignment=assisting, actor=people.housing, expected_version=None, result="x"
        )
    # the assisting unit brings in another unit, which must answer too
    services.assignment_add_assisting(
        assignment=assisting,
        actor=people.housing,
        expected_version=None,
        targets=[Target(city.tax, ASSISTING)],
    )
    with pytest.raises(ServiceError):
        services.assignment_add_assisting(
            assignment=assisting,
            actor=people.housing,
            expected_version=None,
            targets=[Target(city.east, ASSISTING)],
        )  # already involved
    services.assignment_give_opinion(
        assignment=assisting, actor=people.housing, expected_version=None, opinion="已核查房屋产权"
    )
    services.assignment_return_opinion(
        assignment=assisting, actor=people.east, expected_version=None, reason="请补充产权人信息"
    )
    assisting.refresh_from_db()
    assert assisting.status == AssignmentStatus.HANDLING
    services.assignment_give_opinion(
        assignment=assisting, actor=people.housing, expected_version=None, opinion="产权人为张某"
    )
    tax = signed(case, city.tax, people.tax)
    services.assignment_give_opinion(
        assignment=tax, actor=people.tax, expected_version=None, opinion="无欠税"
    )
    services.assignment_report(assignment=main, actor=people.east, expected_version=None, result="综合办结")
    assert fresh(case).status == CaseStatus.RESULT_REVIEW


def test_return_to_office_rejected_keeps_the_unit(city, people):
    case = dispatched_to(city, people, city.east)
    main = signed(case, city.east, people.east)
    reason = dict_item(DictKind.RETURN_REASON, "not_our_duty")
    with pytest.raises(ServiceError):
        services.assignment_return_to_office(
            assignment=main,
            actor=people.east,
            expected_version=None,
            reason=reason,
            text="不归我们管",
            suggested_unit=None,
        )
    services.assignment_return_to_office(
        assignment=main,
        actor=people.east,
        expected_version=None,
        reason=reason,
        text="属住建局职责",
        suggested_unit=city.housing,
    )
    assert fresh(case).status == CaseStatus.RETURN_REVIEW
    services.case_reject_return(
        case=fresh(case), actor=people.dispatcher, expected_version=None, opinion="属地管理，请继续办理"
    )
    main.refresh_from_db()
    assert fresh(case).status == CaseStatus.HANDLING and main.status == AssignmentStatus.HANDLING
    assert main.return_requests.get().status == RequestStatus.REJECTED


def test_return_to_office_approved_reassigns_to_the_suggested_unit(city, people):
    case = dispatched_to(city, people, city.east)
    main = signed(case, city.east, people.east)
    services.assignment_return_to_office(
        assignment=main,
        actor=people.east,
        expected_version=None,
        reason=dict_item(DictKind.RETURN_REASON, "not_our_duty"),
        text="属住建局职责",
        suggested_unit=city.housing,
    )
    services.case_approve_return(
        case=fresh(case), actor=people.dispatcher, expected_version=None, opinion="同意"
    )
    case = fresh(case)
    main.refresh_from_db()
    assert (
        case.status == CaseStatus.DISPATCHED and case.main_unit == city.housing and case.dispatch_round == 2
    )
    assert main.status == AssignmentStatus.RETURNED


def test_only_the_top_main_unit_returns_to_the_office(city, people):
    case = dispatched_to(city, people, city.east)
    district = signed(case, city.east, people.east)
    services.assignment_forward(
        assignment=district, actor=people.east, expected_version=None, targets=[Target(city.liyuan, MAIN)]
    )
    street = Assignment.objects.get(case=case, unit=city.liyuan)
    with pytest.raises(ServiceError, match="退回上级"):
        services.assignment_return_to_office(
            assignment=street,
            actor=people.liyuan,
            expected_version=None,
            reason=dict_item(DictKind.RETURN_REASON, "other"),
            text="x",
            suggested_unit=city.guanshan,
        )


def test_extension_request_and_decision(city, people):
    case = dispatched_to(city, people, city.east)
    main = signed(case, city.east, people.east)
    with pytest.raises(ServiceError):
        services.assignment_request_extension(
            assignment=main,
            actor=people.east,
            expected_version=None,
            requested_due_at=clock.now() - dt.timedelta(days=1),
            reason="x",
        )
    new_due = main.due_at + dt.timedelta(days=5)
    request = services.assignment_request_extension(
        assignment=main,
        actor=people.east,
        expected_version=None,
        requested_due_at=new_due,
        reason="需协调多个部门",
    )
    with pytest.raises(ServiceError, match="待审核"):
        services.assignment_request_extension(
            assignment=main,
            actor=people.east,
            expected_version=None,
            requested_due_at=new_due,
            reason="再申请",
        )
    with pytest.raises(NotAllowed):
        services.extension_decide(request=request, actor=people.east, expected_version=None, approve=True)
    services.extension_decide(request=request, actor=people.dispatcher, expected_version=None, approve=True)
    main.refresh_from_db()
    assert main.due_at == new_due and fresh(case).due_at == new_due
    with pytest.raises(ServiceError, match="已审核"):
        services.extension_decide(
            request=request, actor=people.dispatcher, expected_version=None, approve=False
        )


def test_refusing_an_extension_needs_a_reason(city, people):
    case = dispatched_to(city, people, city.east)
    main = signed(case, city.east, people.east)
    request = services.assignment_request_extension(
        assignment=main,
        actor=people.east,
        expected_version=None,
        requested_due_at=main.due_at + dt.timedelta(days=2),
        reason="x",
    )
    with pytest.raises(ServiceError):
        services.extension_decide(
            request=request, actor=people.dispatcher, expected_version=None, approve=False
        )
    services.extension_decide(
        request=request, actor=people.dispatcher, expected_version=None, approve=False, note="时限充足"
    )
    main.refresh_from_db()
    assert main.due_at == request.previous_due_at
