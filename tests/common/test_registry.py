"""Each package registers its periodic jobs once; the embedded worker and Celery beat read the same list."""

from __future__ import annotations

import dataclasses

from django.core.management import call_command

from hotline.common import registry
from hotline.common.registry import choice_label, periodic_jobs, register_job

EXPECTED: dict[str, tuple[str | None, float]] = {
    "citizens-imports": (None, 5.0),
    "notify-deliver": ("hotline.notify.tasks.deliver_task", 5.0),
    "sla-sweep": ("hotline.sla.tasks.sweep_task", 60.0),
    "duplicates-prune": ("hotline.cases.tasks.prune_duplicate_index_task", 24 * 3600.0),
    "duplicates-embed": ("hotline.cases.tasks.embed_pending_task", 2.0),
    "intake-mailbox": ("hotline.intake.tasks.poll_mailbox_task", 60.0),
    "integrations-deliver": ("hotline.integrations.tasks.deliver_task", 5.0),
    "case-number-sequences-prune": ("hotline.cases.tasks.prune_number_sequences_task", 24 * 3600.0),
    "dispatching-retrain": ("hotline.dispatching.tasks.retrain_task", 24 * 3600.0),
    "dispatching-scheduled": ("hotline.dispatching.tasks.scheduled_dispatch_task", 60.0),
    "case-events": ("hotline.cases.tasks.case_events_task", 1.0),
    "analytics-scheduled-reports": ("hotline.analytics.tasks.scheduled_reports_task", 300.0),
    "analytics-facts": ("hotline.analytics.tasks.facts_task", 5.0),
    "telephony-recordings-expire": ("hotline.telephony.tasks.recordings_expire_task", 3600.0),
}


def test_packages_register_their_jobs_once_with_one_interval():
    assert {job.name: (job.task, job.seconds) for job in periodic_jobs()} == EXPECTED


def test_celery_beat_schedules_the_registered_jobs(db):
    from config.celery import app

    app.loader.import_default_modules()
    app.finalize()
    schedule = app.conf.beat_schedule
    beat = {name: task for name, task in EXPECTED.items() if task[0] is not None}
    assert {name: (entry["task"], entry["schedule"]) for name, entry in schedule.items()} == beat


def test_run_worker_runs_every_registered_job(db, monkeypatch):
    ran: list[str] = []
    monkeypatch.setattr(registry, "_JOBS", dict(registry._JOBS))  # put back after the test
    for job in periodic_jobs():
        register_job(dataclasses.replace(job, run=lambda name=job.name: ran.append(name)))
    call_command("run_worker", "--once")
    assert sorted(ran) == sorted(EXPECTED)


def test_labels_come_from_the_registering_package():
    assert choice_label("case_status", "submitted") == "待派单"
    assert choice_label("case_action", "dispatch") == "派单"
    assert choice_label("sla_stage", "nonexistent") == "nonexistent"
    assert choice_label("unknown_kind", "x") == "x"
    assert register_job  # the API a new package uses in its AppConfig.ready()
