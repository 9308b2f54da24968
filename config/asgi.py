import os

from django.core.asgi import get_asgi_application

from hotline.common.runtime import settle_after_startup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.dev")
application = get_asgi_application()
settle_after_startup()
