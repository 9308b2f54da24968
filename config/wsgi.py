import logging
import os

from django.core.wsgi import get_wsgi_application
from django.db import connections

from hotline.common.runtime import settle_after_startup
from hotline.common.serving import warm_up, warm_up_enabled

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
application = get_wsgi_application()
# Imported only by server processes (gunicorn workers after the fork, runserver): warm what the first requests
# would wait for (jieba, the knowledge index, caches, templates), then settle. HOTLINE_WARM_UP=0 skips it.
if warm_up_enabled():
    warm_up()
    connections.close_all()  # each request thread opens its own
settle_after_startup()
logging.getLogger("hotline.serving").info("worker ready")
