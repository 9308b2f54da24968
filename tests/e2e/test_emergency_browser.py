"""应急联动 in the browser: an agent talking with a caller about a knife fight opens the case, the 110 box has
「同时转接通话」 ticked by default, one click (confirmed) hands the data to the police platform and the caller to
110 — the panel shows the hand-over with 通话已转接 110 and the call controller receives the transfer."""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import expect

from hotline.integrations.models import EmergencyHandover
from tests.conftest import submitted_case
from tests.e2e.test_case_loop_browser import Desk
from tests.integrations import test_emergency

pytestmark = pytest.mark.django_db(transaction=True)

police = test_emergency.police
agent_on_call = test_emergency.agent_on_call


def test_one_click_transfers_data_and_caller_to_110(
    browser,
    live_server,
    city,
    people,
    police,
    agent_on_call,
    screenshot_dir,
):
    from hotline.telephony import push
    from hotline.telephony import services as tel

    _partner, _creds, _server = police
    seat, call = agent_on_call
    case = submitted_case(
        city,
        people,
        content="幸福社区12栋楼下有两名男子持刀争吵，情况危急，周围有老人和小孩，请马上派警察到现场处理。来电人在二楼窗口看到，双方情绪激动，来电人仍在线。",
    )
    tel.call_link_case(call_id=call.call_id, case=case)
    listener = push.broker().listen(push.CONTROL_CHANNEL, timeout=0.05)

    agent = Desk(browser, live_server.url, "agent", screenshot_dir)
    page = agent.page
    page.goto(f"{live_server.url}/cases/{case.pk}/")
    form = page.get_by_test_id("emergency-form")
    expect(form).to_be_visible()
    expect(form.get_by_label("同时转接通话")).to_be_checked()
    form.get_by_label("联动类别").select_option(value="110")
    form.get_by_placeholder("转交说明（现场情况、危险程度）").fill("持刀，二楼窗口可见")
    page.once("dialog", lambda dialog: dialog.accept())
    form.get_by_role("button", name="一键转交").click()
    expect(page.get_by_test_id("handover-voice")).to_contain_text("通话已转接 110", timeout=10_000)
    agent.shot("emergency-01-transferred")

    handover = EmergencyHandover.objects.get()
    assert handover.voice_number == "110" and handover.case_id == case.pk
    sent = None
    for _ in range(100):
        message = next(listener)
        if message:
            sent = json.loads(message)
            break
    assert sent is not None and sent["action"] == "transfer" and sent["target"] == "110"
    assert sent["call_id"] == call.call_id and sent["agent"] == seat.pk
