"""The callback screen records the two answers beside the rating (响应、解决): both are asked, a callback without
them is refused with the fields named, and the recorded answers show on the case."""

from __future__ import annotations

import pytest

from hotline.cases.models import Callback, CaseEvent
from tests.e2e.test_case_loop_browser import Desk
from tests.e2e.test_supervision_browser import reported_case

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_callback_records_whether_the_unit_responded_and_the_problem_was_solved(
    browser, live_server, city, people, screenshot_dir
):
    case, _main = reported_case(city, people)
    agent = Desk(browser, live_server.url, "agent", screenshot_dir)
    agent.open_case(case.number)
    form = agent.page.get_by_test_id("callback-form")
    assert form.get_by_test_id("callback-responded").inner_text().split() == [
        "承办单位是否联系市民",
        "已联系",
        "未联系",
    ]
    assert "部分解决" in form.get_by_test_id("callback-solution").inner_text()

    # the browser asks for both answers (required radios): nothing is sent
    form.get_by_label("满意", exact=True).check()
    form.get_by_role("button", name="提交回访").click()
    assert agent.status() == "待回访"
    assert not Callback.objects.exists()

    # without the browser's check the server refuses it and names the fields
    agent.page.evaluate(
        "document.querySelectorAll('[data-testid=callback-form] [required]')"
        ".forEach(e => e.removeAttribute('required'))"
    )
    form.get_by_label("满意", exact=True).check()
    form.get_by_role("button", name="提交回访").click()
    agent.page.wait_for_load_state("networkidle")
    flash = agent.flash()
    assert "承办单位是否联系" in flash and "问题是否解决" in flash, flash
    assert agent.status() == "待回访" and not Callback.objects.exists()

    form = agent.page.get_by_test_id("callback-form")
    form.get_by_label("满意", exact=True).check()
    form.get_by_label("未联系", exact=True).check()
    form.get_by_label("部分解决", exact=True).check()
    agent.shot("callback-answers")
    form.get_by_role("button", name="提交回访").click()
    assert agent.status() == "已办结"
    assert agent.page.get_by_test_id("callback-responded-value").inner_text() == "未联系"
    assert agent.page.get_by_test_id("callback-solution-value").inner_text() == "部分解决"
    callback = Callback.objects.get()
    assert (callback.rating, callback.responded, callback.solution) == ("satisfied", "no", "partly")
    event = CaseEvent.objects.get(case=case, action="callback")
    assert event.data == {"rating": "satisfied", "method": "phone", "responded": "no", "solution": "partly"}
