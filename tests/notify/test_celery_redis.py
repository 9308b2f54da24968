"""Production path: Celery workers on the real Redis at 127.0.0.1:6379 run the sweep and the delivery."""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hotline.common import clock
from hotline.notify.models import Outbox, OutboxStatus
from hotline.notify.tasks import deliver_task
from hotline.sla.models import Alert
from hotline.sla.tasks import sweep_task
from tests.conftest import dispatched_to

REDIS = os.environ.get("HOTLINE_TEST_REDIS", "redis://127.0.0.1:6379/15")


def redis_up() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 6379), timeout=1).close()
        return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not redis_up() and not os.environ.get("CI"), reason="Redis is not running here"),
]


@contextmanager
def worker_on_redis(queues: list[str] | None = None) -> Iterator[Any]:
    """A Celery worker thread on the real Redis. Celery sets up logging for its worker (the root logger's level
    and handlers); they are put back afterwards so later tests' log capture still works."""
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    app.conf.update(
        broker_url=REDIS,
        result_backend=REDIS,
        task_always_eager=False,
        broker_connection_retry=False,
        worker_hijack_root_logger=False,
    )
    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    options: dict[str, Any] = {"queues": queues} if queues else {}
    try:
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10, **options):
            yield app
    finally:
        root.setLevel(level)
        root.handlers[:] = handlers


@pytest.fixture
def celery_worker_on_redis() -> Iterator[Any]:
    with worker_on_redis() as app:
        yield app


def test_sweep_and_delivery_run_on_celery_workers(city, people, celery_worker_on_redis):
    people.east.phone = "13900000001"  # the yellow card's SMS is what delivery sends
    people.east.save(update_fields=["phone"])
    with clock.frozen_now(dt.datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("Asia/Shanghai"))):
        dispatched_to(city, people, city.east)
    with clock.frozen_now(dt.datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai"))):
        counts = sweep_task.delay().get(timeout=30)
        assert counts["yellow"] >= 1 and Alert.objects.filter(kind="yellow").exists()
        assert deliver_task.delay().get(timeout=30) >= 1
    assert Outbox.objects.filter(channel="in_app", status=OutboxStatus.DELIVERED).exists()
    assert Outbox.objects.filter(channel="sms", address="13900000001", status=OutboxStatus.SENT).exists()
