"""Production serving: the database connection budget, and warming a fresh server process.

Both run only in server processes (gunicorn's master and workers, see config/gunicorn.conf.py and
config/wsgi.py), never in management commands or tests; the callers close the database connections after.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import Any

from django.db import connections

logger = logging.getLogger(__name__)


class ConnectionBudgetExceeded(SystemExit):
    pass


def check_connection_budget(*, web_connections: int) -> str:
    """Refuse to start when the web server could open more connections than PostgreSQL allows.

    Needed: web workers × threads (each thread keeps its own connection) + HOTLINE_DB_RESERVED_CONNECTIONS
    (default 20: Celery workers and beat or run_worker, migrations, administrators) ≤ max_connections −
    superuser_reserved_connections.
    """
    connection = connections["default"]
    if connection.vendor != "postgresql":
        return f"数据库连接预算：{connection.vendor} 不限制连接数（Web 最多 {web_connections} 个连接）"
    reserved = int(os.environ.get("HOTLINE_DB_RESERVED_CONNECTIONS", "20"))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT current_setting('max_connections')::int, current_setting('superuser_reserved_connections')::int"
        )
        max_connections, superuser = cursor.fetchone()
    allowed = max_connections - superuser
    message = (
        f"数据库连接预算：Web {web_connections} + 后台与管理预留 {reserved} = {web_connections + reserved}，"
        f"PostgreSQL 允许 {allowed}（max_connections {max_connections} − 超级用户保留 {superuser}）"
    )
    if web_connections + reserved > allowed:
        raise ConnectionBudgetExceeded(
            message
            + "。请减少 HOTLINE_WEB_WORKERS / HOTLINE_WEB_THREADS，或提高 max_connections，或使用 PgBouncer。"
        )
    return message


def warm_up() -> dict[str, float]:
    """Load what a fresh worker's first requests would otherwise wait for; returns seconds per part.

    The jieba dictionary (duplicate screening and the knowledge fallback), the knowledge search index, the
    reference caches (dictionaries, units, time limits), the working-day calendar, the URL resolver and every
    template compiled. Each part is timed and logged; a part that fails is logged and left cold (the request
    path loads it again), never fatal.
    """
    from django.template import engines
    from django.urls import get_resolver

    from hotline.common.refcache import RefCache
    from hotline.common.registry import warm_ups

    timings: dict[str, float] = {}

    def timed(name: str, work: Callable[[], object]) -> None:
        started = time.perf_counter()
        try:
            work()
        except Exception:
            logger.exception("warm-up of %s failed", name)
        timings[name] = round(time.perf_counter() - started, 3)

    # The packages' own parts (jieba, the knowledge index, the calendar), registered in their AppConfig.ready().
    for name, work in warm_ups():
        timed(name, work)
    timed("urls", lambda: get_resolver().reverse_dict)  # imports every view, and so every reference cache
    timed("reference_caches", lambda: [cache.all() for cache in RefCache.instances])
    timed("templates", lambda: [_compile_all(engine) for engine in engines.all()])
    logger.info("warm-up (s): %s", timings)
    return timings


def _compile_all(engine: Any) -> int:
    """Compile every template the engine can find (the cached loader keeps them for the process)."""
    from pathlib import Path

    compiled = 0
    for directory in engine.template_dirs:
        root = Path(directory)
        for path in root.rglob("*.html"):
            try:
                engine.get_template(str(path.relative_to(root)))
                compiled += 1
            except Exception:  # a template that only works included in another: compiled when used
                logger.debug("template %s not compiled ahead", path)
    return compiled


def warm_up_enabled() -> bool:
    return os.environ.get("HOTLINE_WARM_UP", "1") != "0"
