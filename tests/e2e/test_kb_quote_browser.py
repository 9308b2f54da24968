"""Issue 11, item 5: from the intake form's knowledge suggestion card, "引用到答复" quotes the item's answer
into the case's answer field."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.e2e.test_case_loop_browser import Desk
from tests.knowledge.conftest import KB, kb, kb_index, publish  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db(transaction=True)

ANSWER = "社保卡丢失后，可携带身份证到任一合作银行网点补办。"


def test_quote_a_suggestion_into_the_answer(browser, live_server, city, people, kb: KB, screenshot_dir):  # noqa: F811
    publish(kb, kb.card, "社保卡补办流程", ANSWER)
    agent = Desk(browser, live_server.url, "agent", screenshot_dir)
    page = agent.page
    page.get_by_role("link", name="受理登记").click()
    page.get_by_label("诉求内容").press_sequentially("市民来电说社保卡丢了，想问怎么补办", delay=20)
    panel = page.get_by_test_id("kb-suggest-card")
    # Two debounced requests on a busy machine: allow more than the default 5 s.
    expect(panel.get_by_test_id("kb-suggestion").first).to_contain_text("社保卡补办流程", timeout=20_000)
    answer = page.locator("#id_answer")
    answer.fill("您好，")
    panel.get_by_test_id("kb-quote").first.click()
    expect(answer).to_have_value("您好，\n" + ANSWER)
    expect(answer).to_be_focused()
    expect(panel).to_contain_text("已引用")
    # Quoting again does not paste the same answer twice; a refreshed card (more typing) still quotes.
    panel.get_by_test_id("kb-quote").first.click()
    expect(answer).to_have_value("您好，\n" + ANSWER)
    page.get_by_label("诉求内容").press_sequentially("，补办要多久", delay=20)
    expect(panel.get_by_test_id("kb-quote").first).to_be_visible(timeout=20_000)
    answer.fill("")
    panel.get_by_test_id("kb-quote").first.click()
    expect(answer).to_have_value(ANSWER)
    agent.shot("kb-03-quote-into-answer")
