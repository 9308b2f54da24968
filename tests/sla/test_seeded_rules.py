"""The seed's alert rule for every stage: warning, yellow and red card by SMS and in-app (issue 11, item 19)."""

from __future__ import annotations

import datetime as dt
import importlib
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps

from hotline.common import clock
from hotline.notify.models import Outbox
from hotline.sla.models import Alert, AlertKind, EscalationRule, Stage
from hotline.sla.sweep import sweep
from tests.conftest import dispatched_to
from tests.notices import per_recipient

SH = ZoneInfo("Asia/Shanghai")
pytestmark = pytest.mark.django_db
seed_migration = importlib.import_module("hotline.sla.migrations.0004_seed_every_stage")


def test_every_stage_warns_and_cards_by_sms_and_in_app():
    for stage in Stage.values:
        rules = {r.kind: r for r in EscalationRule.objects.filter(stage=stage, is_active=True)}
        assert {AlertKind.WARNING, AlertKind.YELLOW, AlertKind.RED} <= set(rules), stage
        for kind in (AlertKind.WARNING, AlertKind.YELLOW, AlertKind.RED):
            assert {"in_app", "sms"} <= set(rules[kind].channels), (stage, kind)
        assert rules[AlertKind.WARNING].offset_days < 0 < rules[AlertKind.RED].offset_days


def test_an_unsigned_assignment_gets_a_sign_for_yellow_and_red_card_by_sms(city, people):
    people.east.phone, people.east_leader.phone = "13900000001", "13900000002"
    people.east.save(update_fields=["phone"])
    people.east_leader.save(update_fields=["phone"])
    with clock.frozen_now(dt.datetime(2026, 11, 23, 10, tzinfo=SH)):  # sign for within one working day
        case = dispatched_to(city, people, city.east)
    with clock.frozen_now(dt.datetime(2026, 11, 25, 11, tzinfo=SH)):  # one working day past it: red
        sweep()
    kinds = set(Alert.objects.filter(case=case, clock__stage=Stage.SIGN_FOR).values_list("kind", flat=True))
    assert kinds == {"yellow", "red"}
    sms = Outbox.objects.filter(channel="sms", template__in=["sla_yellow", "sla_red"])
    assert {(template, address) for _, address, template in per_recipient(sms, "template")} == {
        ("sla_yellow", "13900000001"),
        ("sla_red", "13900000001"),
        ("sla_red", "13900000002"),
    }


def test_the_migration_upgrades_old_in_app_only_rules_and_keeps_an_admins_edit():
    EscalationRule.objects.filter(kind="yellow", stage="sign_for").update(channels=["in_app"])
    EscalationRule.objects.filter(kind="yellow", stage="total").update(
        channels=["in_app"], recipient_roles=["leader"]
    )
    EscalationRule.objects.filter(kind="red", stage="callback").delete()
    seed_migration.forwards(apps, None)
    assert EscalationRule.objects.get(kind="yellow", stage="sign_for").channels == ["in_app", "sms"]
    edited = EscalationRule.objects.get(kind="yellow", stage="total")
    assert (edited.channels, edited.recipient_roles) == (["in_app"], ["leader"])
    assert EscalationRule.objects.get(kind="red", stage="callback").channels == ["in_app", "sms"]
