import os
from pathlib import Path

from .base import *  # noqa: F403
from .base import DATABASES

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
# Tests keep their media out of the working tree.
MEDIA_ROOT = Path(os.environ.get("HOTLINE_TEST_MEDIA_ROOT", "/tmp/hotline-test-media"))
HOTLINE_PRIVATE_MEDIA_ROOT = MEDIA_ROOT / "private"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("HOTLINE_TEST_DB_NAME", "test_hotline")}
# Static files are not collected in tests.
MIDDLEWARE = [m for m in MIDDLEWARE if m != "whitenoise.middleware.WhiteNoiseMiddleware"]  # noqa: F405
