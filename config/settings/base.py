"""Settings shared by every environment; everything that differs comes from environment variables."""

import os
from pathlib import Path

import dj_database_url
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(os.environ.get("HOTLINE_VAR_DIR", BASE_DIR / "var"))


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "insecure-development-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "hotline.common",
    "hotline.orgs",
    "hotline.citizens",
    "hotline.cases",
    "hotline.sla",
    "hotline.notify",
    "hotline.knowledge",
    "hotline.telephony",
    "hotline.intake",
    "hotline.integrations",
    "hotline.bulletins",
    "hotline.dispatching",
    "hotline.flows",
    "hotline.analytics",
    "hotline.demo",
]

MIDDLEWARE = [
    "hotline.common.middleware.RequestContextMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "hotline.common.middleware.SecurityHeadersMiddleware",
    "hotline.common.middleware.InputBoundsMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

# ORG-4: lock an account (per username and address) after repeated failed logins.
AUTHENTICATION_BACKENDS = [
    "hotline.orgs.spraying.SprayGuardBackend",
    "axes.backends.AxesStandaloneBackend",
    "hotline.orgs.backends.UserWithUnitBackend",
]
AXES_FAILURE_LIMIT = int(os.environ.get("HOTLINE_LOGIN_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = float(os.environ.get("HOTLINE_LOGIN_LOCKOUT_HOURS", "0.5"))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_VERBOSE = False
# The lockout counts the address taken by the proxy rule (hotline/common/netaddr.py), never a client's header.
AXES_CLIENT_IP_CALLABLE = "hotline.common.netaddr.request_client_ip"
# Password spraying: failures for this many distinct user names from one address within an hour lock the address
# (for the lockout time above), whatever the password (hotline/orgs/spraying.py).
HOTLINE_LOGIN_SPRAY_LIMIT = int(os.environ.get("HOTLINE_LOGIN_SPRAY_LIMIT", "10"))

# Proxies whose X-Forwarded-For is believed (comma-separated addresses or CIDRs, e.g. the nginx in front).
# None by default: the client is the socket's peer. See hotline/common/netaddr.py for the rule.
HOTLINE_TRUSTED_PROXIES = env_list("HOTLINE_TRUSTED_PROXIES")

# Sent with every response (hotline/common/middleware.py). Pages carry no inline script; htmx and the pages'
# behaviour are static files from this origin.
HOTLINE_CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
HOTLINE_PERMISSIONS_POLICY = "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(self), payment=(), usb=()"

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
            "builtins": ["hotline.common.templatetags.hotline"],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'hotline.sqlite3'}"),
        conn_max_age=int(os.environ.get("DATABASE_CONN_MAX_AGE", "60")),
        # a kept connection is checked before a request reuses it: after a database restart the first request
        # of each thread gets a fresh connection instead of an error
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's backend, except that a flush lifts the audit log's append-only triggers (common/appendonly.py).
    DATABASES["default"]["ENGINE"] = "hotline.common.sqlite"
    # Wait for the writer lock instead of failing at once when two requests write together.
    DATABASES["default"].setdefault("OPTIONS", {})["timeout"] = 20
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "orgs.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Front-end packages come from npm (scripts/setup.sh installs them); only their built files are served.
NODE_MODULES = BASE_DIR / "node_modules"
STATICFILES_DIRS = [
    (prefix, NODE_MODULES / package)
    for prefix, package in [
        ("vendor/htmx", "htmx.org/dist"),
        ("vendor/bootstrap", "bootstrap/dist"),
        ("vendor/echarts", "echarts/dist"),  # the big screen's charts (hotline/analytics/bigscreen.py)
    ]
    if (NODE_MODULES / package).is_dir()
]
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", VAR_DIR / "static"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", VAR_DIR / "media"))
# Attachments larger than this are refused at intake.
# Case attachments: outside MEDIA_ROOT, never served by the web server (see hotline/cases/storage.py).
HOTLINE_PRIVATE_MEDIA_ROOT = Path(os.environ.get("HOTLINE_PRIVATE_MEDIA_ROOT", VAR_DIR / "private"))
# Uploads: one cap on any request body with files (hotline/common/uploads.py), then each endpoint's own limit.
HOTLINE_MAX_UPLOAD_BYTES = int(os.environ.get("HOTLINE_MAX_UPLOAD_BYTES", str(100 * 1024 * 1024)))
HOTLINE_MAX_IMPORT_BYTES = int(os.environ.get("HOTLINE_MAX_IMPORT_BYTES", str(10 * 1024 * 1024)))
FILE_UPLOAD_HANDLERS = [
    "hotline.common.uploads.RequestSizeLimitHandler",
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "django.core.files.uploadhandler.TemporaryFileUploadHandler",
]
DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440  # form fields and JSON bodies (Django's default, stated)
DATA_UPLOAD_MAX_NUMBER_FILES = 30
HOTLINE_MAX_ATTACHMENT_BYTES = int(os.environ.get("HOTLINE_MAX_ATTACHMENT_BYTES", str(20 * 1024 * 1024)))

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "hotline.orgs.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "hotline.common.api.exception_handler",
    "DEFAULT_PAGINATION_CLASS": "hotline.common.api.Pagination",
    "PAGE_SIZE": 20,
    "DEFAULT_METADATA_CLASS": "hotline.common.metadata.SelectorViewMetadata",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "hotline.common.renderers.BrowsableAPIRenderer",
    ],
}

SPECTACULAR_SETTINGS = {
    "TITLE": "12345 政务服务便民热线平台 API",
    "DESCRIPTION": "REST API of the 12345 hotline platform: intake, dispatch, handling, review, callback.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI served from the app itself (no CDN: government networks are often closed).
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Choice sets that share a field name ("status", "role") get names of their own in the schema.
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "hotline.cases.models.CaseStatus",
        "AssignmentStatusEnum": "hotline.cases.models.AssignmentStatus",
        "AssignmentRoleEnum": "hotline.cases.models.AssignmentRole",
        "UserRoleEnum": "hotline.orgs.models.Role",
        "RatingEnum": "hotline.cases.models.Rating",
        "GenderEnum": "hotline.citizens.models.Gender",
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"axes": {"level": "WARNING"}},
}

# The shared store of throttles and lockouts: Redis when configured (every process and server counts together),
# otherwise memory of this one process (the embedded default, one server process).
HOTLINE_REDIS_URL = os.environ.get("HOTLINE_REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": HOTLINE_REDIS_URL}
        if HOTLINE_REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "hotline"}
    )
}
# INT-6 public case-status lookup: requests per client address, and wrong codes per case before it locks.
HOTLINE_LOOKUP_RATE = os.environ.get("HOTLINE_LOOKUP_RATE", "20/min")
HOTLINE_LOOKUP_FAILURE_LIMIT = int(os.environ.get("HOTLINE_LOOKUP_FAILURE_LIMIT", "5"))
HOTLINE_LOOKUP_LOCKOUT_MINUTES = int(os.environ.get("HOTLINE_LOOKUP_LOCKOUT_MINUTES", "30"))

# The key Kannel's delivery reports must carry (notify/dlr.py); empty: derived from SECRET_KEY.
HOTLINE_KANNEL_DLR_SECRET = os.environ.get("HOTLINE_KANNEL_DLR_SECRET", "")

# Partner systems' signed requests (integrations/auth.py): the timestamp must be within this many seconds of ours,
# and a nonce is remembered twice as long (replays refused).
HOTLINE_PARTNER_SIGNATURE_WINDOW = int(os.environ.get("HOTLINE_PARTNER_SIGNATURE_WINDOW", "300"))
# A webhook push a partner has not accepted for this long is given up (listed as dead, with a retry button).
HOTLINE_PARTNER_DEAD_AFTER_HOURS = float(os.environ.get("HOTLINE_PARTNER_DEAD_AFTER_HOURS", "48"))
# A bulletin to more units than this waits for a hotline-office leader's approval (BUL-1).
HOTLINE_BULLETIN_REVIEW_UNITS = int(os.environ.get("HOTLINE_BULLETIN_REVIEW_UNITS", "3"))

# API tokens expire this many days after they were issued (hotline/orgs/tokens.py).
HOTLINE_API_TOKEN_DAYS = int(os.environ.get("HOTLINE_API_TOKEN_DAYS", "30"))

# Key for personal data encrypted at rest (ID-card numbers). Any string; derive a real one in production.
HOTLINE_DATA_KEY = os.environ.get("HOTLINE_DATA_KEY", "development-data-key-change-me")

# Background jobs. With a broker (production), Celery beat schedules them and workers run them; without one,
# `manage.py run_worker` (started by scripts/start.sh) runs the same jobs in one process.
CELERY_BROKER_URL = os.environ.get("HOTLINE_CELERY_BROKER", "")
CELERY_RESULT_BACKEND = os.environ.get("HOTLINE_CELERY_RESULTS", "") or None
CELERY_TASK_ALWAYS_EAGER = False
# The periodic jobs (and their intervals) are registered by each package (hotline.common.registry); Celery beat
# (config/celery.py) and run_worker both read that list.
HOTLINE_SWEEP_SECONDS = float(os.environ.get("HOTLINE_SWEEP_SECONDS", "60"))
# Threads (each with its own database connection) a large deadline sweep works with (PostgreSQL only; a sweep
# of one batch always runs alone). Count them in the connection budget when raising it.
HOTLINE_SWEEP_WORKERS = int(os.environ.get("HOTLINE_SWEEP_WORKERS", "1"))
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# The embedded knowledge index has one writer: its updates go to their own queue, served by one worker process.
CELERY_TASK_ROUTES = {"hotline.knowledge.tasks.sync_items_task": {"queue": "kb-index"}}
# Knowledge index updates after commit: in the request's thread (default), or queued to Celery (production).
HOTLINE_KB_INDEX_QUEUE = os.environ.get("HOTLINE_KB_INDEX_QUEUE", "1" if CELERY_BROKER_URL else "") == "1"

EMAIL_BACKEND = os.environ.get("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DJANGO_DEFAULT_FROM_EMAIL", "12345@localhost")
# Outgoing mail (notify's e-mail channel, scheduled reports) with DJANGO_EMAIL_BACKEND=…smtp.EmailBackend.
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("DJANGO_EMAIL_USE_TLS", "") == "1"
EMAIL_TIMEOUT = int(os.environ.get("DJANGO_EMAIL_TIMEOUT", "30"))

# SQLite (development, tests) builds the duplicate-screening index without its INCLUDE column; PostgreSQL, where
# it matters, has it.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

# Telephony (issue 13): Kamailio + pjsua2 media node when installed; off otherwise. Redis for push across
# processes (empty: in memory, the controller runs in the web process).
HOTLINE_TELEPHONY = os.environ.get("HOTLINE_TELEPHONY", "auto")  # auto | on | off
HOTLINE_TELEPHONY_REDIS = os.environ.get("HOTLINE_TELEPHONY_REDIS", "")
# Push to browsers across processes (boards, chat, call bar); falls back to HOTLINE_TELEPHONY_REDIS.
HOTLINE_PUSH_REDIS = os.environ.get("HOTLINE_PUSH_REDIS", "")
# The most database connections a process's SSE stream opens (sign-in, session, who may listen) use at once: a
# burst of opens beyond it waits its turn, for up to the given seconds (then 503), instead of each opening a
# PostgreSQL connection at the same moment (common/push.py `stream_view`). Open streams hold none.
HOTLINE_PUSH_DB_SLOTS = int(os.environ.get("HOTLINE_PUSH_DB_SLOTS", "8"))
HOTLINE_PUSH_DB_WAIT_SECONDS = float(os.environ.get("HOTLINE_PUSH_DB_WAIT_SECONDS", "30"))
# Online chat: the citizens' lines per client address (all their sessions together).
HOTLINE_CHAT_LINE_RATE = os.environ.get("HOTLINE_CHAT_LINE_RATE", "600/hour")
# An agent-state change made on its own (ready / not ready) commits without waiting for the WAL flush (its push
# to the screen is not held up; a PostgreSQL crash may forget the last ~0.2 s of them). Calls' CDRs never.
HOTLINE_AGENT_STATE_ASYNC_COMMIT = os.environ.get("HOTLINE_AGENT_STATE_ASYNC_COMMIT", "1") == "1"
HOTLINE_SIP_PORT = int(os.environ.get("HOTLINE_SIP_PORT", "15060"))
# Media nodes behind Kamailio's dispatcher (scale-out); TTS engine for IVR prompts (dotted path, default espeak-ng).
HOTLINE_TELEPHONY_NODES = int(os.environ.get("HOTLINE_TELEPHONY_NODES", "1"))
HOTLINE_TTS_ENGINE = os.environ.get("HOTLINE_TTS_ENGINE", "")
HOTLINE_MISSED_CALLBACK_HOURS = int(os.environ.get("HOTLINE_MISSED_CALLBACK_HOURS", "24"))
# ACD-3: the caller hears "<agent ID>号话务员为您服务" when an agent answers.
HOTLINE_AGENT_ID_ANNOUNCEMENT = os.environ.get("HOTLINE_AGENT_ID_ANNOUNCEMENT", "on") == "on"
# REC-1 retention: days a recording is kept, per kind (inbound calls, outbound calls, voicemail); 0 keeps it for
# ever. A periodic job deletes expired files and marks their rows. Env: "inbound=730,outbound=365,voicemail=180".
HOTLINE_RECORDING_RETENTION_DAYS = {
    kind: int(days)
    for kind, _sep, days in (
        part.partition("=")
        for part in os.environ.get(
            "HOTLINE_RECORDING_RETENTION_DAYS", "inbound=730,outbound=730,voicemail=365"
        ).split(",")
        if part.strip()
    )
}
# CLS-5 by phone: after the office accepts a result, call the citizen and ask the rating (TTS, keys 1-5);
# unanswered calls are retried HOTLINE_RATING_CALL_ATTEMPTS times, RETRY_SECONDS apart, then left to an agent.
HOTLINE_RATING_CALLS = os.environ.get("HOTLINE_RATING_CALLS", "off") == "on"
HOTLINE_RATING_CALL_ATTEMPTS = int(os.environ.get("HOTLINE_RATING_CALL_ATTEMPTS", "3"))
HOTLINE_RATING_CALL_RETRY_SECONDS = int(os.environ.get("HOTLINE_RATING_CALL_RETRY_SECONDS", "1800"))
