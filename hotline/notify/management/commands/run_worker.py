"""The embedded background worker: runs every periodic job the packages registered (hotline.common.registry:
outbox delivery, bulk citizen imports, the deadline sweep,
pruning the duplicate-screening index), each at its interval.

Used by scripts/start.sh so a newcomer needs no broker; production runs the same jobs under Celery beat.
Beside the jobs, the registered listeners run in threads (outbox rows delivered as soon as their transaction
commits, handed over through the push broker); `--once` runs the jobs only.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connections

from hotline.common.registry import listeners, periodic_jobs

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "运行后台任务：消息投递、批量导入、时限巡检与查重索引清理（无需消息队列）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--tick", type=float, default=1.0, help="seconds between checks for due jobs")
        parser.add_argument("--once", action="store_true", help="run each job once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        jobs = periodic_jobs()
        next_run = {job.name: 0.0 for job in jobs}
        threads = [] if options["once"] else [_start(name, run, stop) for name, run in listeners()]
        while not stop.is_set():
            close_old_connections()
            for job in jobs:
                if time.monotonic() < next_run[job.name]:
                    continue
                next_run[job.name] = time.monotonic() + job.seconds
                try:
                    job.run()
                except Exception:  # a bad round must not stop the worker; the next one retries
                    logger.exception("background job %s failed", job.name)
            if options["once"]:
                break
            stop.wait(options["tick"])
        for thread in threads:
            thread.join(timeout=10)


def _start(name: str, run: Any, stop: threading.Event) -> threading.Thread:
    def loop() -> None:
        while not stop.is_set():
            try:
                run(stop)
            except Exception:  # a listener that fails is restarted; the periodic jobs cover what it missed
                logger.exception("listener %s failed", name)
                stop.wait(5.0)
            finally:
                connections.close_all()  # this thread's own connections

    thread = threading.Thread(target=loop, name=f"listener-{name}", daemon=True)
    thread.start()
    return thread
