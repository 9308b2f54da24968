from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=False)
def scheduled_reports_task() -> int:
    from .reports.schedules import run_due

    return run_due()


@shared_task(ignore_result=True)
def facts_task() -> int:
    """Bring the daily facts up to date (analytics/facts): the days marked by case events, today and yesterday."""
    from .facts.build import refresh

    return refresh()
