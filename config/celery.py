"""Celery for production: beat schedules the sweep and delivery, workers run them (broker: Redis or RabbitMQ).

Without a broker the README's run command uses `manage.py run_worker` instead, which runs the same jobs.
"""

from __future__ import annotations

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")

app = Celery("hotline")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.on_after_finalize.connect
def schedule_periodic_jobs(sender: Celery, **kwargs: object) -> None:
    """Beat schedules the jobs the packages registered (hotline.common.registry), with their intervals."""
    import django

    django.setup()
    from hotline.common.registry import periodic_jobs

    for job in periodic_jobs():
        if job.task is None:
            continue
        sender.add_periodic_task(job.seconds, sender.signature(job.task), name=job.name)
