import pytest

from hotline.cases import services
from hotline.cases.models import Assignment, AssignmentRole, AssignmentStatus, CaseStatus, CloseKind, Rating
from hotline.common.errors import NotAllowed, ServiceError
from hotline.orgs.models import Role
from hotline.orgs.services import user_create
from tests.conftest import dispatched_to, fresh


def reported(city, people, unit=None, user=None):
    unit, user = unit or city.east, user or people.east
    case = dispatched_to(city, people, unit)
    main = Assignment.objects.get(case=case, unit=unit, role=AssignmentRole.MAIN)
    services.assignment_sign_for(assignment=main, actor=user, expected_version=None)
    services.assignment_report(assignment=main, actor=user, expected_version=None, result="已处理完毕")
    return fresh(case)


def report_again(case, unit, user):
    main = Assignment.objects.get(
        case=case, unit=unit, round=fresh(case).dispatch_round, role=AssignmentRole.MAIN
    )
    assert main.status == AssignmentStatus.HANDLING
    services.assignment_report(assignment=main, actor=user, expected_version=None, result="重新处理完毕")


def test_review_accept_then_satisfied_callback_closes(city, people):
    case = reported(city, people)
    services.case_review_accept(case=case, actor=people.dispatcher, expected_version=None)
    assert fresh(case).status == CaseStatus.CALLBACK
    services.case_callback(
        case=fresh(case),
        actor=people.agent,
        expected_version=None,
        rating=Rating.SATISFIED,
        method="phone",
        citizen_words="谢谢",
        responded="yes",
        solution="solved",
    )
    case = fresh(case)
    assert (
        case.status == CaseStatus.CLOSED
        and case.close_kind == CloseKind.SATISFIED
        and case.last_rating == "satisfied"
    )


def test_review_reject_sends_it_back_to_the_unit(city, people):
    case = reported(city, people)
    services.case_review_reject(
        case=case, actor=people.dispatcher, expected_version=None, opinion="答复不完整"
    )
    assert fresh(case).status == CaseStatus.HANDLING
    report_again(case, city.east, people.east)
    assert fresh(case).status == CaseStatus.RESULT_REVIEW


def test_dissatisfied_twice_leads_to_special_supervision(city, people):
    case = reported(city, people)
    services.case_review_accept(case=case, actor=people.dispatcher, expected_version=None)
    services.case_callback(
        case=fresh(case),
        actor=people.agent,
        expected_version=None,
        rating=Rating.DISSATISFIED,
        method="phone",
        responded="yes",
        solution="solved",
    )
    assert fresh(case).status == CaseStatus.REDO
    report_again(case, city.east, people.east)
    services.case_review_accept(case=fresh(case), actor=people.dispatcher, expected_version=None)
    services.case_callback(
        case=fresh(case),
        actor=people.agent,
        expected_version=None,
        rating=Rating.VERY_DISSATISFIED,
        method="sms",
        responded="yes",
        solution="solved",
    )
    case = fresh(case)
    assert case.status == CaseStatus.SPECIAL_SUPERVISION and case.dissatisfied_count == 2
    # a handler may not give the leader's opinion, nor a leader of another unit
    with pytest.raises(NotAllowed):
        services.case_supervision_opinion(case=case, actor=people.east, expected_version=None, opinion="x")
    with pytest.raises(NotAllowed):
        services.case_supervision_opinion(
            case=case, actor=people.liyuan_leader, expected_version=None, opinion="x"
        )
    services.case_supervision_opinion(
        case=case, actor=people.east_leader, expected_version=None, opinion="主要领导督办，三日内解决"
    )
    assert fresh(case).status == CaseStatus.REDO
    report_again(case, city.east, people.east)
    services.case_review_accept(case=fresh(case), actor=people.dispatcher, expected_version=None)
    services.case_callback(
        case=fresh(case),
        actor=people.agent,
        expected_version=None,
        rating=Rating.BASICALLY_SATISFIED,
        method="phone",
        responded="yes",
        solution="solved",
    )
    assert fresh(case).status == CaseStatus.CLOSED


def test_office_may_close_anyway_with_a_reason(city, people):
    case = reported(city, people)
    services.case_review_accept(case=case, actor=people.dispatcher, expected_version=None)
    services.case_callback(
        case=fresh(case),
        actor=people.agent,
        expected_version=None,
        rating=Rating.DISSATISFIED,
        method="phone",
        responded="yes",
        solution="solved",
    )
    with pytest.raises(ServiceError):
        services.case_office_close(
            case=fresh(case), actor=people.dispatcher, expected_version=None, reason=""
        )
    services.case_office_close(
        case=fresh(case),
        actor=people.dispatcher,
        expected_version=None,
        reason="诉求超出政策范围，已充分解释",
    )
    case = fresh(case)
    assert case.status == CaseStatus.CLOSED and case.close_kind == CloseKind.OFFICE
    assert not case.assignments.filter(status__in=["pending", "handling"]).exists()


def test_callback_only_when_waiting_for_callback(city, people):
    case = reported(city, people)
    with pytest.raises(ServiceError, match="结果待审核"):
        services.case_callback(
            case=case,
            actor=people.agent,
            expected_version=None,
            rating="satisfied",
            method="phone",
            responded="yes",
            solution="solved",
        )
    with pytest.raises(NotAllowed):
        services.case_review_accept(case=case, actor=people.east, expected_version=None)


def test_close_marks_and_query_password(city, people):
    case = reported(city, people)
    services.case_review_accept(case=case, actor=people.dispatcher, expected_version=None)
    services.case_callback(
        case=fresh(case),
        actor=people.agent,
        expected_version=None,
        rating="satisfied",
        method="web",
        responded="yes",
        solution="solved",
    )
    case, password = services.case_set_close_marks(
        case=fresh(case),
        actor=people.dispatcher,
        expected_version=None,
        is_public=True,
        push_hot=True,
        is_typical=True,
    )
    assert password is None and case.is_public and case.push_hot and case.is_typical
    with pytest.raises(ServiceError):
        services.query_password_code_send(case=fresh(case), actor=people.agent)
    services.case_set_close_marks(
        case=fresh(case),
        actor=people.dispatcher,
        expected_version=None,
        is_public=False,
        push_hot=False,
        is_typical=False,
    )
    assert fresh(
        case
    ).query_password  # non-public again: it has a password (reset by the citizen, see test_password_reset)


def test_violation_marks_need_a_reason(city, people):
    case = reported(city, people)
    with pytest.raises(ServiceError):
        services.case_set_violation(
            case=case,
            actor=people.monitor,
            expected_version=None,
            is_perfunctory=True,
            is_wrong=False,
            note="",
        )
    services.case_set_violation(
        case=case,
        actor=people.monitor,
        expected_version=None,
        is_perfunctory=True,
        is_wrong=False,
        note="答复照搬政策原文",
    )
    assert fresh(case).is_perfunctory


def test_user_roles(city):
    user = user_create(
        username="u",
        password="pw-123456",
        full_name="某人",
        unit=city.east,
        roles=[Role.UNIT_HANDLER, Role.UNIT_LEADER],
    )
    assert user.has_role(Role.UNIT_LEADER) and not user.has_role(Role.DISPATCHER)
    with pytest.raises(ServiceError):
        user_create(username="v", password="pw-123456", full_name="x", unit=city.east, roles=["boss"])
