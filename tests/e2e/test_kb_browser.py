"""Knowledge base in the browser: the intake form's side panel suggests items as the agent types the case,
and the knowledge search page highlights what was searched."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from hotline.knowledge.models import Item
from tests.e2e.test_case_loop_browser import Desk
from tests.knowledge.conftest import KB, kb, kb_index, publish  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)


def test_side_panel_and_search_page(browser, live_server, city, people, kb: KB, screenshot_dir):  # noqa: F811
    item = publish(kb, kb.card, "社保卡补办流程", "社保卡丢失后，可携带身份证到任一合作银行网点补办。")
    publish(kb, kb.medical, "医保异地报销", "异地就医需先备案，再持票据报销。")
    publish(kb, kb.tax, "个税汇算清缴", "社保卡与个税无关的内部口径。", actor=kb.admin)  # agent may not read

    agent = Desk(browser, live_server.url, "agent", screenshot_dir)
    page = agent.page
    page.get_by_role("link", name="受理登记").click()
    panel = page.get_by_test_id("kb-suggest-card")
    expect(panel).to_contain_text("录入诉求内容后")
    page.get_by_label("诉求内容").press_sequentially("市民来电说社保卡丢了，想问怎么补办", delay=20)
    suggestion = panel.get_by_test_id("kb-suggestion").first
    expect(suggestion).to_contain_text("社保卡补办流程", timeout=20_000)  # debounced; busy CI machines
    expect(suggestion).to_have_attribute("target", "_blank")
    expect(suggestion).to_have_attribute("href", f"/kb/items/{item.pk}/")
    expect(panel.locator("em").first).to_be_visible()
    expect(panel).not_to_contain_text("个税汇算清缴")
    agent.shot("kb-01-intake-side-panel")

    # The search page, from the navigation bar.
    page.get_by_test_id("nav-kb").click()
    page.get_by_label("关键词").fill("社保卡 补办")
    page.get_by_role("button", name="检索").click()
    expect(page.get_by_test_id("kb-result-count")).to_have_text("1")
    title = page.get_by_test_id("kb-hit-title").first
    expect(title.locator("em").first).to_have_text("社保卡")
    expect(page.get_by_test_id("kb-hit-snippet").first.locator("em", has_text="补办").first).to_be_visible()
    agent.shot("kb-02-search-highlighted")

    # A bad query is explained inline, in Chinese.
    page.get_by_label("关键词").fill("，，，")
    page.get_by_role("button", name="检索").click()
    expect(page.get_by_test_id("kb-query-error")).to_be_visible()

    # OR widens; the item page counts the view.
    page.get_by_label("关键词").fill("补办 OR 报销")
    page.get_by_role("button", name="检索").click()
    expect(page.get_by_test_id("kb-result-count")).to_have_text("2")
    page.get_by_test_id("kb-hit-title").filter(has_text="社保卡补办流程").click()
    expect(page.get_by_test_id("kb-item-title")).to_have_text("社保卡补办流程")
    expect(page.get_by_test_id("kb-view-count")).to_have_text("1")
    page.get_by_test_id("kb-helpful-yes").click()
    expect(page.get_by_test_id("kb-helpful-yes")).to_have_attribute("aria-pressed", "true")
    page.get_by_test_id("kb-favourite").click()
    expect(page.get_by_test_id("kb-favourite")).to_have_text(re.compile("已收藏"))
    assert Item.objects.get(pk=item.pk).favourite_count == 1
    agent.close()
