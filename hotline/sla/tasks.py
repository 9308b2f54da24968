from __future__ import annotations

from celery import shared_task
from django.conf import settings

from .sweep import sweep


@shared_task(ignore_result=False)
def sweep_task() -> dict[str, int]:
    result = sweep(workers=getattr(settings, "HOTLINE_SWEEP_WORKERS", 1))
    return {"clocks": result.clocks, **result.alerts}
