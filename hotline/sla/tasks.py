from __future__ import annotations

from celery import shared_task

from .sweep import sweep


@shared_task(ignore_result=False)
def sweep_task() -> dict[str, int]:
    result = sweep()
    return {"clocks": result.clocks, **result.alerts}
