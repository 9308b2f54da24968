from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=False)
def recordings_expire_task() -> int:
    """REC-1 retention: delete recordings past their kind's retention and mark their rows (hourly)."""
    from .services import recordings_expire

    return recordings_expire()
