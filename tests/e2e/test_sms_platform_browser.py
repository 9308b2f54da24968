"""SMS-1 in the browser: the office adds a common phrase and gives a district its extension number; the district's
handler picks the phrase into an SMS, sends it to two phones from the extension, sees it in the recent list (numbers masked), and
finds it in the per-day summary (whose export downloads)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hotline.intake.models import SmsSent
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)
PHRASE = "请保持电话畅通，工作人员将在两个工作日内与您联系。"


def test_office_sets_phrase_and_extension_then_a_unit_sends_and_sees_the_summary(
    browser, live_server, city, people, screenshot_dir, monkeypatch
):
    monkeypatch.setenv("HOTLINE_SMS_QUIET_HOURS", "")
    office = Desk(browser, live_server.url, people.monitor.username, screenshot_dir)
    page = office.page
    page.get_by_test_id("nav-channels").click()
    page.get_by_role("link", name="常用短语与扩展号").click()
    page.get_by_label("新短语").fill(PHRASE)
    page.get_by_role("button", name="添加短语").click()
    expect(page.get_by_test_id("phrase-list")).to_contain_text(PHRASE)
    page.get_by_label("单位", exact=True).select_option(label=city.east.name)
    page.get_by_label("扩展号（留空：取消）").fill("7x")
    page.get_by_role("button", name="保存扩展号").click()
    expect(page.get_by_test_id("error-code")).to_contain_text("1至6位数字")
    page.get_by_label("单位", exact=True).select_option(label=city.east.name)
    page.get_by_label("扩展号（留空：取消）").fill("07")
    page.get_by_role("button", name="保存扩展号").click()
    expect(page.get_by_test_id("extension-list")).to_contain_text("1234507")
    office.shot("sms-01-settings")
    office.context.close()

    unit = Desk(browser, live_server.url, people.east.username, screenshot_dir)
    page = unit.page
    page.get_by_test_id("nav-channels").click()
    expect(page.get_by_role("link", name="常用短语与扩展号")).to_have_count(0)  # the office's to manage
    expect(page.get_by_test_id("sms-form")).to_contain_text("1234507")
    page.get_by_label("手机号码（每行一个，或用逗号分隔；最多200个）").fill("13911112222\n1391111")
    page.get_by_label("短信内容").fill("您好，")
    page.get_by_label("常用短语").select_option(label=PHRASE[:40] if len(PHRASE) <= 40 else PHRASE[:39] + "…")
    expect(page.get_by_label("短信内容")).to_have_value("您好，" + PHRASE)
    page.get_by_role("button", name="发送").click()
    expect(page.get_by_test_id("error-phones")).to_contain_text("1391111")
    page.get_by_label("手机号码（每行一个，或用逗号分隔；最多200个）").fill("13911112222\n13911113333")
    page.get_by_role("button", name="发送").click()
    expect(page.get_by_test_id("sms-flash")).to_contain_text("2条")
    # The recent sends show numbers masked, as every other screen does.
    expect(page.get_by_test_id("sms-sent")).to_contain_text("139****3333")
    expect(page.get_by_test_id("sms-sent")).not_to_contain_text("13911113333")
    assert SmsSent.objects.filter(unit=city.east, extension="07").count() == 2
    unit.shot("sms-02-sent")
    page.get_by_role("link", name="发送汇总").click()
    expect(page.get_by_test_id("sms-summary")).to_contain_text(city.east.name)
    expect(page.get_by_test_id("sms-summary-total")).to_contain_text("2")
    with page.expect_download() as download:
        page.get_by_test_id("export-xlsx").click()
    assert download.value.suggested_filename.endswith(".xlsx")
    unit.shot("sms-03-summary")
    unit.context.close()
