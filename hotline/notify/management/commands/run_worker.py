"""The embedded background worker: delivers the outbox every few seconds, sweeps deadlines every minute and
prunes the duplicate-screening index once a day.

Used by scripts/start.sh so a newcomer needs no broker; production runs the same jobs under Celery.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from typing import Any

from django.core.management.base import BaseCommand
from django.db import close_old_connections

from hotline.cases.duplicates import index_prune
from hotline.citizens.jobs import import_run_due
from hotline.notify.services import deliver_due
from hotline.sla.sweep import sweep

logger = logging.getLogger(__name__)


class Command(BaseCommand):
    help = "运行后台任务：消息投递、批量导入、时限巡检与查重索引清理（无需消息队列）"

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--deliver-every", type=float, default=5.0)
        parser.add_argument("--sweep-every", type=float, default=60.0)
        parser.add_argument("--prune-every", type=float, default=24 * 3600.0)
        parser.add_argument("--once", action="store_true", help="run each job once and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        next_sweep = next_prune = 0.0
        while not stop.is_set():
            close_old_connections()
            try:
                sent = deliver_due()
                imported = import_run_due()
                if imported:
                    logger.info("ran %d bulk imports", imported)
                if time.monotonic() >= next_sweep:
                    result = sweep()
                    next_sweep = time.monotonic() + options["sweep_every"]
                    if result.alerts:
                        logger.info("sweep raised %s", dict(result.alerts))
                if time.monotonic() >= next_prune:
                    pruned = index_prune()
                    next_prune = time.monotonic() + options["prune_every"]
                    if pruned:
                        logger.info("pruned %d duplicate-screening keys", pruned)
                if sent:
                    logger.info("delivered %d messages", sent)
            except Exception:  # a bad minute must not stop the worker; the next round retries
                logger.exception("background job failed")
            if options["once"]:
                break
            stop.wait(options["deliver_every"])
