"""Scheduled reports: run times and periods by hand, recipients limited to the scheduler's scope, each recipient's
copy run in that recipient's own scope and e-mailed as Excel through a real SMTP listener on 127.0.0.1, retried
when the server is down and never sent twice; the page's 400s and 404s."""

from __future__ import annotations

import datetime as dt
from io import BytesIO

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from hotline.analytics.models import ReportSchedule, SavedReport, ScheduledDelivery
from hotline.analytics.reports import schedules
from hotline.analytics.reports.models import DeliveryStatus, Frequency
from hotline.common import clock
from hotline.common.models import AuditLog
from hotline.orgs.models import Role
from tests.analytics.reports_fixture import SH, build
from tests.factories import user
from tests.smtp_listener import SmtpListener

CREATED = dt.datetime(2026, 11, 30, 10, tzinfo=SH)
SLOT = dt.datetime(2026, 12, 1, 7, tzinfo=SH)
QUERY = {"period": ["month"], "rows": ["case_type"], "cols": ["district"], "measure": ["intake_volume"]}


def test_run_times_and_periods_by_hand():
    monday_after = dt.datetime(2026, 11, 24, 8, tzinfo=SH)  # a Tuesday, 08:00
    assert schedules.next_slot(Frequency.DAILY, 7, monday_after) == dt.datetime(2026, 11, 25, 7, tzinfo=SH)
    assert schedules.next_slot(Frequency.DAILY, 9, monday_after) == dt.datetime(2026, 11, 24, 9, tzinfo=SH)
    assert schedules.next_slot(Frequency.WEEKLY, 7, monday_after) == dt.datetime(2026, 11, 30, 7, tzinfo=SH)
    assert schedules.next_slot(Frequency.MONTHLY, 7, monday_after) == SLOT
    assert schedules.next_slot(Frequency.MONTHLY, 7, SLOT) == dt.datetime(2027, 1, 1, 7, tzinfo=SH)
    assert schedules.next_slot(Frequency.MONTHLY, 7, dt.datetime(2026, 12, 31, 23, tzinfo=SH)) == dt.datetime(
        2027, 1, 1, 7, tzinfo=SH
    )
    d = dt.date
    assert schedules.slot_period(Frequency.DAILY, SLOT) == (d(2026, 11, 30), d(2026, 11, 30))
    assert schedules.slot_period(Frequency.WEEKLY, dt.datetime(2026, 11, 30, 7, tzinfo=SH)) == (
        d(2026, 11, 23),
        d(2026, 11, 29),
    )
    assert schedules.slot_period(Frequency.MONTHLY, SLOT) == (d(2026, 11, 1), d(2026, 11, 30))
    assert schedules.slot_period(Frequency.MONTHLY, dt.datetime(2027, 1, 1, 7, tzinfo=SH)) == (
        d(2026, 12, 1),
        d(2026, 12, 31),
    )


@pytest.fixture
def mailed(city, people, settings):
    build(city, people)
    for person, address in (
        (people.dispatcher, "office@example.test"),
        (people.east_leader, "east@example.test"),
    ):
        person.email = address
        person.save(update_fields=["email"])
    listener = SmtpListener().start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", listener.port, 5
    yield listener
    listener.stop()


def _sheet(received):
    (part,) = [p for p in received.message.iter_attachments()]
    assert part.get_filename() == "report-2026-11-01.xlsx"
    rows = [list(r) for r in load_workbook(BytesIO(part.get_content())).active.iter_rows(values_only=True)]
    return {r[0]: tuple(r[1:]) for r in rows if r and r[0] is not None}


def test_each_recipient_gets_the_report_in_their_own_scope_by_smtp(mailed, city, people):
    report = SavedReport.objects.create(
        name="月度受理", owner=people.dispatcher, params=QUERY, created_at=CREATED, updated_at=CREATED
    )
    with clock.frozen_now(CREATED):
        schedule = schedules.schedule_create(
            user=people.dispatcher,
            report_id=report.pk,
            frequency="monthly",
            hour="7",
            recipient_ids=[people.dispatcher.pk, people.east_leader.pk],
        )
    assert schedule.next_run_at == SLOT
    assert schedules.run_due(now=SLOT - dt.timedelta(minutes=1)) == 0  # not yet
    with clock.frozen_now(SLOT + dt.timedelta(minutes=3)):
        assert schedules.run_due() == 2
        assert schedules.run_due() == 0  # a second round sends nothing again
    by_to = {r.recipients[0]: r for r in mailed.messages}
    assert set(by_to) == {"office@example.test", "east@example.test"}
    office, east = _sheet(by_to["office@example.test"]), _sheet(by_to["east@example.test"])
    # November (1–30): A, B complaints and D consultation in 东湖区, C consultation in 西湖区; G is December
    assert office["统计范围"][0] == "全市" and office["统计区间"][0] == "2026-11-01 — 2026-11-30"
    assert (
        office["咨询"][:3] == (1, 1, 2)
        and office["投诉"][:3] == (2, 0, 2)
        and office["合计"][:3] == (3, 1, 4)
    )
    # the district leader: only the cases given to 东湖区's subtree (A, B); D was answered at intake, C is West's
    assert east["统计范围"][0] == "东湖区及其下级单位"
    assert east["投诉"][:2] == (2, 2) and east["合计"][:2] == (2, 2) and "咨询" not in east
    assert "月度受理" in str(by_to["east@example.test"].message["Subject"])
    schedule.refresh_from_db()
    assert schedule.next_run_at == dt.datetime(2027, 1, 1, 7, tzinfo=SH) and schedule.last_run_at is not None
    assert ScheduledDelivery.objects.filter(schedule=schedule, status=DeliveryStatus.SENT).count() == 2
    assert AuditLog.objects.filter(object_type="analytics.crosstab", actor=people.east_leader).exists()


def test_a_failed_send_is_retried_and_a_recipient_out_of_scope_is_skipped(mailed, city, people):
    report = SavedReport.objects.create(
        name="东湖区", owner=people.dispatcher, params={**QUERY, "unit": [str(city.east.pk)]},
        created_at=CREATED, updated_at=CREATED,
    )  # fmt: skip
    with clock.frozen_now(CREATED):
        schedule = schedules.schedule_create(
            user=people.dispatcher, report_id=report.pk, frequency="monthly",
            recipient_ids=[people.dispatcher.pk, people.east_leader.pk],
        )  # fmt: skip
    port = mailed.port
    mailed.stop()  # the mail server is down
    with clock.frozen_now(SLOT):
        assert schedules.run_due() == 0
    assert set(ScheduledDelivery.objects.values_list("status", flat=True)) == {DeliveryStatus.FAILED}
    schedule.refresh_from_db()
    assert schedule.next_run_at == SLOT  # still due: retried at the next round
    # meanwhile the district leader moves to another district: 东湖区 is no longer theirs
    people.east_leader.unit = city.west
    people.east_leader.save(update_fields=["unit"])
    mailed.start(port)
    with clock.frozen_now(SLOT + dt.timedelta(minutes=5)):
        assert schedules.run_due() == 1
    (received,) = mailed.messages
    assert received.recipients == ["office@example.test"]
    skipped = ScheduledDelivery.objects.get(recipient=people.east_leader)
    assert skipped.status == DeliveryStatus.SKIPPED and "权限" in skipped.detail
    assert ScheduledDelivery.objects.get(recipient=people.dispatcher).attempts == 2
    schedule.refresh_from_db()
    assert schedule.next_run_at > SLOT


def test_recipients_only_from_the_schedulers_scope_and_bad_input_is_400(mailed, city, people, client):
    west_leader = user("west_leader", city.west, Role.UNIT_LEADER)
    west_leader.email = "west@example.test"
    west_leader.save(update_fields=["email"])
    liyuan = people.liyuan_leader
    liyuan.email = "liyuan@example.test"
    liyuan.save(update_fields=["email"])
    client.force_login(people.east_leader)
    url = reverse("analytics:report-schedules")
    ok = {"source": "preset:by_type", "frequency": "weekly", "hour": "7", "recipients": [str(liyuan.pk)]}
    page = client.get(url)
    html = page.content.decode()
    assert page.status_code == 200 and f'data-recipient="{liyuan.pk}"' in html
    assert f'data-recipient="{west_leader.pk}"' not in html
    for bad, field in (
        ({**ok, "recipients": [str(west_leader.pk)]}, "recipients"),  # another district's leader
        ({**ok, "recipients": [str(people.west.pk)]}, "recipients"),  # no e-mail, another unit
        ({**ok, "recipients": ["x"]}, "recipients"),
        ({**ok, "recipients": []}, "recipients"),
        ({**ok, "frequency": "hourly"}, "frequency"),
        ({**ok, "hour": "24"}, "hour"),
        ({**ok, "source": "preset:nope"}, "report"),
        ({**ok, "source": "report:999999"}, "report"),
    ):
        response = client.post(url, bad)
        assert response.status_code == 400, bad
        assert f'data-field="{field}"' in response.content.decode()
    assert not ReportSchedule.objects.exists()  # nothing half-saved
    # a recipient who could not run the report in their own scope is refused up front (the first-contact
    # resolution preset has no unit side)
    client.force_login(people.dispatcher)
    refused = client.post(url, {**ok, "source": "preset:consult_fcr_by_bureau"})
    assert refused.status_code == 400 and not ReportSchedule.objects.exists()
    client.force_login(people.east_leader)
    assert client.post(url, ok).status_code == 302
    schedule = ReportSchedule.objects.get()
    assert list(schedule.recipients.all()) == [liyuan]
    delete = reverse("analytics:report-schedule-delete", args=[schedule.pk])
    for other in (people.liyuan_leader, people.dispatcher):  # not the owner: 404, nothing deleted
        client.force_login(other)
        assert client.post(delete).status_code == 404
        assert delete not in client.get(url).content.decode()  # nor listed for them
    assert ReportSchedule.objects.filter(pk=schedule.pk).exists()
    client.force_login(people.agent)  # no right to read figures at all
    assert client.get(url).status_code == 403
    client.force_login(people.east_leader)
    assert client.post(delete).status_code == 302 and not ReportSchedule.objects.exists()


def test_a_call_report_is_mailed_to_the_centre_only(mailed, city, people, client):
    """Call reports (no unit side) can be scheduled by and for those who see the whole centre."""
    from rest_framework.exceptions import ValidationError

    from hotline.telephony.models import Call, CallStatus, Disposition

    Call.objects.create(
        call_id="sched-1", caller="13800000000", dialed="12345", status=CallStatus.ENDED,
        started_at=dt.datetime(2026, 11, 12, 9, tzinfo=SH), disposition=Disposition.IVR_END,
    )  # fmt: skip
    with pytest.raises(ValidationError) as refused:
        schedules.schedule_create(
            user=people.east_leader, preset="calls:volume", frequency="monthly",
            recipient_ids=[people.east_leader.pk],
        )  # fmt: skip
    assert "话务报表" in str(refused.value.detail["report"])
    with pytest.raises(ValidationError) as refused, clock.frozen_now(CREATED):
        schedules.schedule_create(
            user=people.dispatcher, preset="calls:volume", frequency="monthly",
            recipient_ids=[people.dispatcher.pk, people.east_leader.pk],
        )  # fmt: skip
    assert "话务报表" in str(refused.value.detail["recipients"])
    with pytest.raises(ValidationError):
        schedules.schedule_create(
            user=people.dispatcher,
            preset="calls:nope",
            frequency="monthly",
            recipient_ids=[people.dispatcher.pk],
        )
    with clock.frozen_now(CREATED):
        schedule = schedules.schedule_create(
            user=people.dispatcher,
            preset="calls:volume",
            frequency="monthly",
            recipient_ids=[people.dispatcher.pk],
        )
    assert schedules.source_name(schedule) == "综合话务量"
    with clock.frozen_now(SLOT):
        assert schedules.run_due() == 1
    (received,) = mailed.messages
    sheet = _sheet(received)
    assert sheet["统计区间"][0] == "2026-11-01 — 2026-11-30"
    assert sheet["2026-11-12"][0] == 1  # one inbound call on the 12th, daily buckets
    assert "综合话务量" in str(received.message["Subject"])
    assert AuditLog.objects.filter(object_type="analytics.calls-volume", actor=people.dispatcher).exists()
    client.force_login(people.dispatcher)
    page = client.get(reverse("analytics:report-schedules")).content.decode()
    assert 'value="preset:calls:volume"' in page and "综合话务量" in page
    client.force_login(people.east_leader)
    east = client.get(reverse("analytics:report-schedules")).content.decode()
    assert "preset:calls:" not in east
