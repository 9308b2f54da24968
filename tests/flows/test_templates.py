"""Flow templates: the version lifecycle, immutability once published, version pinning (FLW-3), the lifecycle
narrowed and guarded by the case's template, validation before publishing, JSON import/export."""

from __future__ import annotations

import copy

import pytest

from hotline.cases import lifecycle
from hotline.cases import services as case_services
from hotline.cases.lifecycle import Action
from hotline.cases.models import AssignmentRole, CaseStatus
from hotline.common.errors import NotAllowed, ServiceError
from hotline.common.models import DictKind
from hotline.flows import definition, services
from hotline.flows.defaults import default_flow_json
from hotline.flows.models import CaseFlow, FlowStep, FlowVersion, TemplateStatus, VersionStatus
from tests.conftest import dict_item, fresh, submitted_case


def published(actor, data) -> FlowVersion:
    version = services.template_import(actor=actor, data=data)
    services.version_submit(actor=actor, version=version)
    return services.version_publish(actor=actor, version=version)


def without(data, action):
    data = copy.deepcopy(data)
    data["transitions"] = [t for t in data["transitions"] if t["action"] != action]
    return data


def without_leader(data):
    """The consultation variant: no 呈请领导批示, so no leader step either."""
    data = copy.deepcopy(data)
    data["steps"] = [s for s in data["steps"] if s["code"] != "leader"]
    data["transitions"] = [t for t in data["transitions"] if "leader" not in (t["from"], t["to"])]
    return data


def with_guard(data, action, guard):
    data = copy.deepcopy(data)
    for t in data["transitions"]:
        if t["action"] == action:
            t["guard"] = guard
    return data


def test_default_template_is_valid_and_mirrors_the_backbone():
    flow = definition.from_json(default_flow_json())
    assert definition.validate(flow) == []
    # every step action of the backbone appears where the backbone allows it
    for action in services.STEP_ACTIONS:
        assert any(t.action == action for t in flow.transitions), action


def test_draft_review_publish_and_published_never_changes(city, people):
    version = services.template_import(actor=people.dispatcher, data=default_flow_json())
    assert version.status == VersionStatus.DRAFT and version.number == 1
    with pytest.raises(ServiceError):
        services.version_publish(actor=people.dispatcher, version=version)  # review first
    services.version_submit(actor=people.dispatcher, version=version)
    services.version_reject(actor=people.dispatcher, version=version, note="时限再议")
    version.refresh_from_db()
    assert version.status == VersionStatus.DRAFT and version.review_note == "时限再议"
    services.version_submit(actor=people.dispatcher, version=version)
    version = services.version_publish(actor=people.dispatcher, version=version)
    assert (
        version.status == VersionStatus.PUBLISHED
        and version.digest
        and version.published_by == people.dispatcher
    )

    flow = definition.from_version(version)
    with pytest.raises(ServiceError) as frozen:
        services.version_save_definition(actor=people.dispatcher, version=version, flow=flow)
    assert "只有拟稿" in frozen.value.message
    step = FlowStep.objects.filter(version=version).first()
    step.name = "改名"
    with pytest.raises(ServiceError):
        step.save()  # not even behind the services' back
    with pytest.raises(ServiceError):
        step.delete()
    assert FlowStep.objects.get(pk=step.pk).name != "改名"

    draft = services.version_new_draft(actor=people.dispatcher, template=version.template)
    assert draft.number == 2 and draft.steps.count() == version.steps.count()
    with pytest.raises(ServiceError):
        services.version_new_draft(actor=people.dispatcher, template=version.template)  # one open draft
    assert FlowVersion.objects.filter(template=version.template).count() == 2  # every version kept


def test_only_the_office_manages_templates(city, people):
    for outsider in (people.agent, people.east, people.east_leader, people.monitor):
        with pytest.raises(NotAllowed):
            services.template_import(actor=outsider, data=default_flow_json())
    version = services.template_import(actor=people.leader, data=default_flow_json())
    with pytest.raises(NotAllowed):
        services.version_submit(actor=people.housing, version=version)


def test_a_case_finishes_on_the_version_it_started_with(city, people):
    v1 = published(people.dispatcher, default_flow_json())
    first = submitted_case(city, people)
    assert CaseFlow.objects.get(case=first).version == v1

    v2 = services.version_new_draft(actor=people.dispatcher, template=v1.template)
    narrowed = definition.from_json(without_leader(default_flow_json()))
    services.version_save_definition(actor=people.dispatcher, version=v2, flow=narrowed)
    services.version_submit(actor=people.dispatcher, version=v2)
    services.version_publish(actor=people.dispatcher, version=v2)
    second = submitted_case(city, people)
    assert CaseFlow.objects.get(case=second).version == v2
    assert CaseFlow.objects.get(case=first).version == v1  # unchanged

    # v1 still allows 呈请领导批示 for the first case; v2 refuses it for the second, in Chinese
    assert Action.ASK_LEADER in lifecycle.allowed_actions(
        status=first.status, user=people.dispatcher, case=first
    )
    assert Action.ASK_LEADER not in lifecycle.allowed_actions(
        status=second.status, user=people.dispatcher, case=second
    )
    case_services.case_ask_leader(case=first, actor=people.dispatcher, expected_version=None, opinion="请示")
    with pytest.raises(ServiceError) as refused:
        case_services.case_ask_leader(
            case=second, actor=people.dispatcher, expected_version=None, opinion="请示"
        )
    assert "不允许“呈请领导批示”" in refused.value.message and "审核派单" in refused.value.message
    assert fresh(second).status == CaseStatus.SUBMITTED

    # the first case runs to its end on v1 after v2 is published and the template is paused
    services.template_set_status(actor=people.dispatcher, template=v1.template, move="pause")
    case_services.case_leader_instruct(
        case=fresh(first), actor=people.leader, expected_version=None, instruction="办"
    )
    case = case_services.case_dispatch(
        case=fresh(first),
        actor=people.dispatcher,
        expected_version=None,
        targets=[case_services.Target(city.housing, AssignmentRole.MAIN)],
    )
    assert case.status == CaseStatus.DISPATCHED
    assert CaseFlow.objects.get(case=first).version == v1
    assert not CaseFlow.objects.filter(case=submitted_case(city, people)).exists()  # paused: not chosen


def test_guard_refuses_and_admits(city, people):
    data = with_guard(
        default_flow_json(), Action.CLOSE_DIRECTLY, 'case.urgency == "normal" and case.type != "complaint"'
    )
    published(people.dispatcher, data)
    complaint = submitted_case(city, people)
    with pytest.raises(ServiceError) as refused:
        case_services.case_close_directly(
            case=complaint, actor=people.dispatcher, expected_version=None, reason="已答复"
        )
    assert "控制条件不满足" in refused.value.message and refused.value.code == "flow_guard"
    assert Action.CLOSE_DIRECTLY not in lifecycle.allowed_actions(
        status=complaint.status, user=people.dispatcher, case=complaint
    )
    consultation = submitted_case(city, people, case_type=dict_item(DictKind.CASE_TYPE, "consult"))
    case_services.case_close_directly(
        case=consultation, actor=people.dispatcher, expected_version=None, reason="已答复"
    )
    assert fresh(consultation).status == CaseStatus.CLOSED


def test_step_roles_and_unit_level_narrow_who_acts(city, people):
    data = copy.deepcopy(default_flow_json())
    for step in data["steps"]:
        if step["code"] == "handling":
            step["unit_level"] = "district"
    published(people.dispatcher, data)
    case = case_services.case_dispatch(
        case=submitted_case(city, people),
        actor=people.dispatcher,
        expected_version=None,
        targets=[case_services.Target(city.housing, AssignmentRole.MAIN)],
    )
    assignment = case.assignments.get()
    with pytest.raises(NotAllowed) as refused:
        case_services.assignment_sign_for(assignment=assignment, actor=people.housing, expected_version=None)
    assert "区县" in refused.value.message


def test_allowed_actions_follow_the_templates_order(city, people):
    data = copy.deepcopy(default_flow_json())
    first = [t for t in data["transitions"] if t["from"] == "dispatch"]
    data["transitions"] = [t for t in data["transitions"] if t["from"] != "dispatch"] + list(reversed(first))
    published(people.dispatcher, data)
    case = submitted_case(city, people)
    allowed = lifecycle.allowed_actions(status=case.status, user=people.dispatcher, case=case)
    step_actions = [a for a in allowed if a in services.STEP_ACTIONS]
    expected = []
    for t in reversed(first):
        if t["action"] not in expected:
            expected.append(t["action"])
    assert step_actions == expected
    assert Action.URGE not in allowed and Action.MERGE in allowed  # non-step actions stay the backbone's


def test_selection_rules_validity_and_priority(city, people):
    general = published(people.dispatcher, default_flow_json())
    sms = default_flow_json(code="sms", name="短信渠道流程")
    sms["template"]["channels"] = ["sms"]
    sms_version = published(people.dispatcher, sms)
    complaints = default_flow_json(code="complaints", name="投诉流程")
    complaints["template"].update(case_types=["complaint"], priority=5, valid_to="2000-01-01")
    published(people.dispatcher, complaints)  # expired: never chosen

    assert CaseFlow.objects.get(case=submitted_case(city, people)).version == general
    assert CaseFlow.objects.get(case=submitted_case(city, people, channel="sms")).version == sms_version
    services.template_set_status(actor=people.dispatcher, template=sms_version.template, move="retire")
    assert CaseFlow.objects.get(case=submitted_case(city, people, channel="sms")).version == general
    with pytest.raises(ServiceError):
        services.template_set_status(actor=people.dispatcher, template=sms_version.template, move="resume")
    assert (
        sms_version.template.__class__.objects.get(pk=sms_version.template.pk).status
        == TemplateStatus.RETIRED
    )


def _problems(data) -> list[str]:
    return [str(p) for p in definition.validate(definition.from_json(data))]


def test_validation_before_publishing(city, people):
    base = default_flow_json()
    unreachable = copy.deepcopy(base)
    unreachable["steps"].append({"code": "orphan", "name": "孤立环节", "statuses": ["handling"]})
    unreachable["transitions"].append({"from": "orphan", "to": "closed", "action": "report"})
    assert any("无法到达" in p and "孤立环节" in p for p in _problems(unreachable))

    dead_end = without(base, Action.SUPERVISION_OPINION)
    dead_end["transitions"] = [t for t in dead_end["transitions"] if t["from"] != "supervision"]
    assert any("死路" in p and "特别督办" in p for p in _problems(dead_end))

    split = copy.deepcopy(base)
    split["steps"] += [
        {"code": "fork", "name": "并行核查", "kind": "split"},
        {"code": "a", "name": "区县核查", "statuses": ["handling"]},
        {"code": "b", "name": "职能局核查", "statuses": ["handling"]},
        {"code": "meet", "name": "汇总", "kind": "join"},
    ]
    split["transitions"] += [
        {"from": "dispatch", "to": "fork", "action": "dispatch"},
        {"from": "fork", "to": "a"},
        {"from": "fork", "to": "b"},
        {"from": "a", "to": "meet", "action": "report"},
        {"from": "b", "to": "closed", "action": "report"},
        {"from": "meet", "to": "result-review"},
    ]
    assert any("未汇聚" in p for p in _problems(split))
    split["transitions"][-2] = {"from": "b", "to": "meet", "action": "report"}
    assert _problems(split) == []

    bad_rows = copy.deepcopy(base)
    bad_rows["steps"][0]["roles"] = ["root"]
    bad_rows["transitions"][0]["guard"] = "__import__('os')"
    bad_rows["transitions"][1]["to"] = "nowhere"
    problems = _problems(bad_rows)
    assert any("角色“root”未知" in p for p in problems)
    assert any("控制条件无效" in p for p in problems)
    assert any("不存在的环节“nowhere”" in p for p in problems)

    unread = copy.deepcopy(base)
    unread["steps"][0]["dispatch_mode"] = "manual"  # intake: cases do not wait there for dispatch
    unread["steps"][-2]["limit"] = {"amount": 1, "unit": "workdays"}  # an end step: no open case is there
    problems = _problems(unread)
    assert any("受理登记" in p and "不能设置调度模式" in p for p in problems)
    assert any("办结" in p and "不能设置时限" in p for p in problems)

    wrong_status = copy.deepcopy(base)
    wrong_status["transitions"].append({"from": "intake", "to": "callback", "action": "review_accept"})
    assert any("不能执行“审核通过”" in p for p in _problems(wrong_status))

    # a draft with graph problems may be saved, not sent for review; rows with problems are not even saved
    version = services.template_import(actor=people.dispatcher, data=dead_end)
    with pytest.raises(ServiceError) as refused:
        services.version_submit(actor=people.dispatcher, version=version)
    assert any("死路" in m for m in refused.value.field_errors["definition"])
    assert FlowVersion.objects.get(pk=version.pk).status == VersionStatus.DRAFT
    with pytest.raises(ServiceError) as bad:
        services.template_import(
            actor=people.dispatcher, data=bad_rows | {"template": bad_rows["template"] | {"code": "bad"}}
        )
    assert len(bad.value.field_errors["definition"]) == 3
    assert not FlowVersion.objects.filter(template__code="bad").exists()  # nothing half-saved


def test_json_round_trip(city, people):
    source = default_flow_json()
    source["template"].update(channels=["phone", "web"], valid_from="2026-01-01", priority=3)
    source["transitions"][0]["guard"] = (
        'case.urgency in ["urgent", "very_urgent"] or case.dispatch_round >= 1'
    )
    version = published(people.dispatcher, source)
    exported = services.version_export(version)
    assert exported["template"]["valid_from"] == "2026-01-01"

    again = copy.deepcopy(exported)
    again["template"]["code"] = "copy"
    copied = services.template_import(actor=people.dispatcher, data=again)
    re_exported = services.version_export(copied)
    for key in ("steps", "transitions"):
        assert re_exported[key] == exported[key]
    assert {k: v for k, v in re_exported["template"].items() if k != "code"} == {
        k: v for k, v in exported["template"].items() if k != "code"
    }
    # importing onto an existing code makes a new draft of that template, the published version untouched
    newer = services.template_import(actor=people.dispatcher, data=exported)
    assert newer.template == version.template and newer.number == 2 and newer.status == VersionStatus.DRAFT

    for broken, field in [
        ({"format": "other"}, "format"),
        ({**exported, "steps": "x"}, "definition"),
        (
            {**exported, "template": {**exported["template"], "code": "new-one", "valid_to": "tomorrow"}},
            "valid_to",
        ),
        (
            {**exported, "template": {**exported["template"], "code": "new-two", "channels": ["pigeon"]}},
            "channels",
        ),
    ]:
        with pytest.raises(ServiceError) as refused:
            services.template_import(actor=people.dispatcher, data=broken)
        assert field in refused.value.field_errors


def test_cases_without_a_template_follow_the_backbone(city, people):
    case = submitted_case(city, people)
    assert not CaseFlow.objects.filter(case=case).exists()
    case_services.case_ask_leader(case=case, actor=people.dispatcher, expected_version=None, opinion="请示")
    assert fresh(case).status == CaseStatus.LEADER_REVIEW


def test_the_default_template_refuses_nothing_the_backbone_allows(city, people):
    published(people.dispatcher, default_flow_json())
    case = submitted_case(city, people)
    assert CaseFlow.objects.filter(case=case).exists()
    for status in CaseStatus.values:
        case.status = status  # judged in memory: the template reads the status it is given
        for user in vars(people).values():
            backbone = lifecycle.allowed_actions(status=status, user=user)
            narrowed = lifecycle.allowed_actions(status=status, user=user, case=case)
            assert set(narrowed) == set(backbone), (status, user)


def test_a_pinned_case_costs_one_query_per_transition_check(city, people, django_assert_num_queries):
    published(people.dispatcher, default_flow_json())
    case = fresh(submitted_case(city, people))
    with django_assert_num_queries(1):  # the pin (with its digest); the published definition is cached
        lifecycle.check(Action.ASK_LEADER, case=case, user=people.dispatcher)
    with django_assert_num_queries(0):  # same case object: remembered
        lifecycle.check(Action.DISPATCH, case=case, user=people.dispatcher)
