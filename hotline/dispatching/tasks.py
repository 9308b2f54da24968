from __future__ import annotations

from celery import shared_task

from .services import scheduled_dispatch_run, scheduled_training


@shared_task(ignore_result=False)
def retrain_task() -> int | None:
    """Retrain the auto-dispatch model on the closed cases (daily); the new version's number, None if too few."""
    return scheduled_training()


@shared_task(ignore_result=False)
def scheduled_dispatch_task() -> int:
    """Send the "automatic scheduled" cases due at the office's dispatch times (every minute)."""
    return scheduled_dispatch_run()
