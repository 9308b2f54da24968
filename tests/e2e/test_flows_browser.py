"""FLW-1/2/4 in the browser: a dispatcher creates a template from the menu, fills its steps and transitions in the
form-based editor, sees the validation problems when sending an incomplete flow for review, corrects it,
publishes it and sees the graph; a new case then shows its position in the template on the case page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hotline.cases import services as case_services
from hotline.cases.lifecycle import Action
from hotline.common.models import DictKind
from hotline.flows.models import CaseFlow, FlowTemplate, VersionStatus
from tests.conftest import case_input, dict_item
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def test_editor_to_publish(browser, live_server, city, people, screenshot_dir):
    desk = Desk(browser, live_server.url, "dispatcher", screenshot_dir)
    page = desk.page
    page.get_by_role("link", name="流程模板").click()
    expect(page.get_by_test_id("flow-templates")).to_contain_text("尚无流程模板")
    form = page.get_by_test_id("flow-new-form")
    form.get_by_label("模板编号").fill("quick")
    form.get_by_label("模板名称").fill("快速办结流程")
    form.get_by_label("优先级").fill("5")
    page.get_by_test_id("flow-create").click()
    expect(page.get_by_test_id("flow-template-status")).to_have_text("启用")
    page.get_by_role("link", name="v1").click()
    page.get_by_test_id("flow-edit").click()

    # two steps and one flow; the second step is not marked as an end yet
    page.locator('[name="steps-0-code"]').fill("intake")
    page.locator('[name="steps-0-name"]').fill("受理登记")
    page.locator('[name="steps-0-statuses"]').select_option(["draft", "returned"])
    page.locator('[name="steps-0-roles"]').select_option(["agent", "dispatcher"])
    page.locator('[name="steps-0-limit_amount"]').fill("1")
    page.locator('[name="steps-1-code"]').fill("done")
    page.locator('[name="steps-1-name"]').fill("办结")
    page.locator('[name="steps-1-statuses"]').select_option(["closed"])
    page.locator('[name="transitions-0-source"]').fill("intake")
    page.locator('[name="transitions-0-target"]').fill("done")
    page.locator('[name="transitions-0-action"]').select_option("archive")
    page.locator('[name="transitions-0-guard"]').fill("case.type.upper()")
    page.get_by_test_id("flow-save").click()
    expect(page.get_by_test_id("flow-edit-errors")).to_contain_text("不能调用函数")
    page.locator('[name="transitions-0-guard"]').fill('case.type in ["consult", "help"]')
    page.get_by_test_id("flow-save").click()
    expect(page.get_by_test_id("flow-version-status")).to_have_text("拟稿")
    expect(page.get_by_test_id("flow-problems")).to_contain_text("没有结束环节")
    page.get_by_test_id("flow-submit").click()
    expect(page.get_by_test_id("flow-refusal")).to_contain_text("没有结束环节")
    desk.shot("flows-01-refused")

    page.get_by_test_id("flow-edit").click()
    page.locator('[name="steps-1-kind"]').select_option("end")
    page.get_by_test_id("flow-save").click()
    expect(page.get_by_test_id("flow-problems")).to_have_count(0)
    page.get_by_test_id("flow-submit").click()
    expect(page.get_by_test_id("flow-version-status")).to_have_text("待审核")
    page.get_by_test_id("flow-publish").click()
    expect(page.get_by_test_id("flow-version-status")).to_have_text("已发布")
    svg = page.get_by_test_id("flow-svg")
    expect(svg.locator("g.flow-step")).to_have_count(2)
    expect(svg).to_contain_text("受理登记")
    expect(page.get_by_test_id("flow-edit")).to_have_count(0)  # published: no editing
    desk.shot("flows-02-published")
    version = FlowTemplate.objects.get(code="quick").versions.get()
    assert version.status == VersionStatus.PUBLISHED

    # the quick flow has no 提交热线办: a new case is kept as a draft, then answered and archived
    case = case_services.case_intake(
        actor=people.agent,
        data=case_input(city, case_type=dict_item(DictKind.CASE_TYPE, "consult")),
        action=Action.SAVE_DRAFT,
    ).case
    assert CaseFlow.objects.get(case=case).version == version
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    card = page.get_by_test_id("case-flow")
    expect(card).to_contain_text("快速办结流程 第1版")
    expect(card.locator("g.flow-step")).to_have_count(2)
    expect(card.locator("g.flow-step.current")).to_have_attribute("data-step", "intake")
    expect(page.get_by_test_id("case-flow-current")).to_contain_text("受理登记（时限 1工作日）")
    desk.shot("flows-03-case-position")


def test_case_page_shows_a_serial_steps_order(browser, live_server, city, people, screenshot_dir):
    """A serial step (职能局 → 区县): the case page lists the units in the order they act, who is handling now and
    who is still waiting their turn; when the first unit has given its opinion the next one is shown handling."""
    from hotline.cases.models import AssignmentRole
    from hotline.flows.models import StepKind
    from tests.conftest import submitted_case
    from tests.flows.test_parallel import RESULT, assignment, dispatch, publish, sign
    from tests.flows.test_step_kinds import unit_step_variant

    publish(people.dispatcher, unit_step_variant(StepKind.SERIAL, ["bureau", "district"]))
    case = submitted_case(city, people)
    dispatch(
        case,
        people,
        (city.east, AssignmentRole.MAIN),
        (city.tax, AssignmentRole.ASSISTING),
        (city.housing, AssignmentRole.ASSISTING),
    )
    desk = Desk(browser, live_server.url, "dispatcher", screenshot_dir)
    page = desk.page
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    serial = page.get_by_test_id("case-flow-serial")
    expect(page.get_by_test_id("case-flow-serial-current")).to_have_text(f"当前办理：{city.tax.name}")
    expect(serial).to_contain_text("尚有2个单位等待办理")
    turns = serial.locator("li")
    expect(turns).to_have_count(3)
    expect(turns.nth(0)).to_have_attribute("data-state", "current")
    expect(turns.nth(1)).to_contain_text(f"{city.housing.name}（协办·等待前序单位办结）")
    expect(turns.nth(2)).to_contain_text(f"{city.east.name}（主办·等待前序单位办结）")
    desk.shot("flows-04-serial-order")

    sign(case, city.tax, people.tax)
    case_services.assignment_give_opinion(
        assignment=assignment(case, city.tax), actor=people.tax, expected_version=None, opinion=RESULT
    )
    page.reload()
    expect(page.get_by_test_id("case-flow-serial-current")).to_have_text(f"当前办理：{city.housing.name}")
    expect(turns.nth(0)).to_have_attribute("data-state", "done")
    expect(turns.nth(0)).to_contain_text("已办结")
    expect(turns.nth(1)).to_have_attribute("data-state", "current")
    expect(turns.nth(2)).to_have_attribute("data-state", "waiting")
    expect(serial).to_contain_text("尚有1个单位等待办理")
    desk.context.close()
