"""Production path: Celery workers on the real Redis at 127.0.0.1:6379 run the sweep and the delivery."""

from __future__ import annotations

import datetime as dt
import os
import socket
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


@pytest.fixture
def celery_worker_on_redis():
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    app.conf.update(
        broker_url=REDIS, result_backend=REDIS, task_always_eager=False, broker_connection_retry=False
    )
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield app


def test_sweep_and_delivery_run_on_celery_workers(city, people, celery_worker_on_redis):
    with clock.frozen_now(dt.datetime(2026, 11, 23, 10, tzinfo=ZoneInfo("Asia/Shanghai"))):
        dispatched_to(city, people, city.east)
    with clock.frozen_now(dt.datetime(2026, 12, 1, 10, tzinfo=ZoneInfo("Asia/Shanghai"))):
        counts = sweep_task.delay().get(timeout=30)
        assert counts["yellow"] >= 1 and Alert.objects.filter(kind="yellow").exists()
        assert deliver_task.delay().get(timeout=30) >= 1
    assert Outbox.objects.filter(channel="in_app", status=OutboxStatus.DELIVERED).exists()
