"""Single and serial unit steps enforced (FLW-1): at a single step exactly one unit acts (a dispatch to more is
refused); at a serial step the dispatch's units act one after another in the template's order of unit levels,
the main unit last — only the first gets its assignment at dispatch, the next one's is created when the one
before has finished. The validator (and so the editor, review and publishing) refuses malformed kinds."""

from __future__ import annotations

import copy

import pytest

from hotline.cases import services as case_services
from hotline.cases.models import Assignment, AssignmentRole, AssignmentStatus, CaseStatus
from hotline.common.errors import ServiceError
from hotline.flows import definition, services
from hotline.flows.defaults import default_flow_json
from hotline.flows.forms import StepForm
from hotline.flows.models import StepKind
from tests.conftest import fresh, submitted_case

from .test_parallel import RESULT, assignment, dispatch, parallel_variant, publish, report, sign


def unit_step_variant(kind: str, sequence: list[str] | None = None) -> dict:
    """The default template with its unit step (handling) made `kind`."""
    data = copy.deepcopy(default_flow_json())
    for step in data["steps"]:
        if step["code"] == "handling":
            step["kind"] = kind
            step["sequence"] = sequence or []
    return data


def problems(data: dict) -> list[str]:
    return [p.message for p in definition.validate(definition.from_json(data))]


def acting_units(case) -> set[str]:
    return set(
        Assignment.objects.filter(case=case, round=fresh(case).dispatch_round, parent__isnull=True)
        .exclude(role=AssignmentRole.CC)
        .values_list("unit__name", flat=True)
    )


def test_validator_refuses_malformed_single_countersign_and_serial_steps():
    assert problems(unit_step_variant(StepKind.SINGLE)) == []
    assert problems(unit_step_variant(StepKind.SERIAL, ["bureau", "district"])) == []
    assert any("至少两个单位层级" in p for p in problems(unit_step_variant(StepKind.SERIAL)))
    assert any("至少两个单位层级" in p for p in problems(unit_step_variant(StepKind.SERIAL, ["bureau"])))
    assert any("重复" in p for p in problems(unit_step_variant(StepKind.SERIAL, ["bureau", "bureau"])))
    assert any("无效" in p for p in problems(unit_step_variant(StepKind.SERIAL, ["office", "bureau"])))
    assert any(
        "不是串行环节" in p for p in problems(unit_step_variant(StepKind.COUNTERSIGN, ["bureau", "district"]))
    )
    one_level = unit_step_variant(StepKind.SERIAL, ["bureau", "district"])
    next(s for s in one_level["steps"] if s["code"] == "handling")["unit_level"] = "district"
    assert any("不能限定单一单位层级" in p for p in problems(one_level))
    # a countersign or serial step must be one where units act
    office_step = copy.deepcopy(default_flow_json())
    next(s for s in office_step["steps"] if s["code"] == "result-review")["kind"] = StepKind.COUNTERSIGN
    assert any("须对应单位办理的工单状态" in p for p in problems(office_step))
    # a serial step is not a parallel branch
    branch = parallel_variant(default_flow_json())
    for step in branch["steps"]:
        if step["code"] == "district":
            step.update(kind=StepKind.SERIAL, unit_level="", sequence=["street", "district"])
    assert any("不能作为并行分支" in p for p in problems(branch))


def test_editor_reads_the_order_by_names_and_refuses_unknown_levels():
    base = {"code": "handling", "name": "单位办理", "kind": "serial", "limit_unit": "workdays"}
    form = StepForm(data={**base, "sequence": "职能局→区县"})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["sequence"] == ("bureau", "district")
    form = StepForm(data={**base, "sequence": "职能局、火星"})
    assert not form.is_valid() and "火星" in str(form.errors["sequence"])


def test_a_serial_step_without_its_order_is_not_stored_nor_published(people):
    with pytest.raises(ServiceError) as refused:
        services.template_import(actor=people.dispatcher, data=unit_step_variant(StepKind.SERIAL))
    assert "至少两个单位层级" in refused.value.message
    version = services.template_import(actor=people.dispatcher, data=default_flow_json())
    with pytest.raises(ServiceError) as refused:
        services.version_save_definition(
            actor=people.dispatcher,
            version=version,
            flow=definition.from_json(unit_step_variant(StepKind.SERIAL, ["district"])),
        )
    assert "至少两个单位层级" in refused.value.message


def test_single_step_takes_exactly_one_acting_unit(city, people):
    publish(people.dispatcher, unit_step_variant(StepKind.SINGLE))
    case = submitted_case(city, people)
    with pytest.raises(ServiceError) as refused:
        dispatch(case, people, (city.east, AssignmentRole.MAIN), (city.housing, AssignmentRole.ASSISTING))
    assert refused.value.code == "flow_single" and "只由一个单位办理" in refused.value.message
    assert fresh(case).status == CaseStatus.SUBMITTED and not Assignment.objects.filter(case=case).exists()
    # one acting unit (a copy does not act) is dispatched
    dispatch(case, people, (city.east, AssignmentRole.MAIN), (city.housing, AssignmentRole.CC))
    assert fresh(case).status == CaseStatus.DISPATCHED and acting_units(case) == {"东湖区"}


def test_serial_step_units_act_one_after_another_in_the_templates_order(city, people):
    publish(people.dispatcher, unit_step_variant(StepKind.SERIAL, ["bureau", "district"]))
    case = submitted_case(city, people)
    # the main unit reports for all: its level must come last in the order
    with pytest.raises(ServiceError) as refused:
        dispatch(case, people, (city.housing, AssignmentRole.MAIN), (city.east, AssignmentRole.ASSISTING))
    assert refused.value.code == "flow_serial" and "职能局→区县" in refused.value.message
    with pytest.raises(ServiceError) as refused:
        dispatch(case, people, (city.east, AssignmentRole.MAIN), (city.liyuan, AssignmentRole.ASSISTING))
    assert refused.value.code == "flow_serial" and "街道乡镇" in refused.value.message
    assert not Assignment.objects.filter(case=case).exists()

    # listed main first, the bureau still acts first; the district's assignment does not exist yet
    dispatch(case, people, (city.east, AssignmentRole.MAIN), (city.housing, AssignmentRole.ASSISTING))
    assert acting_units(case) == {"市住建局"}
    sign(case, city.housing, people.housing)
    with pytest.raises(ServiceError) as refused:  # the order was fixed at dispatch
        case_services.assignment_add_assisting(
            assignment=assignment(case, city.housing),
            actor=people.housing,
            expected_version=None,
            targets=[case_services.Target(city.tax, AssignmentRole.ASSISTING)],
        )
    assert refused.value.code == "flow_serial"
    case_services.assignment_give_opinion(
        assignment=assignment(case, city.housing), actor=people.housing, expected_version=None, opinion=RESULT
    )
    # the bureau has finished: now the district's assignment is created, with its own deadline
    assert acting_units(case) == {"市住建局", "东湖区"}
    east = assignment(case, city.east)
    assert east.status == AssignmentStatus.PENDING and east.role == AssignmentRole.MAIN and east.due_at
    assert fresh(case).due_at == east.due_at
    sign(case, city.east, people.east)
    report(case, city.east, people.east)
    assert fresh(case).status == CaseStatus.RESULT_REVIEW


def test_serial_order_across_three_units_and_a_reassignment_starts_a_new_order(city, people):
    publish(people.dispatcher, unit_step_variant(StepKind.SERIAL, ["bureau", "district"]))
    case = submitted_case(city, people)
    dispatch(
        case,
        people,
        (city.east, AssignmentRole.MAIN),
        (city.tax, AssignmentRole.ASSISTING),
        (city.housing, AssignmentRole.ASSISTING),
    )
    assert acting_units(case) == {city.tax.name}
    sign(case, city.tax, people.tax)
    case_services.assignment_give_opinion(
        assignment=assignment(case, city.tax), actor=people.tax, expected_version=None, opinion=RESULT
    )
    assert acting_units(case) == {city.tax.name, city.housing.name}  # the second bureau, not yet the main
    case_services.case_reassign(
        case=fresh(case),
        actor=people.dispatcher,
        expected_version=None,
        targets=[
            case_services.Target(city.west, AssignmentRole.MAIN),
            case_services.Target(city.housing, AssignmentRole.ASSISTING),
        ],
        opinion="属地有误，改派西区并由住建局先行核查。",
    )
    assert acting_units(case) == {city.housing.name}


def _serial_card(case, user) -> str:
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(user)
    page = client.get(reverse("case-detail", kwargs={"pk": case.pk}))
    assert page.status_code == 200
    html = page.content.decode()
    start = html.find('data-testid="case-flow-serial"')
    assert start >= 0, "no serial order on the case page"
    return html[start : html.find("</ol>", start)]


def _states(html: str) -> list[tuple[str, str]]:
    import re

    return re.findall(r'<li data-state="(\w+)" data-unit="\d+"[^>]*>([^（<]+)（', html)


def test_case_page_and_api_list_the_serial_order_who_handles_and_who_waits(city, people, api):
    from django.urls import reverse

    from tests.conftest import as_user

    publish(people.dispatcher, unit_step_variant(StepKind.SERIAL, ["bureau", "district"]))
    case = submitted_case(city, people)
    dispatch(
        case,
        people,
        (city.east, AssignmentRole.MAIN),
        (city.tax, AssignmentRole.ASSISTING),
        (city.housing, AssignmentRole.ASSISTING),
    )
    # the dispatcher sees the whole order: the first bureau handles, the other bureau and the main unit wait
    card = _serial_card(case, people.dispatcher)
    assert _states(card) == [
        ("current", city.tax.name),
        ("waiting", city.housing.name),
        ("waiting", city.east.name),
    ]
    assert "当前办理：<strong>" + city.tax.name in card and "尚有2个单位等待办理" in card
    assert "等待前序单位办结" in card and "职能局→区县" in card

    sign(case, city.tax, people.tax)
    case_services.assignment_give_opinion(
        assignment=assignment(case, city.tax), actor=people.tax, expected_version=None, opinion=RESULT
    )
    # the waiting unit (the main one, whose assignment does not exist yet) sees the order too: it is after housing
    assert _states(_serial_card(case, people.housing)) == [
        ("done", city.tax.name),
        ("current", city.housing.name),
        ("waiting", city.east.name),
    ]
    as_user(api, people.dispatcher)
    body = api.get(reverse("api-case-flow", kwargs={"pk": case.pk})).json()
    assert body["serial"]["step"] == "handling"
    assert [(u["order"], u["name"], u["state"], u["role"]) for u in body["serial"]["units"]] == [
        (1, city.tax.name, "done", AssignmentRole.ASSISTING),
        (2, city.housing.name, "current", AssignmentRole.ASSISTING),
        (3, city.east.name, "waiting", AssignmentRole.MAIN),
    ]
    as_user(api, people.west)  # a unit outside the case reads nothing of it
    assert api.get(reverse("api-case-flow", kwargs={"pk": case.pk})).status_code == 404

    sign(case, city.housing, people.housing)
    case_services.assignment_give_opinion(
        assignment=assignment(case, city.housing), actor=people.housing, expected_version=None, opinion=RESULT
    )
    card = _serial_card(case, people.east)
    assert _states(card) == [
        ("done", city.tax.name),
        ("done", city.housing.name),
        ("current", city.east.name),
    ]
    assert "等待办理" not in card
    sign(case, city.east, people.east)
    report(case, city.east, people.east)
    # the case has left the serial step: no order shown any more
    as_user(api, people.dispatcher)
    assert api.get(reverse("api-case-flow", kwargs={"pk": case.pk})).json()["serial"] is None
