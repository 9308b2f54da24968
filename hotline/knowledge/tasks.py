from __future__ import annotations

from celery import shared_task

from .indexing import sync_items


@shared_task(ignore_result=True, autoretry_for=(Exception,), retry_backoff=2, max_retries=5)
def sync_items_task(item_ids: list[int]) -> None:
    """Re-read and (re)index or remove these items. Routed to the `kb-index` queue: run one worker process on it,
    since the embedded index has a single writer (settings.CELERY_TASK_ROUTES)."""
    sync_items(item_ids)
