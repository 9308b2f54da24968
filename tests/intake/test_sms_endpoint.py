"""The Kannel MO endpoint's refusals and decoding, without Kannel (the round trip is in test_sms_kannel.py)."""

from __future__ import annotations

import urllib.parse

import pytest
from django.test import Client

from hotline.cases.models import Case, Channel
from hotline.citizens.services import BlacklistInput, blacklist_add
from hotline.intake.models import ChannelMessage, ChannelRejection
from hotline.intake.sms.mo import decode_query, mo_secret
from hotline.notify.models import Outbox

pytestmark = pytest.mark.django_db
URL = "/intake/sms/kannel/"


def mo(**params: str) -> int:
    values = {
        "key": mo_secret(),
        "id": "0b5e-1",
        "from": "+8613911112222",
        "to": "12345",
        "text": "",
        **params,
    }
    return Client().get(f"{URL}?{urllib.parse.urlencode(values)}").status_code


def test_refusals_are_counted_and_save_nothing(city, people, channel_templates):
    assert mo(key="wrong", text="投诉：路灯坏了很久了") == 403
    assert mo(id="", text="投诉：路灯坏了很久了") == 400
    assert mo(text="   ") == 400
    blacklist_add(actor=people.monitor, data=BlacklistInput(number="13911113333", reason="骚扰"))
    assert mo(**{"from": "13911113333", "text": "投诉：路灯坏了很久了"}) == 403
    codes = sorted(ChannelRejection.objects.filter(channel=Channel.SMS).values_list("code", flat=True))
    assert codes == ["bad_key", "bad_message", "blacklisted", "empty_text"]
    assert Case.objects.count() == 0 and ChannelMessage.objects.count() == 0 and Outbox.objects.count() == 0


def test_new_request_then_unrecognised_digit_gets_help(city, channel_templates):
    assert mo(text="咨询：社保卡丢了去哪里补办") == 200
    case = Case.objects.get()
    assert case.citizen_phone == "13911112222" and case.case_type.code == "consult"  # +86 dropped
    assert mo(id="0b5e-2", text="3") == 200  # no callback SMS was sent: help text, no rating
    assert Outbox.objects.filter(template="channel_sms_help", address="13911112222").count() == 1
    assert mo(id="0b5e-2", text="3") == 200  # retried: nothing new
    assert Outbox.objects.filter(template="channel_sms_help").count() == 1 and Case.objects.count() == 1


def test_ucs2_without_mo_recode_is_decoded():
    raw = urllib.parse.quote_from_bytes("路灯坏了".encode("utf-16-be"))
    params = decode_query(f"from=1&id=2&coding=2&charset=UTF-16BE&text={raw}")
    assert params["text"] == "路灯坏了"
    utf8 = urllib.parse.quote("路灯坏了")
    assert decode_query(f"from=1&id=2&coding=2&charset=UTF-8&text={utf8}")["text"] == "路灯坏了"
