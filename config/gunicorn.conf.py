"""gunicorn for the pages and the API in production (`scripts/serve-prod.sh` runs it with this file).

Threaded sync workers (`gthread`): Django's views are synchronous, so each thread serves one request with its
own database connection, kept open for DATABASE_CONN_MAX_AGE seconds and health-checked before reuse. The most
connections the server can hold is workers × threads; it refuses to start when that, plus what the background
jobs and administrators need (HOTLINE_DB_RESERVED_CONNECTIONS), exceeds PostgreSQL's max_connections.
Push streams (SSE, URLs ending in /events/) each hold a thread here: production serves them with uvicorn
(scripts/serve-push.sh, started by serve-prod.sh when HOTLINE_PUSH_BIND is set).

Environment: HOTLINE_BIND (127.0.0.1:8000), HOTLINE_WEB_WORKERS (2 × cores + 1), HOTLINE_WEB_THREADS (4),
HOTLINE_WEB_TIMEOUT (60 s), HOTLINE_VAR_DIR (heartbeat files and the control socket go under it).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

_root = Path(__file__).resolve().parent.parent
_var = Path(os.environ.get("HOTLINE_VAR_DIR", _root / "var"))
(_var / "run").mkdir(parents=True, exist_ok=True)

bind = os.environ.get("HOTLINE_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("HOTLINE_WEB_WORKERS", str(2 * (os.cpu_count() or 1) + 1)))
worker_class = "gthread"
threads = int(os.environ.get("HOTLINE_WEB_THREADS", "4"))
timeout = int(os.environ.get("HOTLINE_WEB_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = 5
# Recycle a worker now and then (memory growth of long-lived processes), not all at once.
max_requests = 5000
max_requests_jitter = 500
worker_tmp_dir = str(_var / "run")
control_socket = str(_var / "run" / "gunicorn.ctl")
wsgi_app = "config.wsgi:application"
accesslog = "-"
errorlog = "-"
loglevel = os.environ.get("HOTLINE_WEB_LOG_LEVEL", "info")
# The application is imported in each worker after the fork (no preload): config/wsgi.py warms it there, so
# no worker shares a database connection, a search index handle or a thread with its parent.
preload_app = False


def on_starting(server: Any) -> None:
    """Before any worker starts: the connection budget against PostgreSQL's max_connections."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.prod")
    django.setup()
    from django.db import connections

    from hotline.common.serving import check_connection_budget

    try:
        server.log.info(check_connection_budget(web_connections=workers * threads))
    finally:
        connections.close_all()  # no connection is inherited by the forked workers
