"""Dispatch modes (FLW-1 × DSP-5): the case's flow template decides how auto-dispatch sends a sure suggestion —
automatic real-time (now), automatic scheduled (by the `dispatching-scheduled` job at the office's times), manual
(never)."""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse

from hotline.cases.events import run_queued
from hotline.cases.models import CaseStatus
from hotline.common import clock
from hotline.common.errors import ServiceError
from hotline.common.registry import periodic_jobs
from hotline.dispatching import services
from hotline.dispatching.models import DispatchMode, DispatchSettings, Outcome, Suggestion
from hotline.flows import services as flow_services
from hotline.flows.defaults import default_flow_json
from tests.conftest import fresh, submitted_case

SH = ZoneInfo("Asia/Shanghai")


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


@pytest.fixture(autouse=True)
def var_dir(settings, tmp_path):
    settings.VAR_DIR = tmp_path
    settings.HOTLINE_DISPATCH_EMBEDDINGS = False
    services._loaded.clear()


@contextlib.contextmanager
def _committed(callbacks):
    with callbacks(execute=True):
        yield
    with callbacks(execute=True):
        run_queued()


def _template(actor, mode: str) -> None:
    data = copy.deepcopy(default_flow_json())
    for step in data["steps"]:
        if step["code"] == "dispatch":
            step["dispatch_mode"] = mode
    version = flow_services.template_import(actor=actor, data=data)
    flow_services.version_submit(actor=actor, version=version)
    flow_services.version_publish(actor=actor, version=version)


@pytest.fixture
def sure(city, people):
    """A catalogue rule that names one unit (confidence 1.0) and auto-dispatch on at 0.9, sending at 14:00."""
    services.matter_create(actor=people.dispatcher, name="住房", unit=city.housing, keywords="烧烤店")
    services.settings_update(
        actor=people.dispatcher,
        auto_dispatch=True,
        threshold="0.9",
        use_model=False,
        auto_actor=people.dispatcher,
        scheduled_times="14:00",
    )


def _submit(city, people, callbacks, moment):
    with clock.frozen_now(moment), _committed(callbacks):
        return submitted_case(city, people)


def test_automatic_realtime_sends_at_once(city, people, sure, django_capture_on_commit_callbacks):
    _template(people.dispatcher, DispatchMode.AUTO_REALTIME)
    case = fresh(_submit(city, people, django_capture_on_commit_callbacks, at(2026, 11, 23, 10)))
    suggestion = Suggestion.objects.get(case=case)
    assert suggestion.dispatch_mode == DispatchMode.AUTO_REALTIME and suggestion.outcome == Outcome.AUTO
    assert case.status == CaseStatus.DISPATCHED and case.main_unit == city.housing


def test_automatic_scheduled_waits_for_the_offices_time(
    city, people, sure, django_capture_on_commit_callbacks
):
    _template(people.dispatcher, DispatchMode.AUTO_SCHEDULED)
    morning = _submit(city, people, django_capture_on_commit_callbacks, at(2026, 11, 23, 10))
    suggestion = Suggestion.objects.get(case=morning)
    assert suggestion.dispatch_mode == DispatchMode.AUTO_SCHEDULED and suggestion.outcome == Outcome.PENDING
    assert fresh(morning).status == CaseStatus.SUBMITTED  # suggested, not sent
    with clock.frozen_now(at(2026, 11, 23, 13, 59)):
        assert services.scheduled_dispatch_run() == 0
    assert fresh(morning).status == CaseStatus.SUBMITTED
    afternoon = _submit(city, people, django_capture_on_commit_callbacks, at(2026, 11, 23, 14, 0, 30))
    with clock.frozen_now(at(2026, 11, 23, 14, 1)), django_capture_on_commit_callbacks(execute=True):
        assert services.scheduled_dispatch_run() == 1  # the morning's case; the one after 14:00 waits
        assert services.scheduled_dispatch_run() == 0  # idempotent
    morning = fresh(morning)
    assert morning.status == CaseStatus.DISPATCHED and morning.main_unit == city.housing
    assert Suggestion.objects.get(case=morning).outcome == Outcome.AUTO
    assert morning.events.filter(action="dispatch", opinion__startswith="智能派单").exists()
    assert fresh(afternoon).status == CaseStatus.SUBMITTED
    with clock.frozen_now(at(2026, 11, 24, 14, 0)):
        assert services.scheduled_dispatch_run() == 1  # the next day's time
    assert fresh(afternoon).status == CaseStatus.DISPATCHED


def test_scheduled_job_leaves_what_the_dispatcher_took_and_what_is_not_sure(
    city, people, sure, django_capture_on_commit_callbacks
):
    _template(people.dispatcher, DispatchMode.AUTO_SCHEDULED)
    case = _submit(city, people, django_capture_on_commit_callbacks, at(2026, 11, 23, 10))
    services.settings_update(
        actor=people.dispatcher,
        auto_dispatch=False,
        threshold="0.9",
        use_model=False,
        auto_actor=people.dispatcher,
    )
    with clock.frozen_now(at(2026, 11, 23, 14, 1)):
        assert services.scheduled_dispatch_run() == 0  # auto-dispatch switched off by the office
    assert fresh(case).status == CaseStatus.SUBMITTED
    assert DispatchSettings.objects.get().scheduled_times == ["14:00"]  # kept when not given


def test_manual_never_sends(client, city, people, sure, django_capture_on_commit_callbacks):
    _template(people.dispatcher, DispatchMode.MANUAL)
    case = _submit(city, people, django_capture_on_commit_callbacks, at(2026, 11, 23, 10))
    suggestion = Suggestion.objects.get(case=case)
    assert suggestion.dispatch_mode == DispatchMode.MANUAL and suggestion.outcome == Outcome.PENDING
    assert suggestion.unit == city.housing and suggestion.confidence == 1.0  # the suggestion is still made
    client.force_login(people.dispatcher)
    page = client.get(reverse("case-detail", args=[case.pk])).content.decode()
    assert "流程模板规定人工派单" in page  # the dispatcher is told why it waits for them
    with clock.frozen_now(at(2026, 11, 23, 14, 1)):
        assert services.scheduled_dispatch_run() == 0
    assert fresh(case).status == CaseStatus.SUBMITTED


def test_a_case_without_template_is_sent_in_real_time(city, people, sure, django_capture_on_commit_callbacks):
    case = fresh(_submit(city, people, django_capture_on_commit_callbacks, at(2026, 11, 23, 10)))
    assert case.status == CaseStatus.DISPATCHED
    assert Suggestion.objects.get(case=case).dispatch_mode == DispatchMode.AUTO_REALTIME


def test_scheduled_times_are_checked_and_the_job_registered(client, people):
    for bad in ("25:00", "9点", ["x"], "1²:00"):
        with pytest.raises(ServiceError) as refused:
            services.settings_update(
                actor=people.dispatcher,
                auto_dispatch=False,
                threshold="0.9",
                use_model=True,
                auto_actor=None,
                scheduled_times=bad,
            )
        assert "scheduled_times" in refused.value.field_errors
    row = services.settings_update(
        actor=people.dispatcher,
        auto_dispatch=False,
        threshold="0.9",
        use_model=True,
        auto_actor=None,
        scheduled_times="16:30，9:05, 16:30",
    )
    assert row.scheduled_times == ["09:05", "16:30"]
    assert services.last_scheduled_time(at(2026, 11, 23, 8), row.scheduled_times) == at(2026, 11, 22, 16, 30)
    assert services.last_scheduled_time(at(2026, 11, 23, 9, 5), row.scheduled_times) == at(2026, 11, 23, 9, 5)

    client.force_login(people.dispatcher)
    answer = client.post(reverse("dispatching:settings"), {"threshold": "0.9", "scheduled_times": "8:61"})
    assert answer.status_code == 400 and "不是 HH:MM" in answer.content.decode()
    assert DispatchSettings.objects.get().scheduled_times == ["09:05", "16:30"]  # nothing half-saved
    client.post(reverse("dispatching:settings"), {"threshold": "0.9", "scheduled_times": "10:00"})
    assert DispatchSettings.objects.get().scheduled_times == ["10:00"]
    page = client.get(reverse("dispatching:catalogue")).content.decode()
    assert 'value="10:00"' in page

    job = next(j for j in periodic_jobs() if j.name == "dispatching-scheduled")
    assert job.task == "hotline.dispatching.tasks.scheduled_dispatch_task" and job.seconds == 60
