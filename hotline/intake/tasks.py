from __future__ import annotations

from celery import shared_task

from .mail import poll_configured_mailbox


@shared_task(ignore_result=False)
def poll_mailbox_task() -> int:
    return poll_configured_mailbox()
