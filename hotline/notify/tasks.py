from __future__ import annotations

from celery import shared_task

from .services import deliver_due


@shared_task(ignore_result=False)
def deliver_task() -> int:
    return deliver_due()
