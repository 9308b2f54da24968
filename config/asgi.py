import logging
import os
import threading

from django.core.asgi import get_asgi_application
from django.db import connections

from hotline.common.runtime import settle_after_startup
from hotline.common.serving import warm_up, warm_up_enabled

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
application = get_asgi_application()
# Imported only by server processes (gunicorn workers after the fork, runserver): warm what the first requests
# would wait for (jieba, the knowledge index, caches, templates), then settle. HOTLINE_WARM_UP=0 skips it.
if warm_up_enabled():

    def _warm() -> None:
        warm_up()
        connections.close_all()  # each request thread opens its own

    # In a thread: uvicorn imports this module inside its event loop, where the ORM may not run.
    worker = threading.Thread(target=_warm, name="warm-up")
    worker.start()
    worker.join()
settle_after_startup()
logging.getLogger("hotline.serving").info("worker ready")
