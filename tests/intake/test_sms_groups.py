"""SMS-1 contact groups: a unit's groups (scoped, numbers masked, revealing them audited), sending to a group from
the unit's extension, and the per-recipient delivery report filled by Kannel's delivery reports."""

from __future__ import annotations

import pytest
from django.test import Client
from rest_framework.test import APIClient

from hotline.common.errors import NotAllowed, NotFound, ServiceError
from hotline.common.models import AuditLog
from hotline.intake.models import SmsGroup, SmsGroupMember, SmsGroupSend, SmsSent
from hotline.intake.sms import groups, outbound
from hotline.notify.dlr import dlr_secret, sign_reference
from hotline.notify.models import Outbox
from hotline.notify.services import deliver_due
from tests.conftest import dispatched_to
from tests.intake.test_sms_outbound import RecordingGateway

pytestmark = pytest.mark.django_db

MEMBERS = "王主任 13911112222\n李师傅：139 1111 3333\n13911114444\n13911112222"


@pytest.fixture(autouse=True)
def _awake(monkeypatch):
    monkeypatch.setenv("HOTLINE_SMS_QUIET_HOURS", "")
    monkeypatch.setenv("HOTLINE_SMS_SENDER", "12345")


def dlr(outbox_id: int, status: str, answer: str = "") -> int:
    return (
        Client()
        .get(
            "/notify/kannel/dlr/",
            {"key": dlr_secret(), "ref": sign_reference(outbox_id), "status": status, "answer": answer},
        )
        .status_code
    )


def test_a_group_is_the_units_with_labels_once_each_and_audited(city, people):
    group = groups.sms_group_create(actor=people.east, name="网格员", note="东区各网格", phones=MEMBERS)
    assert group.unit == city.east
    assert list(group.members.values_list("label", "phone")) == [
        ("王主任", "13911112222"),
        ("李师傅", "13911113333"),
        ("", "13911114444"),
    ]
    assert AuditLog.objects.filter(action="sms_group_add", actor=people.east).count() == 1
    # shown masked
    shown = groups.group_members(group=group)
    assert [m["phone"] for m in shown] == ["139****2222", "139****3333", "139****4444"]
    # same name in the same unit refused, in another unit fine
    with pytest.raises(ServiceError) as twice:
        groups.sms_group_create(actor=people.east, name="网格员")
    assert "name" in twice.value.field_errors
    groups.sms_group_create(actor=people.west, name="网格员")
    assert groups.sms_group_members_add(actor=people.east, pk=group.pk, phones="13911114444,13911115555") == 1
    member = group.members.get(phone="13911115555")
    groups.sms_group_member_remove(actor=people.east, pk=group.pk, member=member.pk)
    assert group.members.count() == 3


def test_another_units_user_finds_no_group_and_a_leader_above_does(city, people):
    group = groups.sms_group_create(actor=people.east_cg, name="城管队员", phones="13911112222")
    with pytest.raises(NotFound):
        groups.group_get(user=people.west, pk=group.pk)
    with pytest.raises(NotFound):
        groups.sms_group_members_add(actor=people.west, pk=group.pk, phones="13911119999")
    with pytest.raises(NotFound):
        groups.sms_group_send(actor=people.west, pk=group.pk, text="不该发出")
    with pytest.raises(NotFound):
        groups.sms_group_delete(actor=people.east, pk=group.pk)  # a sibling unit's handler: not theirs
    assert groups.group_get(user=people.east_leader, pk=group.pk) == group  # the leader above sees it
    assert groups.group_get(user=people.monitor, pk=group.pk) == group  # the office sees all
    assert [g.name for g in groups.groups_visible(user=people.west)] == []
    assert SmsGroupMember.objects.count() == 1 and not Outbox.objects.filter(channel="sms").exists()


def test_revealing_full_numbers_is_for_roles_that_see_them_and_audited(city, people):
    group = groups.sms_group_create(actor=people.monitor, name="值班长", phones="13911112222")
    with pytest.raises(NotAllowed):
        groups.group_reveal(user=people.east, group=group)
    assert [m["phone"] for m in groups.group_reveal(user=people.monitor, group=group)] == ["13911112222"]
    view = AuditLog.objects.get(action=AuditLog.Action.VIEW, object_type="intake.smsgroup")
    assert view.actor == people.monitor and view.object_id == str(group.pk)


def test_sending_to_a_group_and_its_per_recipient_delivery_report(city, people):
    outbound.sms_extension_set(actor=people.monitor, unit=city.east, code="07")
    case = dispatched_to(city, people, city.east)
    group = groups.sms_group_create(actor=people.east, name="网格员", phones=MEMBERS)
    send = groups.sms_group_send(
        actor=people.east, pk=group.pk, text="明日停水，请转告居民。", case_number=case.number
    )
    assert send.recipients == 3
    sent = list(SmsSent.objects.filter(group_send=send).order_by("id"))
    assert [s.phone for s in sent] == ["13911112222", "13911113333", "13911114444"]
    assert {s.extension for s in sent} == {"07"} and {s.case_id for s in sent} == {case.pk}
    assert AuditLog.objects.filter(action="sms_group_send", actor=people.east).count() == 1
    gateway = RecordingGateway()
    assert deliver_due(gateway=gateway) == 3
    assert {m["sender"] for m in gateway.sent} == {"1234507"}
    # Kannel's delivery reports: one delivered, one rejected, one still on its way
    assert dlr(sent[0].outbox_id, "1") == 200
    assert dlr(sent[1].outbox_id, "16", "NACK/0x0000000b/Invalid Destination Address") == 200
    report = groups.send_report(user=people.east, pk=send.pk)
    assert report.counts == {"delivered": 1, "failed": 1, "pending": 1}
    rows = report.rows
    assert [r["phone"] for r in rows] == ["139****2222", "139****3333", "139****4444"]
    assert [r["label"] for r in rows] == ["王主任", "李师傅", ""]
    assert [r["bucket"] for r in rows] == ["delivered", "failed", "pending"]
    assert rows[0]["delivered_at"] is not None and "Invalid Destination" in rows[1]["error"]
    listed = groups.sends_with_counts(user=people.east, group=group)
    assert [(x["send"].pk, x["delivered"], x["failed"], x["pending"]) for x in listed] == [(send.pk, 1, 1, 1)]
    with pytest.raises(NotFound):
        groups.send_report(user=people.west, pk=send.pk)
    # the day's summary counts the group's messages with the unit's others
    today = outbound.timezone.localdate(outbound.clock.now())
    east = {r["unit"]: r for r in outbound.summary(user=people.east, start=today, end=today)}[city.east.name]
    assert (east["sent"], east["delivered"], east["failed"]) == (3, 1, 1)
    # a group that was sent to stays (its report names it)
    with pytest.raises(ServiceError):
        groups.sms_group_delete(actor=people.east, pk=group.pk)


def test_bad_input_is_refused_and_nothing_half_saved(city, people):
    with pytest.raises(ServiceError) as bad:
        groups.sms_group_create(actor=people.east, name="网格员", phones="13911112222\n张三 1391111")
    assert "1391111" in bad.value.field_errors["phones"][0]
    with pytest.raises(ServiceError) as noname:
        groups.sms_group_create(actor=people.east, name="  ")
    assert "name" in noname.value.field_errors
    assert not SmsGroup.objects.exists()
    group = groups.sms_group_create(actor=people.east, name="空组")
    with pytest.raises(ServiceError) as empty:
        groups.sms_group_send(actor=people.east, pk=group.pk, text="通知")
    assert "group" in empty.value.field_errors
    groups.sms_group_members_add(actor=people.east, pk=group.pk, phones="13911112222")
    with pytest.raises(ServiceError) as notext:
        groups.sms_group_send(actor=people.east, pk=group.pk, text=" ")
    assert "text" in notext.value.field_errors
    west_case = dispatched_to(city, people, city.west)
    with pytest.raises(ServiceError) as other:
        groups.sms_group_send(actor=people.east, pk=group.pk, text="通知", case_number=west_case.number)
    assert "case_number" in other.value.field_errors
    with pytest.raises(ServiceError):
        groups.sms_group_members_add(
            actor=people.east, pk=group.pk, phones=",".join(f"139{i:08d}" for i in range(groups.MAX_MEMBERS))
        )
    assert group.members.count() == 1
    assert not SmsGroupSend.objects.exists() and not SmsSent.objects.exists()


def test_api_lists_creates_reveals_sends_and_reports_with_scoping(city, people):
    api = APIClient()
    api.force_authenticate(people.east)
    created = api.post(
        "/api/v1/sms/groups/", {"name": "网格员", "phones": "王主任 13911112222\n13911113333"}, format="json"
    )
    assert created.status_code == 201, created.content
    pk = created.json()["id"]
    assert created.json()["size"] == 2
    assert [g["name"] for g in api.get("/api/v1/sms/groups/").json()] == ["网格员"]
    detail = api.get(f"/api/v1/sms/groups/{pk}/").json()
    assert detail["masked"] and [m["phone"] for m in detail["members"]] == ["139****2222", "139****3333"]
    assert api.get(f"/api/v1/sms/groups/{pk}/?reveal=1").status_code == 403  # a unit handler's role
    bad = api.post(f"/api/v1/sms/groups/{pk}/members/", {"phones": "abc"}, format="json")
    assert bad.status_code == 400 and "phones" in bad.json()["errors"]
    assert api.post(f"/api/v1/sms/groups/{pk}/members/", {"phones": "13911114444"}, format="json").json() == {
        "added": 1
    }
    member = SmsGroupMember.objects.get(phone="13911114444")
    assert api.delete(f"/api/v1/sms/groups/{pk}/members/{member.pk}/").status_code == 204
    assert api.post(f"/api/v1/sms/groups/{pk}/send/", {"text": ""}, format="json").status_code == 400
    sent = api.post(f"/api/v1/sms/groups/{pk}/send/", {"text": "明日停水"}, format="json")
    assert sent.status_code == 201
    body = sent.json()
    assert (body["recipients"], body["pending"]) == (2, 2)
    assert [r["phone"] for r in body["rows"]] == ["139****2222", "139****3333"]
    first = SmsSent.objects.filter(group_send_id=body["id"]).order_by("id").first()
    assert first is not None and dlr(first.outbox_id, "1") == 200
    report = api.get(f"/api/v1/sms/group-sends/{body['id']}/").json()
    assert (report["delivered"], report["pending"]) == (1, 1) and report["rows"][0]["status"] == "delivered"

    office = APIClient()
    office.force_authenticate(people.monitor)
    revealed = office.get(f"/api/v1/sms/groups/{pk}/?reveal=1").json()
    assert [m["phone"] for m in revealed["members"]] == ["13911112222", "13911113333"]
    assert AuditLog.objects.filter(object_type="intake.smsgroup", actor=people.monitor).count() == 1

    other = APIClient()
    other.force_authenticate(people.west)
    assert other.get(f"/api/v1/sms/groups/{pk}/").status_code == 404
    assert other.post(f"/api/v1/sms/groups/{pk}/send/", {"text": "x"}, format="json").status_code == 404
    assert other.get(f"/api/v1/sms/group-sends/{body['id']}/").status_code == 404
    assert other.get("/api/v1/sms/groups/").json() == []
    assert SmsGroupSend.objects.count() == 1


def test_screens_create_send_and_report_scoped(city, people):
    client = Client()
    client.force_login(people.east)
    bad = client.post("/intake/sms/groups/", {"name": "网格员", "phones": "123"})
    assert bad.status_code == 400 and "error-phones" in bad.content.decode()
    made = client.post("/intake/sms/groups/", {"name": "网格员", "phones": "王主任 13911112222"})
    assert made.status_code == 302
    group = SmsGroup.objects.get()
    page = client.get(f"/intake/sms/groups/{group.pk}/").content.decode()
    assert "139****2222" in page and "13911112222" not in page and "显示完整号码" not in page
    assert client.post(f"/intake/sms/groups/{group.pk}/", {"action": "reveal"}).status_code == 400
    sent = client.post(f"/intake/sms/groups/{group.pk}/", {"action": "send", "text": "明日停水"})
    assert sent.status_code == 302
    send = SmsGroupSend.objects.get()
    report = client.get(f"/intake/sms/groups/sends/{send.pk}/").content.decode()
    assert "139****2222" in report and "王主任" in report
    office = Client()
    office.force_login(people.monitor)
    revealed = office.post(f"/intake/sms/groups/{group.pk}/", {"action": "reveal"}).content.decode()
    assert "13911112222" in revealed
    assert AuditLog.objects.filter(object_type="intake.smsgroup", actor=people.monitor).exists()
    outsider = Client()
    outsider.force_login(people.west)
    assert outsider.get(f"/intake/sms/groups/{group.pk}/").status_code == 404
    assert (
        outsider.post(f"/intake/sms/groups/{group.pk}/", {"action": "send", "text": "x"}).status_code == 404
    )
    assert outsider.get(f"/intake/sms/groups/sends/{send.pk}/").status_code == 404
    assert SmsGroupSend.objects.count() == 1
