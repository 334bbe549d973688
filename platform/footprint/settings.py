"""Django settings for Footprint, read from environment variables.

Embedded defaults (SQLite file, filesystem broker, local storage folder under var/) let
`make run` and the tests start with nothing installed; a deployment sets DATABASE_URL,
CELERY_BROKER_URL, DJANGO_SECRET_KEY, DJANGO_ALLOWED_HOSTS and the HTTPS variables.
"""

from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from footprint.env import database_from_url, env_bool, env_int, env_list, env_str
from runners.broker import (
    COMMON_CELERY_CONFIG,
    LONGEST_JOB_S,
    PLATFORM_QUEUE,
    celery_broker_config,
)

# <repo>/platform/footprint/settings.py -> <repo>
BASE_DIR = Path(__file__).resolve().parents[2]
VAR_DIR = BASE_DIR / "var"


# ---------------------------------------------------------------------------------------
# Core

DEBUG = env_bool("DJANGO_DEBUG", False)

if DEBUG:
    # Only for a developer's machine: DEBUG pages already expose everything.
    SECRET_KEY = env_str("DJANGO_SECRET_KEY", "footprint-insecure-development-key-only-for-debug")
else:
    SECRET_KEY = env_str("DJANGO_SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY is too short for a deployment (at least 50 characters); "
            "generate one with: python -c 'import secrets; print(secrets.token_urlsafe(50))'"
        )

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",  # Swagger UI and Redoc as local static files
    "core",
    "benchmarks",
    "submissions",
    "leaderboard",
    "budgets",
    "papers",
    "pages",
    "api",
    "demo",
    "footprint",  # management commands (run_local, import_benchmark)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # The site's static files (the admin's, the vendored chart library, its scripts), under gunicorn too.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Answers django-ratelimit's refusals with RATELIMIT_VIEW (a 429, not a 403).
    "django_ratelimit.middleware.RatelimitMiddleware",
]

ROOT_URLCONF = "footprint.urls"
WSGI_APPLICATION = "footprint.wsgi.application"
ASGI_APPLICATION = "footprint.asgi.application"

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
            ],
        },
    },
]

# ---------------------------------------------------------------------------------------
# Database

DATABASES = {
    "default": database_from_url(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'footprint.sqlite3'}"), base_dir=BASE_DIR
    )
}
# Persistent connections for deployments (seconds; 0 closes after each request).
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 0, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = DATABASES["default"]["CONN_MAX_AGE"] > 0
if DATABASES["default"]["ENGINE"].endswith("sqlite3") and DATABASES["default"]["NAME"] != ":memory:":
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    # The web server and the platform worker write concurrently: wait for the lock
    # instead of failing with "database is locked". A deferred transaction that later
    # writes cannot wait (SQLite returns BUSY at once to avoid a deadlock), so write
    # transactions take the lock when they begin; WAL lets readers go on meanwhile.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        timeout=20,
        transaction_mode="IMMEDIATE",
        init_command="PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# ---------------------------------------------------------------------------------------
# Auth

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Password reset mails: printed on the console by the embedded default (make run); a
# deployment names an SMTP backend and its EMAIL_* settings.
EMAIL_BACKEND = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("DJANGO_EMAIL_PORT", 25, minimum=1)
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "footprint@localhost")
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/"

# ---------------------------------------------------------------------------------------
# Internationalization, static files

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [p for p in [BASE_DIR / "static"] if p.is_dir()]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "static")))
# Served from the source folders as they are (no collectstatic step for a few small files);
# a deployment's web service also collects them into STATIC_ROOT when it starts.
WHITENOISE_USE_FINDERS = True
try:
    # WhiteNoise looks into STATIC_ROOT too, and warns on every start when it is missing.
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
except OSError:
    pass
WHITENOISE_AUTOREFRESH = DEBUG

# ---------------------------------------------------------------------------------------
# Security. Secure cookies unless DEBUG; a deployment behind HTTPS turns the redirect and
# HSTS on through the environment (`manage.py check --deploy` is then clean).

SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", False)
# The health check and the runners' API answer on plain HTTP inside the deployment's network.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^runner-api/"]
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_SECURE_HSTS_PRELOAD", False)
if env_bool("DJANGO_BEHIND_HTTPS_PROXY", False):
    # Only behind a proxy that sets this header itself (clients can forge it otherwise).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True

# ---------------------------------------------------------------------------------------
# Files

FOOTPRINT_STORAGE_ROOT = Path(env_str("FOOTPRINT_STORAGE_ROOT", str(VAR_DIR / "storage")))
FOOTPRINT_UPLOAD_MAX_BYTES = env_int("FOOTPRINT_UPLOAD_MAX_BYTES", 2 * 2**30, minimum=1)
# What an uploaded image's layers may expand to once loaded (checked without extracting).
FOOTPRINT_IMAGE_MAX_EXPANDED_BYTES = env_int("FOOTPRINT_IMAGE_MAX_EXPANDED_BYTES", 16 * 2**30, minimum=1)
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / "media")},
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "footprint": {"BACKEND": "footprint.storage.FootprintStorage"},
}
# Uploads above this size are spooled to disk (it is not a size cap: see uploads.py).
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
# Every upload, not only the submission form's, is capped and hashed while it streams.
FILE_UPLOAD_HANDLERS = ["submissions.uploads.CappedTemporaryFileUploadHandler"]
FILE_UPLOAD_TEMP_DIR = env_str("FOOTPRINT_UPLOAD_TEMP_DIR", "") or None
# An upload in pieces nobody wrote to for this long, and no submission took, is removed.
FOOTPRINT_UPLOAD_EXPIRY_S = env_int("FOOTPRINT_UPLOAD_EXPIRY_S", 2 * 24 * 3600, minimum=60)
# Registries that submissions by reference (host/name@sha256:...) may name, and those of
# them spoken to over plain HTTP (a registry on the same host, in tests).
FOOTPRINT_REGISTRY_HOSTS = env_list("FOOTPRINT_REGISTRY_HOSTS", ["ghcr.io", "quay.io"])
FOOTPRINT_REGISTRY_INSECURE_HOSTS = env_list("FOOTPRINT_REGISTRY_INSECURE_HOSTS", [])

# ---------------------------------------------------------------------------------------
# Runners and measurement

FOOTPRINT_RUNTIME_IMAGE = env_str("FOOTPRINT_RUNTIME_IMAGE", "footprint/runtime:1")
# The platform's URL as every runner reaches it (https://footprint.example.org). Set, job
# specs name the job's files as download URLs there, opened by the job's token; unset, as
# file:// paths for a runner on this host (`make run`).
FOOTPRINT_RUNNER_FILES_URL = env_str("FOOTPRINT_RUNNER_FILES_URL", "")
# The bearer token Prometheus presents to /metrics; unset, /metrics answers 403.
FOOTPRINT_METRICS_TOKEN = env_str("FOOTPRINT_METRICS_TOKEN", "")
# Runners send a heartbeat this often (runners/worker.py HEARTBEAT_INTERVAL_S); one that
# missed three is shown as gone.
FOOTPRINT_RUNNER_HEARTBEAT_S = 30
# How the runners page tells an operator to start a runner for a hardware class.
FOOTPRINT_RUNNER_START_HINT = env_str(
    "FOOTPRINT_RUNNER_START_HINT",
    "FOOTPRINT_HARDWARE_CLASS={hardware_class} .venv/bin/python -m runners",
)
# Slack added to a benchmark's own limits before a silent run is declared lost: image
# loading, container start-up, reporting delays.
FOOTPRINT_STUCK_RUN_MARGIN_S = env_int("FOOTPRINT_STUCK_RUN_MARGIN_S", 600, minimum=0)
# A queued run whose dispatch never reached the broker (web process died between the
# commit and the send, broker down) is dispatched again after this long.
FOOTPRINT_REDISPATCH_AFTER_S = env_int("FOOTPRINT_REDISPATCH_AFTER_S", 300, minimum=0)

# ---------------------------------------------------------------------------------------
# Celery (the app in footprint/celery.py reads the CELERY_* names)

try:
    # FOOTPRINT_BROKER_DIR: the filesystem broker's folder, shared with runners on this
    # host (runners/broker.py reads the same variable).
    _broker = celery_broker_config(
        env_str("CELERY_BROKER_URL", "filesystem://"),
        broker_dir=Path(env_str("FOOTPRINT_BROKER_DIR", str(VAR_DIR / "broker"))).resolve(),
    )
except ValueError as exc:
    raise ImproperlyConfigured(str(exc)) from None
CELERY_BROKER_URL = _broker["broker_url"]
CELERY_BROKER_TRANSPORT_OPTIONS = _broker.get("broker_transport_options", {})
CELERY_TASK_ACKS_LATE = COMMON_CELERY_CONFIG["task_acks_late"]
CELERY_TASK_REJECT_ON_WORKER_LOST = COMMON_CELERY_CONFIG["task_reject_on_worker_lost"]
CELERY_WORKER_PREFETCH_MULTIPLIER = COMMON_CELERY_CONFIG["worker_prefetch_multiplier"]
CELERY_TASK_SERIALIZER = COMMON_CELERY_CONFIG["task_serializer"]
CELERY_ACCEPT_CONTENT = COMMON_CELERY_CONFIG["accept_content"]
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_DEFAULT_QUEUE = PLATFORM_QUEUE
CELERY_TASK_ROUTES = ("footprint.celery.route_task",)
CELERY_BEAT_SCHEDULE = {
    "sweep-stuck-runs": {"task": "footprint.sweep_stuck_runs", "schedule": 60.0},
    "expire-uploads": {"task": "footprint.expire_uploads", "schedule": 3600.0},
}
CELERY_BEAT_SCHEDULE_FILENAME = env_str("FOOTPRINT_BEAT_SCHEDULE", str(VAR_DIR / "celerybeat-schedule"))
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
# Kept for reference by the admin/operator guide: brokers must not redeliver sooner.
FOOTPRINT_LONGEST_JOB_S = LONGEST_JOB_S

# ---------------------------------------------------------------------------------------
# Cache: shared by every process, for the API's throttles and the rate limits of sign-up,
# login and upload. FOOTPRINT_CACHE_URL: "db" (default, a table in the database; created by
# `migrate`), "redis://host:6379/1" in a deployment, or "locmem" (one
# process only: not for a deployment with several workers).

_cache_url = env_str("FOOTPRINT_CACHE_URL", "db")
if _cache_url == "db":
    _cache: dict[str, object] = {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "footprint_cache",
    }
elif _cache_url.startswith(("redis://", "rediss://", "unix://")):
    _cache = {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _cache_url}
elif _cache_url == "locmem":
    _cache = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
else:
    raise ImproperlyConfigured(
        f"FOOTPRINT_CACHE_URL={_cache_url!r} is not a cache; use db, redis://host:port/db or locmem"
    )
# "boards": rendered leaderboard pages under the board stamp (leaderboard.stamp), in each
# process's memory: the stamp, read from the database, keeps every process's copy current.
# "board_rows": the rendered cells of board rows under a digest of their content
# (leaderboard.row_cells), which a change to a board mostly leaves as they were, and what
# never changes once a result is stored (leaderboard.rows.result_parts).
CACHES = {
    "default": _cache,
    "boards": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "footprint-boards",
        "OPTIONS": {"MAX_ENTRIES": env_int("FOOTPRINT_BOARD_CACHE_ENTRIES", 128, minimum=1)},
    },
    "board_rows": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "footprint-board-rows",
        "OPTIONS": {"MAX_ENTRIES": env_int("FOOTPRINT_BOARD_ROW_CACHE_ENTRIES", 8192, minimum=1)},
    },
}

# django-ratelimit: sign-up, login, password login for API tokens, and uploads (web and API).
RATELIMIT_USE_CACHE = "default"
RATELIMIT_VIEW = "footprint.views.rate_limited"
FOOTPRINT_RATE_SIGNUP = env_str("FOOTPRINT_RATE_SIGNUP", "10/h")
FOOTPRINT_RATE_LOGIN = env_str("FOOTPRINT_RATE_LOGIN", "20/h")
FOOTPRINT_RATE_UPLOAD = env_str("FOOTPRINT_RATE_UPLOAD", "60/h")

# ---------------------------------------------------------------------------------------
# Quotas, enforced in the database (submissions.quotas) for the web upload and the API;
# an operator sets others per user and per benchmark in the admin (Quota rows).

FOOTPRINT_QUOTA_SUBMISSIONS_PER_DAY = env_int("FOOTPRINT_QUOTA_SUBMISSIONS_PER_DAY", 20, minimum=0)
FOOTPRINT_QUOTA_ACTIVE_RUNS = env_int("FOOTPRINT_QUOTA_ACTIVE_RUNS", 10, minimum=0)

# ---------------------------------------------------------------------------------------
# REST framework: /api/v1/ (platform/api). Throttles count in the shared cache above; they
# smooth traffic, they are not a security measure (the quotas are, in the database).

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "api.authentication.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticatedOrReadOnly",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "api.pagination.Pagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["api.throttles.AnonThrottle", "api.throttles.UserThrottle"],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_str("FOOTPRINT_API_RATE_ANON", "600/h"),
        "user": env_str("FOOTPRINT_API_RATE_USER", "6000/h"),
        "uploads": env_str("FOOTPRINT_API_RATE_UPLOADS", "600/h"),
    },
    "EXCEPTION_HANDLER": "api.errors.exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Footprint API",
    "DESCRIPTION": (
        "Submit compressed models, follow their runs, read measured results and leaderboards. "
        "Every figure carries its value, unit and label (measured, estimated or declared). "
        'Errors have one shape: {"error": {"code", "message", "fields"}}. '
        "Authenticate with a personal API token (Authorization: Bearer fp_...), made on /account/tokens/."
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {"RunStateEnum": "submissions.models.Run.State"},
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "api.schema.add_error_responses",
    ],
}

# ---------------------------------------------------------------------------------------
# Logging: to stderr, the platform's decisions at INFO.

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    "loggers": {"django": {"level": env_str("DJANGO_LOG_LEVEL", "INFO"), "propagate": True}},
}
