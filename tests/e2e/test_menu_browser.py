"""The main menu and the home page in the browser, now built from what the packages register: each role sees its
entries (as base.html's role literals showed them), follows one to its page, and lands on its own panels."""

from __future__ import annotations

import pytest

from tests.common.test_menu import EXPECTED_MENU, ORDER
from tests.conftest import submitted_case
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def _menu(desk: Desk) -> list[str]:
    return [text.strip() for text in desk.page.locator("nav ul.navbar-nav .nav-link").all_inner_texts()]


def test_each_role_sees_its_menu_and_its_home_panels(browser, live_server, city, people, screenshot_dir):
    case = submitted_case(city, people)
    base = live_server.url

    dispatcher = Desk(browser, base, "dispatcher", screenshot_dir)
    assert _menu(dispatcher) == [label for label in ORDER if label in EXPECTED_MENU["dispatcher"]]
    assert (
        dispatcher.page.get_by_test_id("queue-submitted").get_by_role("link", name=case.number).is_visible()
    )
    assert dispatcher.page.get_by_test_id("overview").is_visible()
    dispatcher.page.get_by_role("link", name="督办统计").click()
    dispatcher.page.wait_for_url(f"{base}/supervision/**")
    active = dispatcher.page.locator("nav .nav-link.active").all_inner_texts()
    assert [text.strip() for text in active] == ["督办统计"]
    dispatcher.shot("menu-dispatcher-supervision")
    dispatcher.close()

    agent = Desk(browser, base, "agent", screenshot_dir)
    assert _menu(agent) == [label for label in ORDER if label in EXPECTED_MENU["agent"]]
    assert agent.page.get_by_role("link", name="＋ 新建工单").is_visible()
    assert agent.page.get_by_role("link", name="受理登记").get_attribute("accesskey") == "n"
    agent.page.get_by_role("link", name="受理登记").click()
    agent.page.wait_for_url(f"{base}/cases/new/**")
    agent.close()

    district = Desk(browser, base, "east", screenshot_dir)
    assert _menu(district) == [label for label in ORDER if label in EXPECTED_MENU["unit_handler"]]
    assert district.page.get_by_test_id("work-to_sign").is_visible()
    assert district.page.get_by_test_id("unit-figures").is_visible()
    assert district.page.get_by_role("link", name="＋ 新建工单").count() == 0
    district.shot("menu-district-home")
    district.close()
