"""Settings for the joint procurement collaboration, all from the environment.

With no variables set the site runs embedded: SQLite file, Celery tasks run
in-process, local-memory cache, DEBUG on. Production sets DATABASE_URL,
CELERY_BROKER_URL, REDIS_URL, SECRET_KEY, ALLOWED_HOSTS and DEBUG=0.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

# Core -----------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#core-settings
DEV_SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"
DEBUG = env.bool("DEBUG", default=True)
SECRET_KEY = env.str("SECRET_KEY", default=DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured(
        "DEBUG=0 (production mode) with the development SECRET_KEY: set SECRET_KEY to a "
        "long random value, e.g. python -c 'import secrets; print(secrets.token_urlsafe(50))'"
    )
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "axes",
    "csp",
    "rfi",
    "tenders",
    "suppliers",
    "spend",
    "kpi",
]

MIDDLEWARE = [
    # First: every later middleware's log lines carry the request id, and the request
    # metrics and the access line cover the whole stack.
    "django_prometheus.middleware.PrometheusBeforeMiddleware",
    "rfi.middleware.RequestIdMiddleware",
    "rfi.middleware.RefuseNulMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "rfi.middleware.DanishFirstMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "django_prometheus.middleware.PrometheusAfterMiddleware",
    # axes must be last: it turns a lockout into a response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "rfi.urls"
# A dropdown's empty choice in the page's language ("Vælg…"), not Django's "---------".
FORM_RENDERER = "rfi.forms.FormRenderer"
WSGI_APPLICATION = "rfi.wsgi.application"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "rfi.context_processors.navigation",
            ],
        },
    },
]

# Database ---------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#databases
# SQLite: IMMEDIATE transactions and a busy timeout avoid "database is locked"
# under concurrent writers (healthchecks issues #1057/#1072).
DATABASES = {
    "default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA busy_timeout=5000; PRAGMA journal_mode=WAL;",
    }
else:
    DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=60))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True

# Cache ----------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/cache/
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            # RedisCache that answers as an empty cache while Redis is down (rfi/cache.py).
            "BACKEND": "rfi.cache.ResilientRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Celery -----------------------------------------------------------------------
# https://docs.celeryq.dev/en/stable/userguide/configuration.html
# No broker: tasks run eagerly in-process (saleor). A dead broker must not hang
# a request: short connect timeouts and no publish retries (see rfi.tasks.enqueue).
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="")
CELERY_RESULT_BACKEND = env.str("CELERY_RESULT_BACKEND", default=CELERY_BROKER_URL or None)
CELERY_TASK_ALWAYS_EAGER = not CELERY_BROKER_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TIMEZONE = "Europe/Copenhagen"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_RESULT_EXPIRES = 3600
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "socket_connect_timeout": 2,
    "socket_timeout": 3,
    "max_retries": 1,
    # A late-acknowledged message a dead worker held comes back after this long. It must
    # outlast the longest task (an import waits up to 15 min for its region's lock and a
    # large one runs ~20 min; the nightly KPI run a few minutes), or a running task would be
    # delivered twice. Recovery does not wait for it: the sweeper re-sends a dead import
    # after 2 minutes and a lost KPI refresh after 1 (docs/operations.md).
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=2 * 3600),
}
# One message reserved per worker process: a killed worker holds only the task it ran
# (compose runs the worker with -O fair --prefetch-multiplier=1 too). The long tasks
# (spend.import_batch, kpi.recompute_*) are acknowledged late, each in its own decorator.
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_REDIS_SOCKET_CONNECT_TIMEOUT = 2
# The Redis result backend's default retry policy (20 retries, 1 s apart) held
# enqueue() ~20 s on a dead Redis before a bare RuntimeError; give up within a second.
CELERY_RESULT_BACKEND_TRANSPORT_OPTIONS = {
    "retry_policy": {"max_retries": 2, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
}
CELERY_REDIS_SOCKET_TIMEOUT = 3
# `python3 dev.py run`: a worker beside runserver on kombu's filesystem transport (no broker
# server), messages as files under .dev/broker/; no result backend (nothing waits for one).
# https://docs.celeryq.dev/projects/kombu/en/stable/reference/kombu.transport.filesystem.html
if CELERY_BROKER_URL.startswith("filesystem://"):
    _broker_folder = Path(
        env.str("CELERY_BROKER_FOLDER", default=str(BASE_DIR / ".dev" / "broker"))
    )
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_folder / "queue"),
        "data_folder_out": str(_broker_folder / "queue"),
        "control_folder": str(_broker_folder / "control"),
        "store_processed": False,
    }
    if CELERY_RESULT_BACKEND in ("", CELERY_BROKER_URL):
        CELERY_RESULT_BACKEND = None
CELERY_BEAT_SCHEDULE: dict = {
    # Daily at 07:00, before the working day: decision reminders fall due on exact days
    # (14 and 3 days before a deadline, PlanSettings), so the task must run every day and
    # once is enough (a DeadlineReminder row stops a second mail). A run still queued an
    # hour later is dropped: tomorrow's run is the next chance, not a late-morning burst.
    "tenders-decision-reminders": {
        "task": "tenders.send_decision_reminders",
        "schedule": crontab(hour=7, minute=0),
        "options": {"expires": 3600},
    },
    # Daily at 07:05: chiefs who have not voted on a recommended area are mailed three days
    # before the chiefs' meeting (CandidateArea.meeting_date).
    "tenders-vote-reminders": {
        "task": "tenders.send_vote_reminders",
        "schedule": crontab(hour=7, minute=5),
        "options": {"expires": 3600},
    },
    # Daily at 07:10: contract owners are mailed 90 and 30 days before an extension
    # option's notice deadline (suppliers/regional.py); the deadlines fall on exact days, so
    # it runs every day, and an ExtensionReminder row stops a second mail. Dropped if still
    # queued after an hour: the next day's run is the next chance.
    "suppliers-extension-reminders": {
        "task": "suppliers.send_extension_reminders",
        "schedule": crontab(hour=7, minute=10),
        "options": {"expires": 3600},
    },
    # Daily at 06:30: suppliers' alert digests of new and changed public tenders (one mail
    # a day at most; SentChange rows stop a second mail for the same change), and the purge
    # of unconfirmed and unsubscribed addresses. A run still queued two hours later is
    # dropped: tomorrow's run sends what it would have sent, nothing is lost.
    "suppliers-tender-digests": {
        "task": "suppliers.send_tender_digests",
        "schedule": crontab(hour=6, minute=30),
        "options": {"expires": 2 * 3600},
    },
    # Nightly at 01:30, before the KPI night job: re-match every region's current lines
    # against the contract registry. Contract changes send a re-match of their region at
    # once; this catches one that was lost (broker down, worker killed), so the 02:00 KPI
    # run reads lines matched to today's contracts. Dropped if still queued after an hour.
    "spend-rematch-all-regions": {
        "task": "spend.rematch_all_regions",
        "schedule": crontab(hour=1, minute=30),
        "options": {"expires": 3600},
    },
    # Nightly at 02:00, after the regions' ERP extracts have been imported and before
    # anyone reads a dashboard: the full KPI recompute (imports and contract changes
    # refresh their region in between). Runs are serialised by an advisory lock, so one
    # still queued after four hours is dropped rather than stacked behind the next night's.
    "kpi-recompute-all": {
        "task": "kpi.recompute_all",
        "schedule": crontab(hour=2, minute=0),
        "options": {"expires": 4 * 3600},
    },
    # Every minute: ledger uploads never sent (the broker was down when they came), sent but
    # not started, or left running by a dead worker (silent heartbeat) are sent to the workers
    # again, so no upload is forgotten; a batch that never finishes is failed after 5 starts
    # (spend.importer.pipeline). A run still queued after 50 s is dropped: the next does it.
    "spend-sweep-batches": {
        "task": "spend.sweep_batches",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
    # Every minute: a region whose latest import is newer than its figures (the refresh
    # after the import was lost with a worker or a broker) gets its refresh sent again.
    "kpi-refresh-owed": {
        "task": "kpi.refresh_owed",
        "schedule": crontab(minute="*"),
        "options": {"expires": 50},
    },
}

# Faults and recovery (docs/operations.md): a running import writes a heartbeat every
# LEDGER_HEARTBEAT_SECONDS; silent for LEDGER_HEARTBEAT_STALE_SECONDS, its worker is taken as
# dead and the sweeper sends it again. A stopping worker puts its import back in the queue
# after LEDGER_STOP_GRACE_SECONDS, inside compose's stop_grace_period (120 s).
LEDGER_HEARTBEAT_SECONDS = env.int("LEDGER_HEARTBEAT_SECONDS", default=10)
LEDGER_HEARTBEAT_STALE_SECONDS = env.int("LEDGER_HEARTBEAT_STALE_SECONDS", default=120)
LEDGER_STOP_GRACE_SECONDS = env.int("LEDGER_STOP_GRACE_SECONDS", default=90)
LEDGER_UNSENT_GRACE_SECONDS = env.int("LEDGER_UNSENT_GRACE_SECONDS", default=30)
LEDGER_QUEUED_STALE_SECONDS = env.int("LEDGER_QUEUED_STALE_SECONDS", default=300)
KPI_REFRESH_OWED_GRACE_SECONDS = env.int("KPI_REFRESH_OWED_GRACE_SECONDS", default=60)
KPI_REFRESH_RESEND_SECONDS = env.int("KPI_REFRESH_RESEND_SECONDS", default=300)

# Authentication -----------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/auth/ and https://django-axes.readthedocs.io/
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Failed logins are counted in the database, not the cache: with the cache down, logins
# stay limited (rfi/cache.py).
AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# How many proxies in front of the app append to X-Forwarded-For (rfi/network.py): 0 when
# gunicorn is reached directly, 1 behind the compose file's Caddy. Throttles, lockouts and
# the access log all take the client's address by this one rule.
NUM_PROXIES = env.int("NUM_PROXIES", default=0)
# Every date typed or imported must lie in this range (rfi/validation.py): 9999-12-31 is a
# typo, and it broke the public calendar for everyone.
PLAUSIBLE_DATES = ("2000-01-01", "2099-12-31")
HEALTHZ_CACHE_SECONDS = env.int("HEALTHZ_CACHE_SECONDS", default=5)
LEDGER_ERROR_REPORT_ROWS = env.int("LEDGER_ERROR_REPORT_ROWS", default=10_000)
AXES_CLIENT_IP_CALLABLE = "rfi.network.client_ip"
# API tokens (django-rest-knox): stored hashed, expire, revoked on a password change.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=30)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

# Internationalisation -------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/i18n/
LANGUAGE_CODE = "da"
LANGUAGES = [("da", _("Danish")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["rfi.formats"]
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True
TIME_ZONE = "Europe/Copenhagen"
CURRENCY = env.str("CURRENCY", default="DKK")

# Static files ------------------------------------------------------------------------
# https://whitenoise.readthedocs.io/
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Uploaded files: MEDIA_ROOT on a volume that web and worker share (MEDIA_STORAGE=filesystem,
# the default), or an S3-compatible object store for several machines (MEDIA_STORAGE=s3,
# django-storages; docs/operations.md). The bucket must not be public: files are served
# only through the views that check the region's rights.
MEDIA_STORAGE = env.str("MEDIA_STORAGE", default="filesystem")
if MEDIA_STORAGE == "s3":
    DEFAULT_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env.str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env.str("AWS_S3_ENDPOINT_URL", default=None),
            "region_name": env.str("AWS_S3_REGION_NAME", default=None),
            "access_key": env.str("AWS_S3_ACCESS_KEY_ID", default=None),
            "secret_key": env.str("AWS_S3_SECRET_ACCESS_KEY", default=None),
            "location": env.str("AWS_LOCATION", default=""),
            "default_acl": "private",
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
elif MEDIA_STORAGE == "filesystem":
    DEFAULT_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured(f"MEDIA_STORAGE={MEDIA_STORAGE!r}: use filesystem or s3")
STORAGES = {
    "default": DEFAULT_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# REST API ---------------------------------------------------------------------------
# https://www.django-rest-framework.org/api-guide/settings/
REST_FRAMEWORK = {
    # Token first: an unauthenticated request then gets 401 with WWW-Authenticate.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "knox.auth.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    # A service's ValidationError → 400 and PermissionDenied → 403 (HackSoft styleguide).
    "EXCEPTION_HANDLER": "rfi.api.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("API_THROTTLE_ANON", default="60/minute"),
        "user": env.str("API_THROTTLE_USER", default="1200/minute"),
        # POST /api/token/ per client address: password guessing through the API.
        "token": env.str("API_THROTTLE_TOKEN", default="10/minute"),
    },
    "NUM_PROXIES": NUM_PROXIES,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "RFI joint procurement API",
    "DESCRIPTION": "Reference data, tender plan, contracts, spend and KPIs of the collaboration.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # "status" and "kind" name several choice lists; give each its own schema name.
    "ENUM_NAME_OVERRIDES": {
        "TenderStatusEnum": "tenders.models.TenderCase.Status",
        "TenderKindEnum": "tenders.models.TenderCase.Kind",
        "ParticipationStatusEnum": "tenders.models.Participation.Status",
        "ImportBatchStatusEnum": "spend.models.ImportBatch.Status",
        "ContractExtensionDecisionEnum": "suppliers.models.ContractExtension.Decision",
    },
}

# Security ------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/howto/deployment/checklist/
# https://django-csp.readthedocs.io/
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "frame-ancestors": [NONE],
        "form-action": [SELF],
    }
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SESSION_COOKIE_HTTPONLY = True
if not DEBUG:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # Probes and Prometheus reach the web container directly, without the TLS proxy.
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

# E-mail -------------------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/email/
EMAIL_BACKEND = env.str(
    "EMAIL_BACKEND",
    default=(
        "django.core.mail.backends.console.EmailBackend"
        if DEBUG
        else "django.core.mail.backends.smtp.EmailBackend"
    ),
)
EMAIL_HOST = env.str("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="rfi@localhost")
# Absolute links in mails sent outside a request (alert digests, reminders).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

# Public portal: OCDS feed and suppliers' alerts ------------------------------------------------
# https://standard.open-contracting.org/1.1/en/schema/identifiers/#contracting-process-identifier-ocid
# The ocid prefix is registered with the Open Contracting Partnership; the default is a
# placeholder that must be replaced before the feed is announced (docs/ocds.md).
OCDS_OCID_PREFIX = env.str("OCDS_OCID_PREFIX", default="ocds-xxxxxx-rfi")
OCDS_PUBLISHER_NAME = env.str("OCDS_PUBLISHER_NAME", default="Regionernes Fælles Indkøb")
OCDS_LICENSE = env.str("OCDS_LICENSE", default="")
# A confirmation link is valid this long; unconfirmed addresses are purged after it.
ALERT_CONFIRM_MAX_AGE_HOURS = env.int("ALERT_CONFIRM_MAX_AGE_HOURS", default=72)
# An unsubscribed address is kept this long (the subscriber may resubscribe), then purged.
ALERT_UNSUBSCRIBED_RETENTION_DAYS = env.int("ALERT_UNSUBSCRIBED_RETENTION_DAYS", default=30)

# Logging and metrics ---------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/topics/logging/ and https://nhairs.github.io/python-json-logger/
# One JSON object a line in production (DEBUG=0), a readable line in development; times in
# UTC either way. Every line carries the request id (rfi.observability), also in the worker.
LOG_FORMAT = env.str("LOG_FORMAT", default="console" if DEBUG else "json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "rfi.observability.RequestIdFilter"}},
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(levelname)s %(name)s %(message)s %(request_id)s %(task)s %(task_id)s",
            "rename_fields": {"levelname": "level", "name": "logger"},
            "timestamp": "time",  # UTC, ISO 8601
        },
        "console": {
            "()": "rfi.observability.UTCConsoleFormatter",
            "format": "%(asctime)s %(levelname)-7s [%(request_id)s] %(name)s: %(message)s",
        },
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["request_id"],
            "formatter": LOG_FORMAT,
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {
        # Django's own console handler would print its lines a second time, unformatted.
        "django": {"handlers": [], "level": "INFO", "propagate": True},
        # runserver's request lines: rfi.access logs every request already.
        "django.server": {"handlers": [], "level": "WARNING", "propagate": True},
    },
}
if CELERY_TASK_ALWAYS_EAGER or CELERY_BROKER_URL.startswith(("filesystem://", "memory://")):
    # No broker server (embedded, or dev.py's filesystem broker): kombu's "No hostname was
    # supplied" names a host nobody needs.
    LOGGING["loggers"]["kombu.connection"] = {"level": "ERROR"}
if CELERY_TASK_ALWAYS_EAGER:
    # Tasks run in-process: Celery's line per task run is noise, not news. Failures still log.
    LOGGING["loggers"]["celery.app.trace"] = {"level": "WARNING"}
# /metrics (Prometheus): the secretariat signed in, or "Authorization: Bearer <METRICS_TOKEN>".
# Empty: no token is accepted. Gunicorn with several workers: set PROMETHEUS_MULTIPROC_DIR
# (docs/operations.md).
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")

# The collaboration's reference data (regions and partner bodies) for seed_reference.
COLLABORATION_FILE = env.path(
    "COLLABORATION_FILE", default=BASE_DIR / "rfi" / "data" / "collaboration_dk.json"
)

# Ledger extracts --------------------------------------------------------------------------
# https://docs.djangoproject.com/en/5.2/ref/settings/#media-root
# Uploaded extracts and their error reports are kept as records; they are confidential and
# never served from MEDIA_URL, only through views that check the region's rights.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# Large uploads spool to a temporary file with no name on disk: an interrupted upload, even
# one whose process was killed, leaves no file behind (spend/importer/upload.py).
FILE_UPLOAD_HANDLERS = [
    "django.core.files.uploadhandler.MemoryFileUploadHandler",
    "spend.importer.upload.UnnamedTemporaryFileUploadHandler",
]
# A contract's documents (signed contract, appendices: PDF, .docx, .xlsx), kept under
# MEDIA_ROOT/contracts/ and handed out only by suppliers.regional_views.document_download.
CONTRACT_DOCUMENT_MAX_BYTES = env.int("CONTRACT_DOCUMENT_MAX_BYTES", default=25 * 1024 * 1024)
# Enforced while the upload streams (FILE_UPLOAD_MAX_MEMORY_SIZE is not a limit).
LEDGER_MAX_UPLOAD_BYTES = env.int("LEDGER_MAX_UPLOAD_BYTES", default=200 * 1024 * 1024)
# Superseded uploads' files (and error reports) are deleted this many days after they were
# replaced; the batch record stays and says so. The current batch's file is always kept.
LEDGER_SUPERSEDED_RETENTION_DAYS = env.int("LEDGER_SUPERSEDED_RETENTION_DAYS", default=90)
# Where manage.py backup writes its timestamped folders (docs/operations.md).
BACKUP_ROOT = env.path("BACKUP_ROOT", default=BASE_DIR / "backups")
