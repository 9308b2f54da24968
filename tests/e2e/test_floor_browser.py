"""The workbench defects staff hit first, in Chromium (issue 11): the unit picker keeps earlier choices, the
docked reminder stays closed and marks notices read, 查看号码, the navbar on one line in English."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from hotline.cases import services
from hotline.cases.models import Assignment, AssignmentRole, Case
from hotline.common import clock
from hotline.common.models import AuditLog
from hotline.notify.models import Outbox
from hotline.sla.models import Clock
from tests.conftest import dispatched_to, submitted_case
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_assisting_picker_keeps_units_chosen_before_a_new_search(
    browser, live_server, city, people, screenshot_dir
):
    case = submitted_case(city, people)
    desk = Desk(browser, live_server.url, "dispatcher", screenshot_dir)
    desk.page.goto(f"{live_server.url}/cases/{case.pk}/")
    form = desk.page.get_by_test_id("dispatch-form")
    form.locator("#dispatch-main").select_option(value=str(city.housing.pk))
    picker = form.locator("#dispatch-assisting")
    search = desk.page.get_by_test_id("dispatch-assisting-search")
    chosen = desk.page.get_by_test_id("dispatch-assisting-chosen")

    with desk.page.expect_response(lambda r: "/partials/units/" in r.url):
        search.fill("")
        search.press_sequentially("sswj")
    picker.select_option(value=str(city.tax.pk))
    with desk.page.expect_response(lambda r: "/partials/units/" in r.url):
        search.fill("")
        search.press_sequentially("dhqcg")
    picker.select_option(value=str(city.east_cg.pk))
    assert chosen.get_by_test_id("chosen-unit").count() == 2
    assert "市税务局" in chosen.inner_text() and "东湖区城管局" in chosen.inner_text()
    # a unit chosen by mistake comes off the list
    with desk.page.expect_response(lambda r: "/partials/units/" in r.url):
        search.fill("")
        search.press_sequentially("xhq")
    picker.select_option(value=str(city.west.pk))
    chosen.get_by_role("button", name=re.compile("^移除 西湖区")).click()
    assert chosen.get_by_test_id("chosen-unit").count() == 2
    desk.shot("30-picker-chosen-units")
    form.get_by_role("button", name="派单").click()
    desk.page.wait_for_load_state("networkidle")
    assisting = set(
        Assignment.objects.filter(case=case, role=AssignmentRole.ASSISTING).values_list(
            "unit__name", flat=True
        )
    )
    assert assisting == {"市税务局", "东湖区城管局"}
    desk.close()


def test_the_docked_reminder_stays_closed_and_opens_a_notice_as_read(
    browser, live_server, city, people, screenshot_dir
):
    case = dispatched_to(city, people, city.housing)
    Clock.objects.filter(case=case).update(due_at=clock.now() - dt.timedelta(hours=1))
    desk = Desk(browser, live_server.url, "housing", screenshot_dir)
    dock = desk.page.get_by_test_id("notices")
    dock.wait_for()
    assert desk.page.locator("details[data-testid=notices][open]").count() == 1
    assert "超期工单" in dock.inner_text()
    desk.shot("31-reminder-docked")
    desk.page.get_by_test_id("notices-close").click()
    assert desk.page.locator("details[data-testid=notices][open]").count() == 0
    desk.page.goto(f"{live_server.url}/cases/search/")
    desk.page.get_by_test_id("notices").wait_for(state="attached")
    assert desk.page.locator("details[data-testid=notices][open]").count() == 0  # closing lasts
    # the office urges: something new opens it again; clicking the notice opens the case and marks it read
    services.case_urge(
        case=Case.objects.get(pk=case.pk),
        actor=people.dispatcher,
        expected_version=None,
        message="请今天回复",
    )
    desk.page.goto(f"{live_server.url}/")
    desk.page.locator("details[data-testid=notices][open]").wait_for()
    desk.page.get_by_test_id("inbox-item").first.get_by_role("link").click()
    desk.page.wait_for_url(f"{live_server.url}/cases/{case.pk}/")
    assert not Outbox.objects.filter(
        recipient=people.housing, channel="in_app", read_at__isnull=True
    ).exists()
    desk.close()


def test_a_unit_handler_reveals_the_callers_number(browser, live_server, city, people, screenshot_dir):
    case = dispatched_to(city, people, city.housing)
    desk = Desk(browser, live_server.url, "housing", screenshot_dir)
    desk.page.goto(f"{live_server.url}/cases/{case.pk}/")
    phone = desk.page.get_by_test_id("citizen-phone")
    assert "138****5678" in phone.inner_text()
    desk.page.get_by_test_id("reveal-phone").click()
    desk.page.get_by_test_id("revealed-phone").wait_for()
    assert "13812345678" in phone.inner_text()
    assert AuditLog.objects.filter(action="reveal_phone", actor=people.housing).count() == 1
    desk.close()


def test_english_navbar_on_one_line_and_english_dates(browser, live_server, city, people, screenshot_dir):
    for _ in range(2):
        submitted_case(city, people)
    desk = Desk(browser, live_server.url, "dispatcher", screenshot_dir)
    desk.page.get_by_role("button", name="English").click()
    desk.page.wait_for_load_state("networkidle")
    nav = desk.page.locator("nav.navbar-gov")
    desk.shot("32-english-home")
    height = nav.bounding_box()["height"]
    assert height < 64, height  # one line (it wrapped to two or three at 1440 px)
    table = desk.page.get_by_test_id("queue-submitted").inner_text()
    assert "月" not in table and "日" not in table
    desk.shot("32-english-home")
    desk.close()


def test_the_assignment_sheet_prints_on_one_a4_page(browser, live_server, city, people, screenshot_dir):
    case = dispatched_to(city, people, city.housing)
    desk = Desk(browser, live_server.url, "dispatcher", screenshot_dir)
    desk.page.goto(f"{live_server.url}/cases/{case.pk}/")
    with desk.context.expect_page() as opened:
        desk.page.get_by_test_id("print-case").click()
    sheet = opened.value
    sheet.wait_for_load_state("networkidle")
    assert sheet.get_by_test_id("print-number").inner_text() == case.number
    sheet.screenshot(path=str(screenshot_dir / "33-assignment-sheet.png"), full_page=True)
    pdf = sheet.pdf(prefer_css_page_size=True)
    assert pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages") == 1  # one sheet of paper
    assert b"/MediaBox [0 0 594" in pdf or b"/MediaBox [0 0 595" in pdf  # A4: 595 × 842 points
    desk.close()
