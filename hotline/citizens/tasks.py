from __future__ import annotations

from celery import shared_task


@shared_task(ignore_result=True)
def import_task(job_id: int) -> None:
    """Run one queued bulk import (citizens.jobs)."""
    from .jobs import import_run

    import_run(job_id=job_id)
