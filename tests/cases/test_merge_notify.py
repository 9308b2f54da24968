"""并单: the co-requester is told by SMS, queued in the merge transaction; a timeline event records it."""

from __future__ import annotations

import pytest

from hotline.cases import merge
from hotline.cases.lifecycle import Action
from hotline.citizens import services as citizen_services
from hotline.citizens.models import BlacklistDirection
from hotline.notify.models import MessageTemplate, Outbox
from tests.conftest import dispatched_to, fresh, submitted_case


def _sms() -> list[Outbox]:
    return list(Outbox.objects.filter(template=merge.CO_REQUESTER_TEMPLATE))


def test_mobile_co_requester_gets_one_sms_and_undo_sends_nothing(city, people):
    target = dispatched_to(city, people, city.xingfu, citizen_phone="13812345678")
    new = submitted_case(city, people, citizen_phone="13912345678", citizen_name="赵先生")
    merge.case_merge(case=new, into=target, actor=people.agent, expected_version=new.version)
    [sms] = _sms()
    assert sms.channel == "sms" and sms.address == "13912345678"
    assert new.number in sms.body and target.number in sms.body
    event = fresh(new).events.filter(action=Action.SMS_CITIZEN).get()
    assert event.opinion == sms.body and event.data["into"] == target.pk
    merge.case_unmerge(case=fresh(new), actor=people.dispatcher, expected_version=None, reason="并错了")
    assert len(_sms()) == 1
    assert fresh(new).events.filter(action=Action.SMS_CITIZEN).count() == 1


def test_landline_gets_nothing(city, people):
    target = dispatched_to(city, people, city.xingfu)
    new = submitted_case(city, people, citizen_phone="027-88886666")
    merge.case_merge(case=new, into=target, actor=people.agent, expected_version=None)
    assert _sms() == [] and not fresh(new).events.filter(action=Action.SMS_CITIZEN).exists()
    assert fresh(new).status == "merged"


@pytest.mark.parametrize(
    "direction, sent",
    [
        (BlacklistDirection.OUTBOUND, False),
        (BlacklistDirection.BOTH, False),
        (BlacklistDirection.INBOUND, True),
    ],
)
def test_blacklisted_for_outbound_gets_nothing(city, people, direction, sent):
    citizen_services.blacklist_add(
        actor=people.dispatcher,
        data=citizen_services.BlacklistInput(number="13912345678", reason="骚扰", direction=direction),
    )
    target = dispatched_to(city, people, city.xingfu)
    new = submitted_case(city, people, citizen_phone="13912345678")
    merge.case_merge(case=new, into=target, actor=people.agent, expected_version=None)
    assert len(_sms()) == (1 if sent else 0)
    assert fresh(new).events.filter(action=Action.SMS_CITIZEN).exists() is sent


def test_template_switched_off_sends_nothing(city, people):
    MessageTemplate.objects.filter(code=merge.CO_REQUESTER_TEMPLATE).update(is_active=False)
    target = dispatched_to(city, people, city.xingfu)
    new = submitted_case(city, people, citizen_phone="13912345678")
    merge.case_merge(case=new, into=target, actor=people.agent, expected_version=None)
    assert _sms() == []


def test_template_is_seeded_by_migration(db):
    assert MessageTemplate.objects.filter(code=merge.CO_REQUESTER_TEMPLATE, is_active=True).exists()
