"""An agent takes a call with the keyboard alone: Tab through the intake form, type, submit with Ctrl+Enter."""

from __future__ import annotations

import pytest

from hotline.cases.models import Case, CaseStatus
from tests.conftest import CONTENT
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def test_intake_with_the_keyboard_alone(browser, live_server, city, people, screenshot_dir):
    agent = Desk(browser, live_server.url, "agent", screenshot_dir)
    page = agent.page
    page.goto(f"{live_server.url}/cases/new/")
    keyboard = page.keyboard
    # The phone field has the focus when the form opens.
    assert page.evaluate("document.activeElement.id") == "id_citizen_phone"
    keyboard.type("13812345678")
    keyboard.press("Tab")
    keyboard.type("王女士")
    # Tab on until the case type select, choosing options by typing, as a trained agent does.
    for _ in range(20):
        keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "id_case_type":
            break
    assert page.evaluate("document.activeElement.id") == "id_case_type"
    keyboard.press("ArrowDown")  # first case type
    for _ in range(20):
        keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "id_content":
            break
    assert page.evaluate("document.activeElement.id") == "id_content"
    keyboard.type(CONTENT)
    keyboard.press("Control+Enter")
    number = page.get_by_test_id("case-number").inner_text()  # waits for the case page
    case = Case.objects.get(number=number)
    assert case.status == CaseStatus.SUBMITTED and case.citizen_phone == "13812345678"
    assert case.citizen_name == "王女士" and case.case_type.code == "consult"
    agent.close()
