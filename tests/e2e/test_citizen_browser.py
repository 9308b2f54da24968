"""A known caller phones in: the screen pop shows who they are and their open case, the duplicate card shows that
case as a likely duplicate with its score; the office merges the new request into it and undoes the merge."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hotline.cases.events import run_queued
from hotline.cases.models import Case, CaseStatus
from tests.conftest import CONTENT, dispatched_to
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def test_screen_pop_duplicates_merge_and_undo(browser, live_server, city, people, screenshot_dir):
    base = live_server.url
    existing = dispatched_to(city, people, city.xingfu, citizen_phone="13812345678", citizen_name="王建国")
    run_queued()  # the case-events job (the worker, every second) indexes the requests

    agent = Desk(browser, base, "agent", screenshot_dir)
    page = agent.page
    page.get_by_role("link", name="受理登记").click()
    page.get_by_label("联系电话").fill("13812345678")
    pop = page.get_by_test_id("screen-pop")
    pop.get_by_test_id("citizen-found").wait_for()
    assert "王建国" in pop.get_by_test_id("citizen-found").inner_text()
    assert existing.number in pop.get_by_test_id("pop-open-cases").inner_text()
    pop.get_by_role("button", name="填入来电人信息").click()
    assert page.get_by_label("姓名").input_value() == "王建国"

    page.get_by_label("诉求类型").select_option(label="投诉")
    page.get_by_label("职能局").select_option(label="市住建局")
    page.get_by_label("事发地所属区域").select_option(label="　　幸福社区")
    page.get_by_label("事发地点").fill("幸福社区12栋楼下")
    page.get_by_label("诉求内容").fill(CONTENT)
    card = page.get_by_test_id("duplicates-card")
    # The card refreshes (debounced) as the content is typed: the existing case is similar and has the same number.
    expect(card.get_by_test_id("count-similar")).to_have_text("1")
    assert card.get_by_test_id("count-same-phone").inner_text() == "1"
    candidate = card.locator(f'[data-testid="duplicate-candidate"][data-case="{existing.number}"]')
    score = float(candidate.get_by_test_id("duplicate-score").inner_text().split()[-1])
    assert score >= 0.9
    agent.shot("citizen-01-intake-screen-pop-duplicates")
    page.get_by_role("button", name="提交热线办（Alt+T）").click()
    number = page.get_by_test_id("case-number").inner_text()
    new = Case.objects.get(number=number)
    assert new.status == CaseStatus.SUBMITTED
    run_queued()

    # The office merges the new request into the existing case, chosen from the candidates.
    office = Desk(browser, base, "dispatcher", screenshot_dir)
    office.page.on("dialog", lambda dialog: dialog.accept())
    office.open_case(number)
    panel = office.page.get_by_test_id("merge-panel")
    panel.get_by_test_id("merge-form").wait_for()
    panel.locator(f'input[name="target"][value="{existing.pk}"]').check()
    panel.get_by_label("并单说明").fill("同一烧烤店扰民")
    office.shot("citizen-02-merge-panel")
    panel.get_by_role("button", name="并单").click()
    office.page.get_by_test_id("merged-into").wait_for()
    assert office.status() == "已并单"
    assert "并单" in office.page.get_by_test_id("timeline").inner_text()
    assert Case.objects.get(pk=new.pk).status == CaseStatus.MERGED

    # …and undoes it.
    undo = office.page.get_by_test_id("unmerge-panel")
    undo.get_by_label("撤销理由").fill("并错了，不是同一家店")
    undo.get_by_role("button", name="撤销并单").click()
    office.page.get_by_test_id("case-status").filter(has_text="待派单").wait_for()
    assert "撤销并单" in office.page.get_by_test_id("timeline").inner_text()
    office.shot("citizen-03-unmerged")
    assert Case.objects.get(pk=new.pk).status == CaseStatus.SUBMITTED
    agent.close()
    office.close()
