from __future__ import annotations

from celery import shared_task

from .duplicates import embed_pending, index_prune


@shared_task(ignore_result=False)
def prune_duplicate_index_task() -> int:
    """Drop duplicate-screening keys older than any window screened or clustered over (daily)."""
    return index_prune()


@shared_task(ignore_result=False)
def prune_number_sequences_task() -> int:
    """Drop the daily case-number sequences of past days (PostgreSQL, daily)."""
    from .services import number_sequences_prune

    return number_sequences_prune()


@shared_task(ignore_result=True)
def case_events_task() -> int:
    """Run the queued case-event receivers (cases/events.py), after commit, off the request."""
    from .events import run_queued

    return run_queued()


@shared_task(ignore_result=False)
def embed_pending_task() -> int:
    """Embed the requests registered or rewritten since the last round (duplicate screening; every 2 s)."""
    return embed_pending()
