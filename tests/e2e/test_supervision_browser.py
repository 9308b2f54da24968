"""Dissatisfied twice → special supervision → the unit leader's opinion → the office closes; the supervision
figures, all in the browser (earlier steps are set up through the services)."""

from __future__ import annotations

import pytest

from hotline.cases import services
from hotline.cases.models import Assignment, AssignmentRole
from tests.conftest import dispatched_to, fresh
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def reported_case(city, people):
    case = dispatched_to(city, people, city.east)
    main = Assignment.objects.get(case=case, role=AssignmentRole.MAIN)
    services.assignment_sign_for(assignment=main, actor=people.east, expected_version=None)
    services.assignment_report(assignment=main, actor=people.east, expected_version=None, result="已处理")
    services.case_review_accept(case=fresh(case), actor=people.dispatcher, expected_version=None)
    return case, main


def test_special_supervision_and_the_supervision_page(browser, live_server, city, people, screenshot_dir):
    case, main = reported_case(city, people)
    base = live_server.url

    agent = Desk(browser, base, "agent", screenshot_dir)
    agent.open_case(case.number)
    agent.page.get_by_test_id("callback-form").get_by_label("不满意", exact=True).check()
    agent.page.get_by_test_id("callback-form").get_by_label("已联系", exact=True).check()
    agent.page.get_by_test_id("callback-form").get_by_label("未解决", exact=True).check()
    agent.page.get_by_role("button", name="提交回访").click()
    assert agent.status() == "重办"

    district = Desk(browser, base, "east", screenshot_dir)
    district.open_case(case.number)
    district.page.get_by_label("办理结果").fill("再次约谈并罚款")
    district.page.get_by_role("button", name="办结上报").click()

    dispatcher = Desk(browser, base, "dispatcher", screenshot_dir)
    dispatcher.open_case(case.number)
    dispatcher.page.get_by_role("button", name="审核通过").click()
    dispatcher.page.get_by_text("催办", exact=True).count()  # no unit is at work now: no urging form

    agent.open_case(case.number)
    agent.page.get_by_test_id("callback-form").get_by_label("非常不满意", exact=True).check()
    agent.page.get_by_test_id("callback-form").get_by_label("已联系", exact=True).check()
    agent.page.get_by_test_id("callback-form").get_by_label("未解决", exact=True).check()
    agent.page.get_by_role("button", name="提交回访").click()
    assert agent.status() == "特别督办"

    leader = Desk(browser, base, "east_leader", screenshot_dir)
    leader.shot("20-unit-leader-home")
    leader.open_case(case.number)
    leader.page.get_by_placeholder("领导意见").fill("区领导督办，三日内解决")
    leader.shot("21-special-supervision")
    leader.page.get_by_role("button", name="签署意见并交办重办").click()
    assert leader.status() == "重办"

    dispatcher.search_case(case.number)
    dispatcher.page.get_by_text("热线办决定办结").click()
    dispatcher.page.get_by_placeholder("办结理由").fill("已依法处理，诉求超出政策范围")
    dispatcher.page.get_by_role("button", name="办结", exact=True).click()
    assert dispatcher.status() == "已办结"
    assert dispatcher.page.get_by_test_id("deadlines").is_visible()

    dispatcher.page.get_by_role("link", name="督办统计").click()
    assert dispatcher.page.get_by_test_id("card-ledger").is_visible()
    dispatcher.shot("22-supervision")
    for desk in (agent, district, dispatcher, leader):
        desk.close()
