"""A loser of a race gets 409 whatever check refuses it first; system events on the timeline are by 系统."""

from __future__ import annotations

from hotline.cases import services
from hotline.cases.models import Assignment, AssignmentRole
from tests.cases.test_api import post
from tests.conftest import as_user, case_input, dispatched_to, fresh


def test_second_sign_for_with_the_same_version_is_409_not_400(api, city, people):
    case = dispatched_to(city, people, city.east)
    main = Assignment.objects.get(case=case, role=AssignmentRole.MAIN)
    seen = fresh(case).version
    post(api, people.east, f"/api/v1/assignments/{main.pk}/sign-for/", {"version": seen})
    # The other handler of the unit clicked at the same time, on the same page (same version).
    body = post(api, people.east, f"/api/v1/assignments/{main.pk}/sign-for/", {"version": seen}, status=409)
    assert body["code"] == "conflict"


def test_second_report_with_the_same_version_is_409(api, city, people):
    case = dispatched_to(city, people, city.east)
    main = Assignment.objects.get(case=case, role=AssignmentRole.MAIN)
    post(api, people.east, f"/api/v1/assignments/{main.pk}/sign-for/", {"version": fresh(case).version})
    seen = fresh(case).version
    post(api, people.east, f"/api/v1/assignments/{main.pk}/report/", {"version": seen, "result": "已处理"})
    body = post(
        api,
        people.east,
        f"/api/v1/assignments/{main.pk}/report/",
        {"version": seen, "result": "已处理"},
        status=409,
    )
    assert body["code"] == "conflict"


def test_a_current_version_still_gets_the_rule_refusal(api, city, people):
    case = dispatched_to(city, people, city.east)
    main = Assignment.objects.get(case=case, role=AssignmentRole.MAIN)
    post(api, people.east, f"/api/v1/assignments/{main.pk}/sign-for/", {"version": fresh(case).version})
    body = post(
        api,
        people.east,
        f"/api/v1/assignments/{main.pk}/sign-for/",
        {"version": fresh(case).version},
        status=400,
    )
    assert body["code"] == "bad_status"


def test_system_events_on_the_timeline_are_by_the_system(api, city, people):
    case = services.case_intake(
        actor=people.agent, data=case_input(city), sms_template="citizen_received"
    ).case

    events = as_user(api, people.dispatcher).get(f"/api/v1/cases/{case.pk}/timeline/").json()
    events = events.get("results", events) if isinstance(events, dict) else events
    actors = {e["action"]: e["actor"] for e in events}
    assert actors["sms_citizen"] == "系统"
    assert all("method-wrapper" not in e["actor"] for e in events)
    assert actors["submit"] == people.agent.full_name or actors["submit"] == str(people.agent)
