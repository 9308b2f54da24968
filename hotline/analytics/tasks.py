from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=False)
def scheduled_reports_task() -> int:
    from .reports.schedules import run_due

    return run_due()
