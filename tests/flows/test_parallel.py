"""Parallel steps enforced (FLW-1): a countersign step or the branches of a parallel split are left (the join
reached) only when every unit / branch has finished with its result recorded; refused in Chinese through
`lifecycle.check`; shown on the case page's position graph. A case started on v1 finishes on v1 after a v2 with
a parallel step is published."""

from __future__ import annotations

import copy

import pytest
from django.urls import reverse

from hotline.cases import lifecycle
from hotline.cases import services as case_services
from hotline.cases.lifecycle import Action
from hotline.cases.models import Assignment, AssignmentRole, CaseStatus, Rating
from hotline.common.errors import ServiceError
from hotline.flows import definition, services
from hotline.flows.defaults import UNIT_ROLES, default_flow_json
from hotline.flows.models import CaseFlow, StepKind
from tests.conftest import fresh, submitted_case

RESULT = "已现场核查并责令商户整改，油烟净化设施已安装到位。"
UNIT_STATUSES = ["dispatched", "handling", "redo"]


def publish(actor, data):
    version = services.template_import(actor=actor, data=data)
    services.version_submit(actor=actor, version=version)
    return services.version_publish(actor=actor, version=version)


def parallel_variant(data):
    """The unit step split in two branches — district units and bureaus — that meet at a join before review (a
    branch may not leave for the office's return review: every branch must reach the join)."""
    data = copy.deepcopy(data)
    gone = {"handling", "return-review"}
    data["steps"] = [s for s in data["steps"] if s["code"] not in gone] + [
        {"code": "split", "name": "分头办理", "kind": StepKind.SPLIT},
        {
            "code": "district",
            "name": "区县办理",
            "statuses": UNIT_STATUSES,
            "roles": UNIT_ROLES,
            "unit_level": "district",
            "limit": {"amount": 3, "unit": "workdays"},
        },
        {
            "code": "bureau",
            "name": "职能局办理",
            "statuses": UNIT_STATUSES,
            "roles": UNIT_ROLES,
            "unit_level": "bureau",
            "limit": {"amount": 4, "unit": "workdays"},
        },
        {"code": "join", "name": "汇总", "kind": StepKind.JOIN},
    ]
    transitions = [t for t in data["transitions"] if not gone & {t["from"], t["to"]}]
    for t in data["transitions"]:
        if t["to"] == "handling" and t["from"] not in gone:
            transitions.append({**t, "to": "split"})
    transitions += [
        {"from": "split", "to": "district", "action": "", "label": "", "guard": ""},
        {"from": "split", "to": "bureau", "action": "", "label": "", "guard": ""},
        {"from": "district", "to": "district", "action": "sign_for", "label": "", "guard": ""},
        {"from": "bureau", "to": "bureau", "action": "sign_for", "label": "", "guard": ""},
        {"from": "district", "to": "join", "action": "report", "label": "", "guard": ""},
        {"from": "bureau", "to": "join", "action": "report", "label": "", "guard": ""},
        {"from": "join", "to": "result-review", "action": "", "label": "", "guard": ""},
    ]
    data["transitions"] = transitions
    return data


def dispatch(case, people, *targets):
    return case_services.case_dispatch(
        case=fresh(case),
        actor=people.dispatcher,
        expected_version=fresh(case).version,
        targets=[case_services.Target(u, r) for u, r in targets],
    )


def assignment(case, unit):
    return Assignment.objects.get(case=case, unit=unit, round=fresh(case).dispatch_round, parent__isnull=True)


def sign(case, unit, user):
    case_services.assignment_sign_for(assignment=assignment(case, unit), actor=user, expected_version=None)


def report(case, unit, user):
    case_services.assignment_report(
        assignment=assignment(case, unit), actor=user, expected_version=None, result=RESULT
    )


def test_the_parallel_variant_is_valid_and_a_branch_cannot_end_before_the_join():
    assert definition.validate(definition.from_json(parallel_variant(default_flow_json()))) == []
    leaky = parallel_variant(default_flow_json())
    leaky["transitions"].append(
        {"from": "bureau", "to": "closed", "action": "office_close", "label": "", "guard": ""}
    )
    problems = [p.message for p in definition.validate(definition.from_json(leaky))]
    assert any("未汇聚就到达了结束环节" in p for p in problems)


def test_v1_case_finishes_on_v1_while_v2_joins_every_branch(client, city, people):
    v1 = publish(people.dispatcher, default_flow_json())
    old = submitted_case(city, people)
    v2 = services.version_new_draft(actor=people.dispatcher, template=v1.template)
    services.version_save_definition(
        actor=people.dispatcher, version=v2, flow=definition.from_json(parallel_variant(default_flow_json()))
    )
    services.version_submit(actor=people.dispatcher, version=v2)
    v2 = services.version_publish(actor=people.dispatcher, version=v2)

    # v1: one district unit reports alone and the case goes all the way to closed
    dispatch(old, people, (city.east, AssignmentRole.MAIN))
    sign(old, city.east, people.east)
    report(old, city.east, people.east)
    case_services.case_review_accept(case=fresh(old), actor=people.dispatcher, expected_version=None)
    case_services.case_callback(
        case=fresh(old),
        actor=people.agent,
        expected_version=None,
        rating=Rating.SATISFIED,
        method="phone",
        citizen_words="谢谢",
        responded="yes",
        solution="solved",
    )
    assert fresh(old).status == CaseStatus.CLOSED and CaseFlow.objects.get(case=old).version == v1

    # v2, one branch never sent to a unit: the district's report is refused in Chinese, nothing changes
    alone = submitted_case(city, people)
    assert CaseFlow.objects.get(case=alone).version == v2
    dispatch(alone, people, (city.east, AssignmentRole.MAIN))
    sign(alone, city.east, people.east)
    with pytest.raises(ServiceError) as refused:
        report(alone, city.east, people.east)
    assert refused.value.code == "flow_parallel"
    assert "并行环节“职能局办理”尚未派给任何单位" in refused.value.message and "汇总" in refused.value.message
    assert fresh(alone).status == CaseStatus.HANDLING
    assert assignment(alone, city.east).status == "handling"

    # v2, both branches: the bureau's opinion recorded, then the district reports and the join is reached
    both = submitted_case(city, people)
    dispatch(both, people, (city.east, AssignmentRole.MAIN), (city.housing, AssignmentRole.ASSISTING))
    # each branch's unit got its branch's time limit as its deadline
    assert assignment(both, city.east).due_at != assignment(both, city.housing).due_at
    sign(both, city.east, people.east)
    sign(both, city.housing, people.housing)
    client.force_login(people.dispatcher)
    page = client.get(reverse("case-detail", args=[both.pk])).content.decode()
    assert "并行环节“职能局办理”" in page and "市住建局（协办·办理中）" in page
    case_services.assignment_give_opinion(
        assignment=assignment(both, city.housing), actor=people.housing, expected_version=None, opinion=RESULT
    )
    page = client.get(reverse("case-detail", args=[both.pk])).content.decode()
    assert "市住建局（协办·已办结）" in page and 'class="flow-step current done" data-step="bureau"' in page
    assert 'class="flow-step current" data-step="district"' in page  # the district still works
    answer = client.get(reverse("api-case-flow", args=[both.pk])).json()
    assert {(b["step"], b["done"]) for b in answer["parallel"]} == {("district", False), ("bureau", True)}
    report(both, city.east, people.east)
    assert fresh(both).status == CaseStatus.RESULT_REVIEW


def test_countersign_step_waits_for_every_unit_through_lifecycle_check(city, people):
    """The default template's unit step is a countersign step: leaving it with a unit still at work is refused by
    `lifecycle.check` itself (the services' own assisting check comes first in the report service)."""
    publish(people.dispatcher, default_flow_json())
    case = submitted_case(city, people)
    dispatch(case, people, (city.east, AssignmentRole.MAIN), (city.housing, AssignmentRole.ASSISTING))
    sign(case, city.east, people.east)
    sign(case, city.housing, people.housing)
    case = fresh(case)
    with pytest.raises(ServiceError) as refused:
        lifecycle.check(Action.REPORT, case=case, user=people.east, target=CaseStatus.RESULT_REVIEW)
    assert refused.value.code == "flow_parallel" and "市住建局" in refused.value.message
    # a report inside the units (forwarded level, the case stays) and the office's overrides are not joins
    lifecycle.check(Action.REPORT, case=case, user=people.east, target=None)
    lifecycle.check(Action.OFFICE_CLOSE, case=case, user=people.dispatcher, target=CaseStatus.CLOSED)
    case_services.assignment_give_opinion(
        assignment=assignment(case, city.housing), actor=people.housing, expected_version=None, opinion=RESULT
    )
    lifecycle.check(Action.REPORT, case=fresh(case), user=people.east, target=CaseStatus.RESULT_REVIEW)
