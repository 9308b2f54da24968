"""SMS-1 extension numbers in the browser: a citizen texts 12345 + the district's extension 07 (smsbox's get-url;
the whole Kannel round trip is tests/intake/test_sms_kannel.py); once an agent has registered it, the dispatcher
finds the district preselected as main unit with the reason (the extension number), dispatches, and the district's
handler sees the citizen's message with its case number among the replies on its SMS screen."""

from __future__ import annotations

import urllib.parse

import pytest
from django.test import Client
from playwright.sync_api import expect

from hotline.cases import services as case_services
from hotline.cases.lifecycle import Action
from hotline.cases.models import Assignment, AssignmentRole, Case, Channel
from hotline.intake.defaults import seed_channel_templates
from hotline.intake.sms import outbound
from hotline.intake.sms.mo import mo_secret
from hotline.notify.models import MessageTemplate
from tests.conftest import fresh
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)
TEXT = "投诉：东区建设路128号路灯不亮已经一周了"


def test_a_message_to_a_units_extension_is_dispatched_to_it(
    browser, live_server, city, people, screenshot_dir, monkeypatch
):
    seed_channel_templates(MessageTemplate)  # transactional tests flush what the migrations seeded
    monkeypatch.setenv("HOTLINE_SMS_QUIET_HOURS", "")
    monkeypatch.setenv("HOTLINE_SMS_SENDER", "12345")
    outbound.sms_extension_set(actor=people.monitor, unit=city.east, code="07")
    query = {"key": mo_secret(), "id": "kannel-1", "from": "13911112222", "to": "1234507", "text": TEXT}
    assert Client().get(f"/intake/sms/kannel/?{urllib.parse.urlencode(query)}").status_code == 200
    case = Case.objects.get(channel=Channel.SMS)
    case_services.case_take_intake_action(
        case=fresh(case), actor=people.agent, action=Action.SUBMIT, expected_version=None
    )

    dispatcher = Desk(browser, live_server.url, people.dispatcher.username, screenshot_dir)
    page = dispatcher.page
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    form = page.get_by_test_id("dispatch-form")
    expect(form).to_contain_text(f"默认主办单位：{city.east.name}")
    expect(form).to_contain_text("1234507")
    expect(form.locator("#dispatch-main")).to_have_value(str(city.east.pk))
    dispatcher.shot("sms-ext-01-dispatch")
    form.get_by_role("button", name="派单").click()
    expect(page.get_by_test_id("dispatch-form")).to_have_count(0)
    assert Assignment.objects.get(case=case, role=AssignmentRole.MAIN).unit == city.east
    dispatcher.context.close()

    unit = Desk(browser, live_server.url, people.east.username, screenshot_dir)
    page = unit.page
    page.get_by_test_id("nav-channels").click()
    replies = page.get_by_test_id("sms-replies")
    expect(replies).to_contain_text(TEXT)
    expect(replies).to_contain_text(case.number)
    unit.shot("sms-ext-02-replies")
    unit.context.close()
