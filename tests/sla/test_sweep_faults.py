"""The sweep under stress: two at once, and a crash in the middle."""

from __future__ import annotations

import datetime as dt
import threading
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, connections

from hotline.common import clock
from hotline.notify.models import Outbox
from hotline.sla import sweep as sweep_module
from hotline.sla.models import Alert, AlertKind, Clock, SweepRun
from hotline.sla.sweep import sweep
from tests.conftest import dispatched_to
from tests.notices import RecordingGateway, cases_announced, deliver_everything, per_recipient

SH = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 11, 23, 10, tzinfo=SH)
OVERDUE = dt.datetime(2026, 12, 1, 10, tzinfo=SH)  # one working day past the 5-day deadline


def many_cases(city, people, n: int) -> None:
    with clock.frozen_now(START):
        for _ in range(n):
            dispatched_to(city, people, city.east)


def yellow_count() -> int:
    return Alert.objects.filter(kind=AlertKind.YELLOW, clock__stage="reply").count()


def test_a_crash_in_the_middle_loses_nothing_and_doubles_nothing(city, people, monkeypatch):
    people.east.phone, people.east_leader.phone = "13900000001", "13900000002"
    for user in (people.east, people.east_leader):
        user.save(update_fields=["phone"])
    many_cases(city, people, 5)
    original = sweep_module._record
    calls = {"n": 0}

    def crash_on_second_batch(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker killed")
        return original(*args, **kwargs)

    monkeypatch.setattr(sweep_module, "_record", crash_on_second_batch)
    with clock.frozen_now(OVERDUE), pytest.raises(RuntimeError):
        sweep(batch_size=2)
    first_batch = Alert.objects.count()
    assert first_batch > 0 and Outbox.objects.exists()
    monkeypatch.setattr(sweep_module, "_record", original)
    with clock.frozen_now(OVERDUE):
        sweep(batch_size=2)
    assert yellow_count() == 5
    per_clock = Alert.objects.values("clock_id", "kind").distinct().count()
    assert per_clock == Alert.objects.count()
    # per case: reply yellow to the handler and the leader, sign-for yellow to the handler; never twice. The
    # crashed sweep announced what its committed batch raised (one case), the second sweep the rest in digests.
    notices = per_recipient(Outbox.objects.filter(template="sla_yellow", channel="in_app"), "body")
    assert len(notices) == len(set(notices))
    assert cases_announced(notices) == {"east": 10, "east_leader": 5}
    assert sum(SweepRun.objects.values_list("alerts", flat=True)) == Alert.objects.count()
    # and one SMS per recipient of each notice: the crashed batch's alerts were rolled back, and announced later
    sms = per_recipient(Outbox.objects.filter(channel="sms"), "body")
    gateway = RecordingGateway()
    with clock.frozen_now(OVERDUE):
        deliver_everything(gateway)
    assert len(gateway.sent) == len(sms) == len(set(gateway.sent)) > 0
    assert sorted(gateway.sent) == sorted((address, body) for _, address, body in sms)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks across connections")
def test_two_overlapping_sweeps_raise_everything_once(city, people):
    many_cases(city, people, 30)
    errors: list[Exception] = []
    barrier = threading.Barrier(2)

    def run() -> None:
        try:
            barrier.wait()
            sweep(batch_size=7)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    # One freeze around both threads: the clock is process-wide, and two threads each freezing and restoring it
    # could leave it frozen for every later test (they did: later call timings measured 0 ms).
    with clock.frozen_now(OVERDUE):
        threads = [threading.Thread(target=run) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert errors == []
    assert yellow_count() == 30
    # each sweep announces the cards it raised: together every case once, per recipient and stage
    notices = per_recipient(Outbox.objects.filter(template="sla_yellow", channel="in_app"), "body")
    assert cases_announced(notices) == {"east": 60, "east_leader": 30}
    assert sum(SweepRun.objects.values_list("alerts", flat=True)) == Alert.objects.count()
    assert not SweepRun.objects.filter(notified_at__isnull=True).exists()
    assert not Clock.objects.filter(stopped_at__isnull=True, next_alert_at__lte=OVERDUE).exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="worker threads need their own PostgreSQL connections"
)
def test_a_sweep_with_worker_threads_raises_what_one_thread_does(city, people):
    many_cases(city, people, 30)
    with clock.frozen_now(OVERDUE):
        result = sweep(
            batch_size=4, workers=3
        )  # 60 due clocks (reply and sign-for): 15 batches over 3 threads
    assert yellow_count() == 30
    assert Alert.objects.values("clock_id", "kind").distinct().count() == Alert.objects.count()
    assert sum(result.alerts.values()) == Alert.objects.count() and result.clocks == 60
    # one digest per audience, stage and kind for the whole sweep, whatever the threads and batches
    notices = per_recipient(Outbox.objects.filter(template="sla_yellow", channel="in_app"), "body")
    assert len(notices) == 3 and cases_announced(notices) == {"east": 60, "east_leader": 30}
    with clock.frozen_now(OVERDUE):
        assert not sweep(batch_size=4, workers=3).alerts  # nothing owed twice


def test_without_database_keys_deleting_a_clock_still_removes_its_alerts(city, people):
    """Alerts keep no database key to their clock, nor timeline events to their unit and assignment (the sweep
    writes millions of them at once): deleting a clock must still remove its alerts, and an event's assignment
    its events, through Django; a unit named by an event stays protected."""
    from django.db.models import ProtectedError

    from hotline.cases.models import CaseEvent

    many_cases(city, people, 1)
    with clock.frozen_now(OVERDUE):
        sweep()
    alert = Alert.objects.select_related("clock").filter(kind=AlertKind.YELLOW).first()
    assert alert is not None
    event = CaseEvent.objects.filter(action="sla_yellow", assignment__isnull=False).first()
    assert event is not None and event.unit_id is not None
    with pytest.raises(ProtectedError):
        event.unit.delete()  # type: ignore[union-attr]
    alerts = set(alert.clock.alerts.values_list("pk", flat=True))
    alert.clock.delete()
    assert not Alert.objects.filter(pk__in=alerts).exists()
    event.assignment.delete()  # type: ignore[union-attr]
    assert not CaseEvent.objects.filter(pk=event.pk).exists()


def test_a_sweep_that_died_before_its_notices_is_announced_by_the_next(city, people, monkeypatch):
    """A sweep whose process dies after its batches committed, before its notices: the next sweep finds the run
    still owed and announces its alerts, once; warnings whose deadline has passed meanwhile are never sent."""
    many_cases(city, people, 3)
    reply = Clock.objects.filter(stage="reply").order_by("id").first()
    assert reply is not None and reply.warn_at is not None

    original = sweep_module._notify

    def dies(ctx, run, tally, **kwargs):
        if run.run_id == ctx.run_id:  # the sweep's own notices: the process dies before them
            raise RuntimeError("process killed")
        return original(ctx, run, tally, **kwargs)

    monkeypatch.setattr(sweep_module, "_notify", dies)
    with clock.frozen_now(reply.warn_at), pytest.raises(RuntimeError):
        sweep()  # warnings raised and committed, never announced
    assert Alert.objects.filter(kind=AlertKind.WARNING).count() == 3
    with clock.frozen_now(OVERDUE), pytest.raises(RuntimeError):
        sweep()  # announces the first run (its warnings are past their deadline now), raises the reply cards
    assert not Outbox.objects.filter(template="sla_warning").exists() and yellow_count() == 3
    assert SweepRun.objects.filter(notified_at__isnull=True).count() == 1

    monkeypatch.setattr(sweep_module, "_notify", original)
    with clock.frozen_now(OVERDUE):
        assert not sweep().alerts  # nothing new: it announces the run left behind
    assert not SweepRun.objects.filter(notified_at__isnull=True).exists()
    assert not Outbox.objects.filter(template="sla_warning").exists()  # past their deadline: never sent
    notices = per_recipient(Outbox.objects.filter(template="sla_yellow", channel="in_app"), "body")
    assert cases_announced(notices) == {"east": 6, "east_leader": 3}
    with clock.frozen_now(OVERDUE):
        sweep()
    assert per_recipient(Outbox.objects.filter(template="sla_yellow", channel="in_app"), "body") == notices


def test_a_digest_links_to_exactly_its_cases(city, people):
    from django.test import Client

    many_cases(city, people, 3)
    with clock.frozen_now(START + dt.timedelta(days=2)):
        dispatched_to(city, people, city.east)  # due later: not in the digest
    with clock.frozen_now(OVERDUE):
        sweep()
    (digest,) = Outbox.objects.filter(
        template="sla_yellow", channel="in_app", body__contains="有 3 件工单答复"
    )
    client = Client()
    client.force_login(people.east_leader)
    page = client.get(digest.link).content.decode()
    carded = Alert.objects.filter(kind=AlertKind.YELLOW, clock__stage="reply").values_list(
        "case__number", flat=True
    )
    assert len(carded) == 3 and all(number in page for number in carded)
    later = Clock.objects.filter(stage="reply").order_by("-id").values_list("case__number", flat=True).first()
    assert later not in page
