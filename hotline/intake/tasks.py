from __future__ import annotations

from celery import shared_task

from .mail import poll_configured_mailbox


@shared_task(ignore_result=False)
def poll_mailbox_task() -> int:
    return poll_configured_mailbox()


@shared_task(ignore_result=True)
def wechat_media_task(account_pk: int, case_pk: int, open_id: str, media_ids: list[str]) -> int:
    from .wechat.media import fetch_and_attach

    return fetch_and_attach(account_pk, case_pk, open_id, media_ids)


@shared_task(ignore_result=True)
def wechat_progress_task(case_pk: int, stage: str) -> bool:
    from .wechat.progress import send_progress

    return send_progress(case_pk, stage)
