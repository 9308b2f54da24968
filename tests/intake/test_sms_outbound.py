"""SMS-1 sending side: staff send to one or many phones (common phrases, from the unit's extension), a citizen's
reply to the extension goes back to the unit's case, and the per-day / per-unit summary with its export."""

from __future__ import annotations

import csv
import io
import urllib.parse

import pytest
from django.test import Client
from django.utils import timezone

from hotline.cases.lifecycle import Action
from hotline.cases.models import Case, CaseEvent
from hotline.cases.services import default_main_unit
from hotline.common.errors import NotAllowed, ServiceError
from hotline.common.models import AuditLog
from hotline.intake.models import ChannelMessage, SmsExtension, SmsPhrase, SmsSent
from hotline.intake.sms import outbound
from hotline.intake.sms.mo import mo_secret
from hotline.notify.gateways import KannelGateway
from hotline.notify.models import Outbox, OutboxStatus
from hotline.notify.services import deliver_due
from tests.conftest import dispatched_to

pytestmark = pytest.mark.django_db


class RecordingGateway:
    def __init__(self) -> None:
        self.sent: list[dict[str, str]] = []

    def send(self, *, phone: str, text: str, reference: str, sender: str = "") -> str:
        self.sent.append({"phone": phone, "text": text, "sender": sender})
        return f"gw-{len(self.sent)}"


def mo(**params: str) -> int:
    values = {"key": mo_secret(), "id": "mo-1", "from": "13911112222", "to": "12345", "text": "", **params}
    return Client().get(f"/intake/sms/kannel/?{urllib.parse.urlencode(values)}").status_code


@pytest.fixture(autouse=True)
def _awake(monkeypatch):
    monkeypatch.setenv("HOTLINE_SMS_QUIET_HOURS", "")  # sent at once whatever the hour
    monkeypatch.setenv("HOTLINE_SMS_SENDER", "12345")


def test_a_unit_sends_to_many_from_its_extension_and_delivery_uses_it(city, people):
    outbound.sms_extension_set(actor=people.monitor, unit=city.east, code="07")
    result = outbound.sms_send(
        actor=people.east,
        phones="13911112222\n139 1111 3333，13911112222",
        text="请于明日到现场确认处理结果。",
    )
    assert result.from_number == "1234507"
    assert [s.phone for s in result.sent] == ["13911112222", "13911113333"]  # once each, in order
    rows = Outbox.objects.filter(pk__in=[s.outbox_id for s in result.sent])
    assert {r.headers["sms_from"] for r in rows} == {"1234507"}
    assert AuditLog.objects.filter(action="sms_send", actor=people.east).count() == 1
    gateway = RecordingGateway()
    assert deliver_due(gateway=gateway) == 2
    assert {m["sender"] for m in gateway.sent} == {"1234507"}
    # a unit without an extension sends from the service number (no `from` override)
    outbound.sms_send(actor=people.west, phones="13911114444", text="您反映的问题已转交相关部门。")
    deliver_due(gateway=gateway)
    assert gateway.sent[-1]["sender"] == ""


def test_kannel_is_told_the_extension_number(monkeypatch):
    seen = {}

    class Answer(io.BytesIO):
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

    def fake_urlopen(url, timeout):
        seen.update(urllib.parse.parse_qs(urllib.parse.urlsplit(url).query))
        return Answer(b"0: Accepted for delivery")

    monkeypatch.setattr("hotline.notify.gateways.urllib.request.urlopen", fake_urlopen)
    gateway = KannelGateway(
        url="http://kannel", username="u", password="p", sender="12345", dlr_url="http://x"
    )
    gateway.send(phone="13911112222", text="测试", reference="r1", sender="1234507")
    assert seen["from"] == ["1234507"]
    gateway.send(phone="13911112222", text="测试", reference="r2")
    assert seen["from"] == ["12345"]


def test_bad_input_is_refused_with_field_errors_and_nothing_saved(city, people):
    with pytest.raises(ServiceError) as bad:
        outbound.sms_send(actor=people.east, phones="13911112222, 12345abc", text="内容")
    assert "12345abc" in bad.value.field_errors["phones"][0]
    with pytest.raises(ServiceError) as empty:
        outbound.sms_send(actor=people.east, phones="13911112222", text="  ")
    assert "text" in empty.value.field_errors
    with pytest.raises(ServiceError) as many:
        outbound.sms_send(actor=people.east, phones=",".join(f"139{i:08d}" for i in range(201)), text="x")
    assert "200" in many.value.field_errors["phones"][0]
    west_case = dispatched_to(city, people, city.west)
    with pytest.raises(ServiceError) as other:  # another unit's case is unknown to this user
        outbound.sms_send(actor=people.east, phones="13911112222", text="内容", case_number=west_case.number)
    assert "case_number" in other.value.field_errors
    assert not SmsSent.objects.exists() and not Outbox.objects.filter(channel="sms", template="").exists()
    with pytest.raises(NotAllowed):
        outbound.sms_phrase_add(actor=people.east, text="请保持电话畅通")


def test_extensions_must_not_prefix_each_other_and_are_audited(city, people):
    outbound.sms_extension_set(actor=people.monitor, unit=city.east, code="07")
    for code in ("0", "071", "x1", "1234567"):
        with pytest.raises(ServiceError):
            outbound.sms_extension_set(actor=people.monitor, unit=city.west, code=code)
    outbound.sms_extension_set(actor=people.monitor, unit=city.west, code="08")
    outbound.sms_extension_set(actor=people.monitor, unit=city.east, code="")  # taken away
    assert list(SmsExtension.objects.values_list("code", flat=True)) == ["08"]
    actions = set(AuditLog.objects.values_list("action", flat=True))
    assert {"sms_ext_set", "sms_ext_remove"} <= actions


def test_a_reply_to_the_extension_goes_to_the_units_case(city, people, channel_templates):
    outbound.sms_extension_set(actor=people.monitor, unit=city.east, code="07")
    case = dispatched_to(city, people, city.east)
    outbound.sms_send(
        actor=people.east, phones="13911112222", text="请补充事发地点。", case_number=case.number
    )
    assert mo(id="mo-1", to="1234507", text="地点在幸福路12号门口") == 200
    assert mo(id="mo-1", to="1234507", text="地点在幸福路12号门口") == 200  # retried by smsbox: once
    event = CaseEvent.objects.get(case=case, action=Action.CITIZEN_MESSAGE)
    assert event.opinion == "地点在幸福路12号门口"
    message = ChannelMessage.objects.get(channel="sms", account="1234507")
    assert message.case_id == case.pk and message.kind == "append"
    assert Outbox.objects.filter(template="channel_appended", address="13911112222").count() == 1
    assert Case.objects.count() == 1  # no second case
    receipt = Outbox.objects.get(template="channel_appended", address="13911112222")
    assert receipt.headers["sms_from"] == "1234507"  # the receipt comes from the extension too
    # a phone the unit wrote a notice to (no case): the answer is kept as the unit's reply, no case made
    outbound.sms_send(actor=people.east, phones="13911118888", text="明日停水，请做好准备。")
    assert mo(id="mo-2", **{"from": "13911118888"}, to="1234507", text="收到") == 200
    kept = ChannelMessage.objects.get(external_id="mo-2")
    assert kept.kind == "unit_reply" and kept.case is None and Case.objects.count() == 1
    # a phone the unit never wrote to: a request of its own, advised to the unit, acknowledged from the extension
    assert mo(id="mo-3", **{"from": "13911119999"}, to="1234507", text="投诉：东区幸福路井盖缺失") == 200
    new = ChannelMessage.objects.get(external_id="mo-3").case
    assert new is not None and new.origin["sms_extension"] == "07" and new.origin["sms_unit"] == city.east.pk
    assert default_main_unit(new)[0] == city.east and "1234507" in default_main_unit(new)[1]
    ack = Outbox.objects.get(template="channel_received", address="13911119999")
    assert ack.headers["sms_from"] == "1234507"
    replies = outbound.recent_replies(user=people.east)
    assert {r["text"] for r in replies} == {"地点在幸福路12号门口", "收到", "投诉：东区幸福路井盖缺失"}
    assert outbound.recent_replies(user=people.west) == []  # another unit sees none of them


def test_summary_per_day_and_unit_is_scoped_and_exported(city, people):
    outbound.sms_extension_set(actor=people.monitor, unit=city.east, code="07")
    east = outbound.sms_send(actor=people.east, phones="13911112222,13911113333,13911114444", text="通知一")
    outbound.sms_send(actor=people.west, phones="13911115555", text="通知二")
    first, second = (s.outbox_id for s in east.sent[:2])
    Outbox.objects.filter(pk=first).update(status=OutboxStatus.DELIVERED)
    Outbox.objects.filter(pk=second).update(status=OutboxStatus.FAILED)
    assert mo(id="mo-9", to="1234507", text="收到，谢谢") == 200
    today = timezone.localdate(outbound.clock.now())
    rows = outbound.summary(user=people.monitor, start=today, end=today)
    by_unit = {r["unit"]: r for r in rows}
    assert by_unit[city.east.name] == {
        "day": today, "unit": city.east.name, "extension": "07",
        "sent": 3, "delivered": 1, "failed": 1, "pending": 1, "received": 1,
    }  # fmt: skip
    assert by_unit[city.west.name]["sent"] == 1
    assert [r["unit"] for r in outbound.summary(user=people.east, start=today, end=today)] == [city.east.name]
    with pytest.raises(ServiceError):
        outbound.summary(user=people.monitor, start=today, end=today.replace(year=today.year - 2))

    client = Client()
    client.force_login(people.east)
    page = client.get("/intake/sms/summary/")
    assert page.status_code == 200 and city.east.name in page.content.decode()
    assert city.west.name not in page.content.decode().split('data-testid="sms-summary"')[1]
    export = client.get(f"/intake/sms/summary/?start={today}&end={today}&format=csv")
    table = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    assert table[0][:4] == ["日期", "单位", "扩展号", "发送"]
    assert table[1] == [today.isoformat(), city.east.name, "07", "3", "1", "1", "1", "1"] and len(table) == 2
    assert client.get("/intake/sms/summary/?start=bad").status_code == 400
    assert client.get("/intake/sms/settings/").status_code == 404  # only the office manages phrases


def test_screens_send_and_manage_phrases(city, people):
    client = Client()
    client.force_login(people.monitor)
    assert (
        client.post(
            "/intake/sms/settings/",
            {"action": "phrase-add", "text": "请保持电话畅通，工作人员将与您联系。", "order": "5"},
        ).status_code
        == 302
    )
    phrase = SmsPhrase.objects.get()
    page = client.get("/intake/sms/").content.decode()
    assert phrase.text in page
    bad = client.post("/intake/sms/", {"phones": "123", "text": "x"})
    assert bad.status_code == 400 and "error-phones" in bad.content.decode()
    ok = client.post("/intake/sms/", {"phones": "13911112222", "text": phrase.text})
    assert ok.status_code == 302
    assert SmsSent.objects.get().unit_id == city.office.pk
    assert (
        client.post("/intake/sms/settings/", {"action": "phrase-remove", "phrase": phrase.pk}).status_code
        == 302
    )
    assert not SmsPhrase.objects.exists()
    outsider = Client()
    outsider.force_login(people.east)
    assert (
        outsider.post("/intake/sms/settings/", {"action": "phrase-add", "text": "不该成功"}).status_code
        == 404
        and not SmsPhrase.objects.exists()
    )


def test_the_send_screen_masks_numbers_and_reveals_them_only_to_allowed_roles_audited(
    city, people, channel_templates
):
    """短信发送's lists (recent sends, replies received) show numbers masked as every other screen does; a role
    that sees personal data reveals them on request, and that view is audited."""
    outbound.sms_extension_set(actor=people.monitor, unit=city.east, code="07")
    outbound.sms_send(actor=people.east, phones="13911112222", text="请于明日到现场确认处理结果。")
    assert mo(id="mo-7", **{"from": "13911119999"}, to="1234507", text="投诉：东区幸福路井盖缺失") == 200
    client = Client()
    client.force_login(people.east)
    page = client.get("/intake/sms/").content.decode()
    sent = page.split('data-testid="sms-sent"')[1]
    replies = page.split('data-testid="sms-replies"')[1].split("</table>")[0]
    assert "139****2222" in sent and "139****9999" in replies
    assert "13911112222" not in page and "13911119999" not in page
    assert 'data-testid="sms-reveal"' not in page  # this role may not see full numbers
    refused = client.post("/intake/sms/", {"action": "reveal"})
    assert refused.status_code == 400 and "13911119999" not in refused.content.decode()
    assert not AuditLog.objects.filter(object_type="intake.smssent", action=AuditLog.Action.VIEW).exists()
    assert SmsSent.objects.count() == 1  # the reveal is not a send

    office = Client()
    office.force_login(people.monitor)
    masked = office.get("/intake/sms/").content.decode()
    assert 'data-testid="sms-reveal"' in masked and "13911112222" not in masked
    revealed = office.post("/intake/sms/", {"action": "reveal"})
    assert revealed.status_code == 200
    body = revealed.content.decode()
    assert "13911112222" in body and "13911119999" in body and 'data-testid="revealed"' in body
    audit = AuditLog.objects.get(object_type="intake.smssent", action=AuditLog.Action.VIEW)
    assert audit.actor == people.monitor and audit.changes["rows"] == 2
    assert SmsSent.objects.count() == 1
