"""SMS-1 contact groups in the browser: a district's handler makes a group (numbers shown masked), adds a number,
sends one SMS to the group from the district's extension and reads the per-recipient delivery report as Kannel's
reports come in; the office reveals the full numbers (audited); another district cannot open the group."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from hotline.common.models import AuditLog
from hotline.intake.models import SmsGroup, SmsSent
from hotline.intake.sms import outbound
from hotline.notify.dlr import sign_reference
from hotline.notify.services import delivery_report
from tests.e2e.test_case_loop_browser import Desk

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_unit_sends_to_its_group_and_reads_the_delivery_report(
    browser, live_server, city, people, screenshot_dir, monkeypatch
):
    monkeypatch.setenv("HOTLINE_SMS_QUIET_HOURS", "")
    monkeypatch.setenv("HOTLINE_SMS_SENDER", "12345")
    outbound.sms_extension_set(actor=people.monitor, unit=city.east, code="07")
    unit = Desk(browser, live_server.url, people.east.username, screenshot_dir)
    page = unit.page
    page.get_by_test_id("nav-channels").click()
    page.get_by_role("link", name="通讯组").click()
    page.get_by_label("组名").fill("网格员")
    page.get_by_label("成员号码（每行一个，可在号码前写备注名）").fill("王主任 13911112222\n1391111")
    page.get_by_role("button", name="建立通讯组").click()
    expect(page.get_by_test_id("error-phones")).to_contain_text("1391111")
    page.get_by_label("成员号码（每行一个，可在号码前写备注名）").fill(
        "王主任 13911112222\n李师傅 13911113333"
    )
    page.get_by_role("button", name="建立通讯组").click()
    members = page.get_by_test_id("group-members")
    expect(members).to_contain_text("139****2222")
    expect(members).not_to_contain_text("13911112222")
    expect(page.get_by_role("button", name="显示完整号码")).to_have_count(0)  # a unit handler's role
    page.get_by_label("加入号码（每行一个，可在号码前写备注名）").fill("13911114444")
    page.get_by_role("button", name="加入", exact=True).click()
    expect(page.get_by_test_id("sms-flash")).to_contain_text("1个")
    expect(members).to_contain_text("139****4444")
    page.get_by_role("button", name="移出 139****4444").click()
    expect(members).not_to_contain_text("139****4444")
    expect(page.get_by_test_id("group-send-form")).to_contain_text("1234507")
    page.get_by_label("短信内容").fill("明日8时至12时停水，请转告居民。")
    page.get_by_role("button", name="群发").click()
    expect(page.get_by_test_id("send-counts")).to_contain_text("共2人")
    expect(page.get_by_test_id("send-counts")).to_contain_text("待回执2")
    unit.shot("sms-groups-01-sent")
    first, second = SmsSent.objects.filter(unit=city.east, extension="07").order_by("id")
    delivery_report(reference=sign_reference(first.outbox_id), status="1")
    delivery_report(
        reference=sign_reference(second.outbox_id), status="16", answer="NACK/0x0b/Invalid Destination"
    )
    page.reload()
    expect(page.get_by_test_id("send-counts")).to_contain_text("已送达1，失败1，待回执0")
    expect(page.locator('[data-testid="send-report"] tr[data-status="delivered"]')).to_contain_text("王主任")
    expect(page.locator('[data-testid="send-report"] tr[data-status="failed"]')).to_contain_text(
        "Invalid Destination"
    )
    unit.shot("sms-groups-02-report")
    page.get_by_role("link", name="网格员").click()
    expect(page.get_by_test_id("group-sends")).to_contain_text("2")
    unit.context.close()
    group = SmsGroup.objects.get()

    office = Desk(browser, live_server.url, people.monitor.username, screenshot_dir)
    page = office.page
    page.goto(f"{live_server.url}/intake/sms/groups/{group.pk}/")
    expect(page.get_by_test_id("group-members")).to_contain_text("139****2222")
    page.get_by_role("button", name="显示完整号码").click()
    expect(page.get_by_test_id("revealed")).to_be_visible()
    expect(page.get_by_test_id("group-members")).to_contain_text("13911112222")
    assert AuditLog.objects.filter(object_type="intake.smsgroup", actor=people.monitor).count() == 1
    office.context.close()

    other = Desk(browser, live_server.url, people.west.username, screenshot_dir)
    response = other.page.goto(f"{live_server.url}/intake/sms/groups/{group.pk}/")
    assert response is not None and response.status == 404
    other.context.close()
