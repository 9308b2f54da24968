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
