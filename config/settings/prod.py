"""Production: PostgreSQL from DATABASE_URL, secrets from the environment, HTTPS behind a proxy."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool

DEVELOPMENT_KEYS = {"", "insecure-development-key-change-me", "development-data-key-change-me"}


def required_secret(name: str) -> str:
    """A secret from the environment; production refuses to start without one, or with the public dev value."""
    value = os.environ.get(name, "").strip()
    if value in DEVELOPMENT_KEYS or len(value) < 32:
        raise ImproperlyConfigured(f"{name} must be set to a secret of at least 32 characters in production")
    return value


DEBUG = False
SECRET_KEY = required_secret("DJANGO_SECRET_KEY")
# The key of personal data encrypted at rest; the development key is public (it is in this repository).
HOTLINE_DATA_KEY = required_secret("HOTLINE_DATA_KEY")
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("HOTLINE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("HOTLINE_HSTS_SECONDS", str(365 * 24 * 3600)))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("HOTLINE_HSTS_INCLUDE_SUBDOMAINS", True)
# Asking browsers to preload HSTS binds every subdomain of the city's domain for good: a deliberate step, off by
# default (hence security.W021 silenced below).
SECURE_HSTS_PRELOAD = env_bool("HOTLINE_HSTS_PRELOAD", False)
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",") if o]
X_FRAME_OPTIONS = "DENY"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
SILENCED_SYSTEM_CHECKS = [*SILENCED_SYSTEM_CHECKS, *([] if SECURE_HSTS_PRELOAD else ["security.W021"])]  # noqa: F405

# The demo city (seed_demo and its generators) is a development tool: not installed in production.
INSTALLED_APPS = [app for app in INSTALLED_APPS if app != "hotline.demo"]  # noqa: F405
