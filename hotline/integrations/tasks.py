from celery import shared_task

from .delivery import deliver_due


@shared_task
def deliver_task() -> int:
    return deliver_due()
