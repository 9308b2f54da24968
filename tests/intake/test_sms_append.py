"""SMS: a later message from a phone with an unfinished SMS request is added to that case (timeline, receipt with
its number), not a new case, once per Kannel id; keyword routing is data (KeywordRoute); a staff button on the
case page sends the callback-rating SMS for a request that did not come by SMS."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from hotline.cases.lifecycle import Action
from hotline.cases.models import Case, CaseStatus
from hotline.common.models import DictItem, DictKind
from hotline.intake.models import CallbackInvite, ChannelMessage, KeywordRoute
from hotline.notify.models import Outbox
from tests.intake.conftest import carry_to_callback
from tests.intake.test_sms_endpoint import mo

pytestmark = pytest.mark.django_db


def test_a_later_sms_is_added_to_the_open_case(city: Any, channel_templates: None) -> None:
    assert mo(id="a-1", text="投诉：幸福社区3栋门口的路灯坏了") == 200
    case = Case.objects.get()
    assert mo(id="a-2", text="补充：晚上8点以后完全不亮，老人摔倒过") == 200
    assert mo(id="a-2", text="补充：晚上8点以后完全不亮，老人摔倒过") == 200  # Kannel retried
    assert Case.objects.count() == 1
    event = case.events.get(action=Action.CITIZEN_MESSAGE)
    assert "老人摔倒过" in event.opinion and event.actor is None and event.data["source"] == "sms"
    appended = Outbox.objects.get(template="channel_appended", address="13911112222")
    assert case.number in appended.body
    record = ChannelMessage.objects.get(external_id="a-2")
    assert record.case == case and record.kind == "append" and record.acknowledged_at is not None
    # Another phone, or the same phone once the case is finished, makes a new request.
    assert mo(id="a-3", **{"from": "13911115555"}, text="咨询：社保卡怎么补办") == 200
    Case.objects.filter(pk=case.pk).update(status=CaseStatus.CLOSED)
    assert mo(id="a-4", text="投诉：小区门口又有占道经营") == 200
    assert Case.objects.count() == 3


def test_keyword_routes_are_data(city: Any, channel_templates: None) -> None:
    help_type, _ = DictItem.objects.get_or_create(
        kind=DictKind.CASE_TYPE, code="help", defaults={"name": "求助", "is_active": True}
    )
    route = KeywordRoute.objects.create(keyword="漏水", case_type=help_type, anywhere=True, order=5)
    assert mo(id="k-1", **{"from": "13911116666"}, text="我家楼上漏水好几天了") == 200
    assert Case.objects.get(citizen_phone="13911116666").case_type.code == "help"
    # The office switches the rule off in the admin (a save: this process's cache of the rules is refreshed;
    # other processes within the cache's refresh time): the text no longer routes there (the default type).
    route.is_active = False
    route.save()
    assert mo(id="k-2", **{"from": "13911117777"}, text="我家楼上漏水好几天了") == 200
    assert Case.objects.get(citizen_phone="13911117777").case_type.code == "message"


def test_staff_sends_the_callback_sms_for_a_web_case(city: Any, people: Any, channel_templates: None) -> None:
    from hotline.cases import services as case_services
    from hotline.intake import services

    web_type = DictItem.objects.get(kind=DictKind.CASE_TYPE, code="complaint")
    case = services.channel_request_submit(
        delivery=services.Delivery(channel="web", account="portal", external_id="w-1", sender="13911118888"),
        data=case_services.CaseInput(
            case_type=web_type,
            content="幸福社区3栋门口的路灯坏了一个多月，请尽快维修。",
            channel="web",
            citizen_phone="13911118888",
            title="路灯坏了",
        ),  # fmt: skip
    ).case
    assert case is not None
    url = f"/intake/case/{case.pk}/callback-sms/"
    agent = Client()
    agent.force_login(people.agent)
    assert (
        'data-testid="callback-sms-send"' not in agent.get(url).content.decode()
    )  # not waiting for callback
    assert agent.post(url).status_code == 400
    case = carry_to_callback(case, city, people)
    assert 'data-testid="callback-sms-send"' in agent.get(url).content.decode()
    assert agent.post(url).status_code == 200
    invite = CallbackInvite.objects.get(case=case)
    assert invite.phone == "13911118888"
    assert Outbox.objects.filter(template="channel_callback", address="13911118888").count() == 1
    # The citizen's reply "5" rates the case.
    assert mo(id="r-1", **{"from": "13911118888"}, text="5") == 200
    assert Case.objects.get(pk=case.pk).status != CaseStatus.CALLBACK
    # A unit user who never saw the case gets 404; the case page carries the panel.
    other = Client()
    other.force_login(people.west)
    assert other.get(url).status_code == 404 and other.post(url).status_code == 404
    assert f'hx-get="{url}"' in agent.get(f"/cases/{case.pk}/").content.decode()
