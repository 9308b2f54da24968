"""Intake while the citizen is on the line (issue 11, items 1–4): Enter never submits, few Tabs from the phone to
the content, the screen pop beside the form, a searchable area with a warning when empty, intake opened by a phone
system with the caller's number and call id, and a returned case edited in the form and submitted again."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hotline.cases import services
from hotline.cases.models import Case, CaseStatus
from tests.conftest import CONTENT, fresh, submitted_case
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def _tabs_to(page, target: str, limit: int = 40) -> int:
    for count in range(1, limit + 1):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == target:
            return count
    raise AssertionError(f"{target} not reached in {limit} Tabs")


def test_enter_in_a_field_does_not_submit(browser, live_server, city, people, screenshot_dir):
    agent = Desk(browser, live_server.url, "agent", screenshot_dir)
    page = agent.page
    page.goto(f"{live_server.url}/cases/new/")
    page.keyboard.type("13812345678")
    page.keyboard.press("Enter")
    page.keyboard.press("Tab")
    page.keyboard.type("王女士")
    page.keyboard.press("Enter")
    page.get_by_label("标题").fill("烧烤店噪音")
    page.get_by_label("标题").press("Enter")
    page.wait_for_timeout(300)  # a submit would have navigated by now
    assert page.url == f"{live_server.url}/cases/new/"
    assert not Case.objects.exists()
    # Ctrl+Enter still submits (the service then asks for what is missing).
    page.get_by_label("诉求类型").select_option(label="投诉")
    page.get_by_label("诉求内容").press("Control+Enter")
    expect(page.get_by_test_id("error-content")).to_be_visible()
    assert not Case.objects.exists()
    agent.close()


def test_phone_system_opens_intake_with_the_pop_beside_the_form(
    browser, live_server, city, people, screenshot_dir
):
    earlier = submitted_case(city, people, citizen_phone="13812345678", citizen_name="王建国")
    agent = Desk(browser, live_server.url, "agent", screenshot_dir)
    page = agent.page
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"{live_server.url}/cases/new/?citizen_phone=13812345678&call_id=CALL-2026-0001")
    assert page.get_by_label("联系电话").input_value() == "13812345678"
    pop = page.get_by_test_id("screen-pop")
    expect(pop.get_by_test_id("citizen-found")).to_contain_text("王建国")
    assert earlier.number in pop.get_by_test_id("pop-open-cases").inner_text()
    # The pop sits beside the form: the content box stays on the 1366×768 screen without scrolling.
    box = page.get_by_label("诉求内容").bounding_box()
    assert box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768
    assert page.evaluate("window.scrollY") == 0
    agent.shot("intake-01-pop-beside-form-1366")

    # Tab order: phone, name, type, urgency, area filter, area, place, title, content.
    page.get_by_label("联系电话").focus()
    assert _tabs_to(page, "id_content") == 8

    # The area: typing pinyin initials picks it; left empty, a warning says the dispatcher gets no default unit.
    warning = page.get_by_test_id("location-unit-warning")
    expect(warning).to_be_visible()
    page.get_by_placeholder("输入名称或拼音首字母筛选").fill("xf")
    assert page.get_by_label("事发地所属区域").input_value() == str(city.xingfu.pk)
    expect(warning).to_be_hidden()
    visible = page.evaluate(
        "Array.from(document.getElementById('id_location_unit').options)"
        ".filter(o => o.value && !o.hidden).map(o => o.textContent.trim())"
    )
    assert visible == ["幸福社区"]
    page.get_by_label("事发地所属区域").select_option("")
    expect(warning).to_be_visible()
    page.get_by_placeholder("输入名称或拼音首字母筛选").fill("梨园")
    assert page.get_by_label("事发地所属区域").input_value() == str(city.liyuan.pk)

    page.get_by_label("姓名").fill("王建国")
    page.get_by_label("诉求类型").select_option(label="投诉")
    page.get_by_label("诉求内容").fill(CONTENT)
    page.get_by_label("诉求内容").press("Control+Enter")
    number = page.get_by_test_id("case-number").inner_text()
    case = Case.objects.get(number=number)
    assert case.status == CaseStatus.SUBMITTED and case.origin == {"call_id": "CALL-2026-0001"}
    assert case.location_unit_id == city.liyuan.pk
    # The call id is on the case page and finds the case in the search.
    expect(page.get_by_test_id("case-call-id")).to_have_text("CALL-2026-0001")
    page.get_by_test_id("case-call-id").get_by_role("link").click()
    expect(page.get_by_role("link", name=number)).to_be_visible()
    expect(page.get_by_role("link", name=earlier.number)).to_have_count(0)
    agent.close()


def test_pop_page_opens_intake_with_the_callers_number(browser, live_server, city, people, screenshot_dir):
    agent = Desk(browser, live_server.url, "agent", screenshot_dir)
    page = agent.page
    page.goto(f"{live_server.url}/citizens/pop/?phone=13900001111&call_id=C-77")
    expect(page.get_by_test_id("citizen-new")).to_be_visible()
    page.get_by_test_id("pop-intake").click()
    page.wait_for_url("**/cases/new/**")
    assert page.get_by_label("联系电话").input_value() == "13900001111"
    expect(page.get_by_test_id("screen-pop").get_by_test_id("citizen-new")).to_be_visible()
    expect(page.get_by_test_id("intake-call-id")).to_contain_text("C-77")
    # A number typed on the pop page travels too.
    page.goto(f"{live_server.url}/citizens/pop/")
    page.get_by_label("来电号码").fill("13700002222")
    page.get_by_test_id("pop-intake").click()
    page.wait_for_url("**/cases/new/**")
    assert page.get_by_label("联系电话").input_value() == "13700002222"
    agent.close()


def test_returned_case_is_edited_in_the_form_and_resubmitted(
    browser, live_server, city, people, screenshot_dir
):
    case = submitted_case(city, people, title="噪音")
    services.case_return_to_agent(
        case=case,
        actor=people.dispatcher,
        expected_version=case.version,
        opinion="请补充具体营业时间后重新提交",
    )
    agent = Desk(browser, live_server.url, "agent", screenshot_dir)
    page = agent.page
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    page.get_by_test_id("case-edit-link").click()
    expect(page.get_by_test_id("return-reason")).to_contain_text("请补充具体营业时间")
    assert page.get_by_label("诉求内容").input_value() == CONTENT
    assert page.get_by_label("事发地所属区域").input_value() == str(city.xingfu.pk)
    page.get_by_label("标题").fill("烧烤店夜间噪音扰民")
    page.get_by_label("诉求内容").fill(CONTENT + "烧烤店每天18点营业到次日2点。")
    agent.shot("intake-02-edit-returned")
    page.get_by_role("button", name="重新提交热线办（Alt+T）").click()
    expect(page.get_by_test_id("case-status")).to_have_text("待派单")
    case = fresh(case)
    assert case.status == CaseStatus.SUBMITTED and case.title == "烧烤店夜间噪音扰民"
    assert case.content.endswith("18点营业到次日2点。")

    # Stale: someone changed the returned case while the form was open — a clear conflict, nothing saved.
    services.case_return_to_agent(
        case=case, actor=people.dispatcher, expected_version=case.version, opinion="再补充"
    )
    page.goto(f"{live_server.url}/cases/{case.pk}/edit/")
    page.get_by_label("标题").fill("我的修改")
    other = fresh(case)
    services.case_edit(
        case=other,
        actor=people.agent,
        expected_version=other.version,
        data=services.CaseInput(
            case_type=other.case_type,
            content=other.content,
            title="别人的修改",
            citizen_phone=other.citizen_phone,
        ),
    )
    page.get_by_role("button", name="重新提交热线办（Alt+T）").click()
    expect(page.get_by_test_id("form-errors")).to_contain_text("工单已被他人更新")
    case = fresh(case)
    assert case.status == CaseStatus.RETURNED and case.title == "别人的修改"
    agent.close()


def test_edit_page_refuses_cases_past_intake(client, city, people):
    case = submitted_case(city, people)
    client.force_login(people.agent)
    response = client.get(f"/cases/{case.pk}/edit/")
    assert response.status_code == 302 and response["Location"] == f"/cases/{case.pk}/"
    client.force_login(people.tax)  # another unit: the case does not exist for them
    assert client.get(f"/cases/{case.pk}/edit/").status_code == 404
