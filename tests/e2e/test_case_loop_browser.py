"""Each role logs in and pushes one case through the whole loop using only the browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hotline.cases.models import Case, CaseStatus
from tests.conftest import CONTENT

pytestmark = pytest.mark.django_db(transaction=True)
PASSWORD = "pw-123456"


class Desk:
    """One person at their screen."""

    def __init__(self, browser: Any, base: str, username: str, shots: Path) -> None:
        self.context = browser.new_context(viewport={"width": 1440, "height": 1000}, locale="zh-CN")
        self.page = self.context.new_page()
        self.base, self.shots, self.username = base, shots, username
        self.page.goto(f"{base}/login/")
        self.page.get_by_label("用户名").fill(username)
        self.page.get_by_label("密码").fill(PASSWORD)
        self.page.get_by_role("button", name="登录").click()
        self.page.wait_for_url(f"{base}/")

    def shot(self, name: str) -> None:
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def open_case(self, number: str) -> None:
        self.page.goto(f"{self.base}/")
        self.page.get_by_role("link", name=number).first.click()
        self.page.wait_for_load_state("networkidle")

    def search_case(self, number: str) -> None:
        """Find a case that is on no queue of the home page, through the search page."""
        self.page.get_by_role("link", name="工单查询").click()
        self.page.get_by_label("工单编号").fill(number)
        self.page.get_by_role("button", name="查询").click()
        self.page.get_by_role("link", name=number).first.click()
        self.page.wait_for_load_state("networkidle")

    def status(self) -> str:
        return self.page.get_by_test_id("case-status").inner_text()

    def flash(self) -> str:
        return self.page.locator("[role=alert]").first.inner_text()

    def close(self) -> None:
        self.context.close()


def test_one_case_through_the_whole_loop(browser, live_server, city, people, screenshot_dir):
    base = live_server.url

    # Agent: a caller phones in; the agent types the case with the keyboard and submits it.
    agent = Desk(browser, base, "agent", screenshot_dir)
    agent.shot("01-agent-home")
    agent.page.get_by_role("link", name="受理登记").click()
    page = agent.page
    page.get_by_label("联系电话").fill("13812345678")
    page.get_by_label("姓名").fill("王女士")
    page.get_by_label("诉求类型").select_option(label="投诉")
    page.get_by_label("职能局").select_option(label="市住建局")
    page.get_by_label("事发地所属区域").select_option(label="　　幸福社区")
    page.get_by_label("事发地点").fill("幸福社区12栋楼下")
    page.get_by_label("诉求内容").fill("太吵了")
    page.get_by_role("button", name="提交热线办（Alt+T）").click()
    assert "不少于50个字" in page.get_by_test_id("error-content").inner_text()
    agent.shot("02-intake-error")
    page.get_by_label("诉求内容").fill(CONTENT)
    page.get_by_role("button", name="提交热线办（Alt+T）").click()
    number = page.get_by_test_id("case-number").inner_text()  # waits for the case page
    assert "查询密码" in agent.flash()
    assert agent.status() == "待派单"
    agent.shot("03-case-submitted")

    # Dispatcher: the default main unit (the district of the location) is preselected; dispatch.
    dispatcher = Desk(browser, base, "dispatcher", screenshot_dir)
    dispatcher.shot("04-dispatcher-home")
    dispatcher.open_case(number)
    form = dispatcher.page.get_by_test_id("dispatch-form")
    assert "东湖区" in form.inner_text()
    form.get_by_test_id("dispatch-main-search").fill("dhq")
    dispatcher.page.wait_for_timeout(600)  # htmx narrows the picker
    form.locator("#dispatch-main").select_option(label="东湖区（区县）")
    form.get_by_label("派单意见").fill("请东湖区牵头办理")
    dispatcher.shot("05-dispatch-form")
    form.get_by_role("button", name="派单").click()
    assert dispatcher.status() == "待签收"

    # District handler: sign for, forward to the street.
    district = Desk(browser, base, "east", screenshot_dir)
    district.shot("06-unit-home")
    district.open_case(number)
    district.page.get_by_role("button", name="签收").click()
    assert district.status() == "办理中"
    forward = district.page.get_by_test_id("forward-form")
    forward.locator("select[name=main_unit]").select_option(label="梨园街道（街道乡镇）")
    forward.get_by_label("下派意见").fill("请街道核实处理")
    forward.get_by_role("button", name="下派").click()
    assert "下派成功" in district.flash()
    district.shot("07-forwarded")

    # Street handler: sign for, record handling, report up.
    street = Desk(browser, base, "liyuan", screenshot_dir)
    street.open_case(number)
    street.page.get_by_role("button", name="签收").click()
    street.page.get_by_label("办理情况").fill("已约谈店主，限期整改")
    street.page.get_by_role("button", name="保存办理记录").click()
    street.page.get_by_label("办理结果").fill("烧烤店已安装油烟净化器，营业时间调整至22点")
    street.page.get_by_role("button", name="办结上报").click()
    assert "办结上报成功" in street.flash()
    street.shot("08-street-reported")

    # District reports to the office.
    district.open_case(number)
    district.page.get_by_label("办理结果").fill("经街道整改到位，已现场复核")
    district.page.get_by_role("button", name="办结上报").click()
    assert district.status() == "结果待审核"

    # Dispatcher accepts the result.
    dispatcher.open_case(number)
    dispatcher.page.get_by_role("button", name="审核通过").click()
    assert dispatcher.status() == "待回访"

    # Agent calls back: satisfied, the case closes.
    agent.open_case(number)
    callback = agent.page.get_by_test_id("callback-form")
    callback.get_by_label("满意", exact=True).check()
    callback.get_by_label("已联系", exact=True).check()
    callback.get_by_label("已解决", exact=True).check()
    callback.get_by_placeholder("市民意见").fill("处理及时，谢谢")
    agent.shot("09-callback")
    callback.get_by_role("button", name="提交回访").click()
    assert agent.status() == "已办结"
    timeline = agent.page.get_by_test_id("timeline").inner_text()
    for step in ("登记", "派单", "签收", "下派", "办结上报", "审核通过", "回访"):
        assert step in timeline
    agent.shot("10-closed-detail")

    # Leader: overview, search, board, export.
    leader = Desk(browser, base, "leader", screenshot_dir)
    assert leader.page.get_by_test_id("overview").is_visible()
    leader.shot("11-leader-home")
    leader.page.get_by_role("link", name="工单查询").click()
    leader.page.get_by_label("来电号码").fill("13812345678")
    leader.page.get_by_role("button", name="查询").click()
    assert leader.page.get_by_test_id("result-count").inner_text() == "1"
    leader.shot("12-search")
    with leader.page.expect_download() as download:
        leader.page.get_by_test_id("export-xlsx").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    leader.page.get_by_role("link", name="在办看板").click()
    leader.shot("13-board")

    # Another district's handler cannot open the case.
    outsider = Desk(browser, base, "west", screenshot_dir)
    case = Case.objects.get(number=number)
    response = outsider.page.goto(f"{base}/cases/{case.pk}/")
    assert response is not None and response.status == 404
    assert case.status == CaseStatus.CLOSED
    for desk in (agent, dispatcher, district, street, leader, outsider):
        desk.close()
