"""A flow template step's time limit drives the sla clock of that step (FLW-1): the office's dispatch step runs a
`step` clock, a unit step sets each unit's reply deadline, the callback step the callback clock; warnings and
cards follow the sla rules; a case without a template keeps the rules' deadlines."""

from __future__ import annotations

import copy
import datetime as dt
from zoneinfo import ZoneInfo

from hotline.cases import flowhooks
from hotline.cases import services as case_services
from hotline.cases.models import Assignment, AssignmentRole, CaseEvent, CaseStatus
from hotline.common import clock
from hotline.common.models import DictKind
from hotline.flows import services
from hotline.flows.defaults import default_flow_json
from hotline.flows.models import DispatchMode, LimitUnit
from hotline.sla.models import Alert, Clock, Stage
from hotline.sla.sweep import sweep
from tests.conftest import dict_item, dispatched_to, fresh, submitted_case
from tests.notices import usernames

SH = ZoneInfo("Asia/Shanghai")
MONDAY_10 = dt.datetime(2026, 11, 23, 10, tzinfo=SH)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def with_limits(data, limits: dict[str, tuple[int, str]], **rules):
    data = copy.deepcopy(data)
    for step in data["steps"]:
        if step["code"] in limits:
            amount, unit = limits[step["code"]]
            step["limit"] = {"amount": amount, "unit": unit}
    data["template"].update(rules)
    return data


def publish(actor, data):
    version = services.template_import(actor=actor, data=data)
    services.version_submit(actor=actor, version=version)
    return services.version_publish(actor=actor, version=version)


def main_of(case):
    return Assignment.objects.get(case=case, role=AssignmentRole.MAIN, round=fresh(case).dispatch_round)


def test_the_hook_speaks_the_flows_vocabulary():
    assert flowhooks.LIMIT_WORKDAYS == LimitUnit.WORKDAYS and flowhooks.LIMIT_HOURS == LimitUnit.HOURS
    assert {
        flowhooks.DISPATCH_AUTO_REALTIME,
        flowhooks.DISPATCH_AUTO_SCHEDULED,
        flowhooks.DISPATCH_MANUAL,
    } == {
        DispatchMode.AUTO_REALTIME,
        DispatchMode.AUTO_SCHEDULED,
        DispatchMode.MANUAL,
    }


def test_step_limits_set_the_clocks_and_a_case_without_template_keeps_the_rules(city, people):
    with clock.frozen_now(MONDAY_10):
        before = dispatched_to(city, people, city.east)  # no template yet: the rules
    publish(
        people.dispatcher,
        with_limits(
            default_flow_json(),
            {"dispatch": (3, "hours"), "handling": (2, "workdays"), "callback": (1, "workdays")},
            case_types=["complaint"],
        ),
    )
    with clock.frozen_now(MONDAY_10):
        case = submitted_case(city, people)
        # a consultation: the template does not apply, the rules do (3 working days for consultations)
        other = dispatched_to(city, people, city.east, case_type=dict_item(DictKind.CASE_TYPE, "consult"))
    step = Clock.objects.get(case=case, stage=Stage.STEP)
    # 3 working hours: 10:00–12:00 and 13:30–14:30
    assert step.due_at == at(2026, 11, 23, 14, 30) and step.stopped_at is None
    assert not Clock.objects.filter(case__in=[before, other], stage=Stage.STEP).exists()

    with clock.frozen_now(at(2026, 11, 23, 11)):
        case = case_services.case_dispatch(
            case=fresh(case),
            actor=people.dispatcher,
            expected_version=fresh(case).version,
            targets=[case_services.Target(city.east, AssignmentRole.MAIN)],
        )
    step.refresh_from_db()
    assert step.stopped_at == at(2026, 11, 23, 11)  # the case left the step
    assert main_of(case).due_at == at(2026, 11, 25, 11)  # the step's 2 working days, not the rule's 5
    assert fresh(case).due_at == at(2026, 11, 25, 11)
    assert main_of(before).due_at == at(2026, 11, 30, 10) and main_of(other).due_at == at(2026, 11, 26, 10)

    main = main_of(case)
    with clock.frozen_now(at(2026, 11, 24, 9)):
        case_services.assignment_sign_for(assignment=main, actor=people.east, expected_version=None)
        case_services.assignment_report(
            assignment=main,
            actor=people.east,
            expected_version=None,
            result="已责令烧烤店整改并安装油烟净化器。",
        )
        case_services.case_review_accept(case=fresh(case), actor=people.dispatcher, expected_version=None)
    callback = Clock.objects.get(case=case, stage=Stage.CALLBACK)
    assert callback.due_at == at(2026, 11, 25, 9)  # the step's 1 working day, not the rule's 2
    assert fresh(case).status == CaseStatus.CALLBACK


def test_a_step_clock_warns_and_cards_by_the_sla_rules(city, people):
    publish(people.dispatcher, with_limits(default_flow_json(), {"dispatch": (1, "workdays")}))
    with clock.frozen_now(MONDAY_10):
        case = submitted_case(city, people)
    step = Clock.objects.get(case=case, stage=Stage.STEP)
    assert (
        step.due_at == at(2026, 11, 24, 10) and step.warn_at is None
    )  # a one-day limit: no warning before it
    assert step.red_at == at(2026, 11, 25, 10)
    with clock.frozen_now(at(2026, 11, 24, 10, 1)):
        sweep()
        sweep()  # idempotent
    assert list(Alert.objects.filter(clock=step).values_list("kind", flat=True)) == ["yellow"]
    assert CaseEvent.objects.filter(case=case, action="sla_yellow").count() == 1
    assert people.dispatcher.username in usernames(template="sla_yellow")
    with clock.frozen_now(at(2026, 11, 25, 10, 1)):
        sweep()
    assert sorted(Alert.objects.filter(clock=step).values_list("kind", flat=True)) == ["red", "yellow"]
    # leaving the step stops its clock: nothing more is raised on it
    with clock.frozen_now(at(2026, 11, 25, 11)):
        case_services.case_dispatch(
            case=fresh(case),
            actor=people.dispatcher,
            expected_version=fresh(case).version,
            targets=[case_services.Target(city.east, AssignmentRole.MAIN)],
        )
    step.refresh_from_db()
    assert step.stopped_at is not None and step.next_alert_at is None


def test_each_step_runs_its_own_clock(city, people):
    """Asking the leader leaves the dispatch step (its clock stops) for the leader's step (its own limit)."""
    publish(
        people.dispatcher,
        with_limits(default_flow_json(), {"dispatch": (2, "workdays"), "leader": (1, "hours")}),
    )
    with clock.frozen_now(MONDAY_10):
        case = submitted_case(city, people)
        case_services.case_ask_leader(
            case=fresh(case), actor=people.dispatcher, expected_version=None, opinion="请领导批示"
        )
    clocks = list(Clock.objects.filter(case=case, stage=Stage.STEP).order_by("id"))
    assert [c.stopped_at is None for c in clocks] == [False, True]
    assert clocks[1].due_at == at(2026, 11, 23, 11)  # the leader step's 1 working hour


def test_special_supervision_step_alerts_go_to_the_main_units_leaders(city, people):
    """At 特别督办 the main unit's leader must give an opinion: the step's clock is the main unit's, so its
    warnings and cards reach that unit's leaders (by the step rules' `unit_leader`), not the office's dispatchers."""
    from hotline.cases.models import Rating

    publish(people.dispatcher, with_limits(default_flow_json(), {"supervision": (1, "workdays")}))
    with clock.frozen_now(MONDAY_10):
        case = dispatched_to(city, people, city.east)
        main = main_of(case)
        case_services.assignment_sign_for(assignment=main, actor=people.east, expected_version=None)
        for rating in (Rating.DISSATISFIED, Rating.VERY_DISSATISFIED):
            case_services.assignment_report(
                assignment=main_of(case),
                actor=people.east,
                expected_version=None,
                result="已责令烧烤店整改。",
            )
            case_services.case_review_accept(case=fresh(case), actor=people.dispatcher, expected_version=None)
            case_services.case_callback(
                case=fresh(case),
                actor=people.agent,
                expected_version=None,
                rating=rating,
                method="phone",
                responded="yes",
                solution="solved",
            )
    assert fresh(case).status == CaseStatus.SPECIAL_SUPERVISION
    step = Clock.objects.get(case=case, stage=Stage.STEP)
    assert step.unit_id == city.east.pk and step.due_at == at(2026, 11, 24, 10)
    with clock.frozen_now(at(2026, 11, 24, 10, 1)):
        sweep()
    alert = Alert.objects.get(clock=step)
    assert alert.kind == "yellow" and alert.unit_id == city.east.pk
    told = usernames(template="sla_yellow")
    assert people.east_leader.username in told
    assert people.dispatcher.username not in told and people.east.username not in told
    # the office's own steps still go to the office (test_a_step_clock_warns_and_cards_by_the_sla_rules)
