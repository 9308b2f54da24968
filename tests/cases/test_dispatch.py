import pytest

from hotline.cases import services
from hotline.cases.models import AssignmentRole, AssignmentStatus, CaseStatus, CloseKind
from hotline.cases.services import Target
from hotline.common.errors import Conflict, NotAllowed, ServiceError
from hotline.orgs.services import unit_retire
from tests.conftest import dispatched_to, fresh, submitted_case

MAIN, ASSISTING, CC = AssignmentRole.MAIN, AssignmentRole.ASSISTING, AssignmentRole.CC


def test_dispatch_creates_main_assisting_cc_and_copies_the_superior(city, people):
    case = dispatched_to(city, people, city.liyuan, (city.east_cg, ASSISTING), (city.housing, CC))
    case = fresh(case)
    assert case.status == CaseStatus.DISPATCHED and case.main_unit == city.liyuan and case.due_at
    rows = {(a.unit.code, a.role, a.status) for a in case.assignments.select_related("unit")}
    assert rows == {
        ("S-LIYUAN", MAIN, AssignmentStatus.PENDING),
        ("D-EAST-CG", ASSISTING, AssignmentStatus.PENDING),
        ("B-HOUSING", CC, AssignmentStatus.INFORMED),
        ("D-EAST", CC, AssignmentStatus.INFORMED),  # the main unit's superior, added automatically
    }


@pytest.mark.parametrize(
    "targets",
    [
        [],
        [("east", ASSISTING)],
        [("east", MAIN), ("housing", MAIN)],
        [("east", MAIN), ("east", ASSISTING)],
        [("office", MAIN)],
    ],
)
def test_dispatch_needs_exactly_one_main_unit_and_valid_units(city, people, targets):
    case = submitted_case(city, people)
    with pytest.raises(ServiceError):
        services.case_dispatch(
            case=case,
            actor=people.dispatcher,
            expected_version=None,
            targets=[Target(getattr(city, name), role) for name, role in targets],
        )
    case = fresh(case)
    assert case.status == CaseStatus.SUBMITTED and case.assignments.count() == 0 and case.version == 2


def test_cannot_dispatch_to_a_retired_unit(city, people):
    case = submitted_case(city, people)
    unit_retire(unit=city.guanshan, actor=None)
    city.guanshan.refresh_from_db()
    with pytest.raises(ServiceError, match="已撤销"):
        services.case_dispatch(
            case=case, actor=people.dispatcher, expected_version=None, targets=[Target(city.guanshan, MAIN)]
        )


def test_only_dispatchers_dispatch(city, people):
    case = submitted_case(city, people)
    for user in (people.agent, people.east, people.leader):
        with pytest.raises(NotAllowed):
            services.case_dispatch(
                case=case, actor=user, expected_version=None, targets=[Target(city.east, MAIN)]
            )


def test_stale_version_is_a_conflict(city, people):
    case = submitted_case(city, people)
    stale = case.version
    services.case_ask_leader(case=case, actor=people.dispatcher, expected_version=stale, opinion="请示")
    with pytest.raises(Conflict):
        services.case_dispatch(
            case=fresh(case),
            actor=people.dispatcher,
            expected_version=stale,
            targets=[Target(city.east, MAIN)],
        )


def test_stale_object_in_memory_is_a_conflict(city, people):
    case = submitted_case(city, people)
    other_copy = fresh(case)
    services.case_return_to_agent(
        case=case, actor=people.dispatcher, expected_version=None, opinion="地址不全"
    )
    with pytest.raises(Conflict):
        services.case_close_directly(
            case=other_copy, actor=people.dispatcher, expected_version=None, reason="x"
        )
    assert fresh(case).status == CaseStatus.RETURNED


def test_default_main_unit(city, people):
    vertical = submitted_case(city, people, bureau=city.tax)
    assert services.default_main_unit(vertical)[0] == city.tax
    local = submitted_case(city, people, bureau=city.housing)
    unit, reason = services.default_main_unit(local)
    assert unit == city.east and "东湖区" in reason
    no_place = submitted_case(city, people, bureau=city.housing, location_unit=None)
    assert services.default_main_unit(no_place)[0] == city.housing


def test_return_to_agent_then_resubmit(city, people):
    case = submitted_case(city, people)
    with pytest.raises(ServiceError):
        services.case_return_to_agent(case=case, actor=people.dispatcher, expected_version=None, opinion=" ")
    services.case_return_to_agent(
        case=case, actor=people.dispatcher, expected_version=None, opinion="请补充地址"
    )
    assert fresh(case).status == CaseStatus.RETURNED
    from hotline.cases.lifecycle import Action

    services.case_take_intake_action(
        case=fresh(case), actor=people.agent, action=Action.SUBMIT, expected_version=None
    )
    assert fresh(case).status == CaseStatus.SUBMITTED


def test_close_directly(city, people):
    case = submitted_case(city, people)
    services.case_close_directly(
        case=case, actor=people.dispatcher, expected_version=None, reason="已当场答复"
    )
    case = fresh(case)
    assert case.status == CaseStatus.CLOSED and case.close_kind == CloseKind.DIRECT


def test_ask_leader_then_instruction_then_dispatch(city, people):
    case = submitted_case(city, people)
    services.case_ask_leader(
        case=case, actor=people.dispatcher, expected_version=None, opinion="涉及多个部门"
    )
    with pytest.raises(NotAllowed):
        services.case_leader_instruct(
            case=fresh(case), actor=people.dispatcher, expected_version=None, instruction="x"
        )
    services.case_leader_instruct(
        case=fresh(case), actor=people.leader, expected_version=None, instruction="请东湖区牵头办理"
    )
    case = fresh(case)
    assert case.status == CaseStatus.SUBMITTED and case.leader_instruction == "请东湖区牵头办理"
    services.case_dispatch(
        case=case, actor=people.dispatcher, expected_version=None, targets=[Target(city.east, MAIN)]
    )
    assert fresh(case).status == CaseStatus.DISPATCHED


def test_reassign_cancels_the_old_round(city, people):
    case = dispatched_to(city, people, city.east, (city.housing, ASSISTING))
    services.case_reassign(
        case=fresh(case),
        actor=people.dispatcher,
        expected_version=None,
        targets=[Target(city.west, MAIN)],
        opinion="事发地属西湖区",
    )
    case = fresh(case)
    assert case.dispatch_round == 2 and case.main_unit == city.west and case.status == CaseStatus.DISPATCHED
    old = case.assignments.filter(round=1)
    assert set(old.values_list("status", flat=True)) == {AssignmentStatus.CANCELLED}
    with pytest.raises(ServiceError):
        services.case_reassign(
            case=case,
            actor=people.dispatcher,
            expected_version=None,
            targets=[Target(city.east, MAIN)],
            opinion="",
        )
