"""Settings, read from the environment.

Every setting that differs between a laptop and production comes from an environment
variable, read through the small helpers below. A value that cannot be understood
stops start-up with ``ImproperlyConfigured`` naming the variable, rather than running
with a surprise. With nothing set, the project runs in development mode on SQLite.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str | None:
    """The variable's value, or ``default`` when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, *, default: bool) -> bool:
    """A yes/no variable; anything but a recognised word is an error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(
        f"{name}={raw!r} is not a yes/no value: use one of 1, true, yes, on, 0, false, no, off."
    )


def env_int(name: str, *, default: int, minimum: int = 0) -> int:
    """A whole number no smaller than ``minimum``."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


def env_list(name: str, *, default: list[str]) -> list[str]:
    """A comma-separated list; empty items are dropped."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_rate(name: str, *, default: str) -> str:
    """A request rate such as ``60/minute``: a positive count per second, minute, hour or day."""
    raw = os.environ.get(name, default)
    count, _, period = raw.strip().partition("/")
    if not (count.isdigit() and int(count) > 0 and period in {"second", "minute", "hour", "day"}):
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a rate: use <count>/<second|minute|hour|day>, e.g. 60/minute."
        )
    return f"{int(count)}/{period}"


def env_redis_url(name: str) -> str | None:
    """A Redis URL such as ``redis://127.0.0.1:6379/0`` (``rediss://`` for TLS), or None when unset."""
    raw = os.environ.get(name)
    if not raw:
        return None
    parts = urlsplit(raw)
    if parts.scheme not in {"redis", "rediss"} or not parts.hostname:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a Redis URL: use redis://host:port/db or rediss://host:port/db."
        )
    return raw


def env_page_cost(name: str, *, default: float = 1.1) -> float:
    """A planner cost: a positive number."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not value > 0 or value == float("inf"):
        raise ImproperlyConfigured(f"{name}={raw!r} must be a positive number, such as 1.1 or 4.")
    return value


def env_database(name: str, *, default: str) -> dict:
    """A database URL such as ``postgres://postgres@127.0.0.1:5432/sco``."""
    raw = os.environ.get(name) or default
    try:
        config = dj_database_url.parse(raw, conn_max_age=60, conn_health_checks=True)
    except ValueError as error:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a usable database URL: {error}") from None
    engine = config.get("ENGINE", "")
    if engine not in {"django.db.backends.sqlite3", "django.db.backends.postgresql"}:
        raise ImproperlyConfigured(f"{name}={raw!r}: only sqlite:// and postgres:// databases are supported.")
    if engine.endswith("sqlite3"):
        config["CONN_MAX_AGE"] = 0
    else:
        # A database host gone silent fails the connection within seconds (a 503 that says to
        # retry) instead of holding a worker until gunicorn kills it. A ?connect_timeout= wins.
        options = config.setdefault("OPTIONS", {})
        options.setdefault("connect_timeout", 5)
        # PostgreSQL's planner prices a random read at four sequential ones (its default, made
        # for spinning disks); on SSDs or a database held in memory they cost about the same.
        # At 4 it walks a whole course's notes by their course index rather than look a word
        # up in the search index (16 ms against 4 for a common word in a large course).
        # Set PG_RANDOM_PAGE_COST (or ?options= in the URL) to what the server's disks justify.
        options.setdefault("options", f"-c random_page_cost={env_page_cost('PG_RANDOM_PAGE_COST')}")
    return config


DEBUG = env_bool("DEBUG", default=True)

SECRET_KEY = env_str("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    # Development only: a fixed key so sessions survive restarts of `make demo`.
    SECRET_KEY = "django-insecure-development-key-not-for-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "scoproject.apps.ScoAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "axes",
    "csp",
    "timeline",
    "annotations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Outside everything that may query the database: a database that does not answer is a
    # 503 that says to retry (see README, "Faults and recovery").
    "scoproject.middleware.DatabaseUnavailableMiddleware",
    # Before anything reads the body, so an oversized one is refused with a 413.
    "scoproject.middleware.RequestBodyLimitMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Form posts share the API's write budget (see scoproject/throttling.py).
    "scoproject.throttling.PageWriteThrottleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, so that it sees the outcome of every login attempt.
    "axes.middleware.AxesMiddleware",
]

AUTHENTICATION_BACKENDS = [
    # Refuses a login while the account or address is locked out, before checking the password.
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

# Login lockout, for AXES_COOLOFF_MINUTES: a username after AXES_FAILURE_LIMIT failures from
# any addresses (guessing one password), and an address after AXES_ADDRESS_FAILURE_LIMIT
# failures for any usernames (trying one password on many accounts). The address limit is
# higher because a school's network puts many honest students behind one address.
# Each item of the list is locked on its own; the handler applies each its own limit.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", default=5, minimum=1)
AXES_ADDRESS_FAILURE_LIMIT = env_int("AXES_ADDRESS_FAILURE_LIMIT", default=20, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", default=15, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_HANDLER = "scoproject.throttling.LockoutDatabaseHandler"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False

# Scaling out: with REDIS_URL set, every app server keeps its cache, its sessions and its
# login-failure counts in one Redis, so any server can answer any request. Unset, each
# process keeps its own local-memory cache and sessions live in the database (the demo
# needs nothing installed).
REDIS_URL = env_redis_url("REDIS_URL")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # Several projects (or test runs) may share one Redis; the prefix keeps their keys apart.
            "KEY_PREFIX": env_str("REDIS_KEY_PREFIX", "sco"),
        }
    }
    # Sessions read from Redis by every server and written through to the database too
    # (`cached_db`): a Redis restart or eviction never signs anyone out mid-work.
    SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"
    # Failure counts in the shared cache, so the lockout budget is one for all servers.
    AXES_HANDLER = "scoproject.throttling.LockoutCacheHandler"
else:
    # Room for the reading's rendered notes (annotations.fragments) of a few busy courses.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "OPTIONS": {"MAX_ENTRIES": env_int("LOCAL_CACHE_MAX_ENTRIES", default=20000, minimum=300)},
        }
    }

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "courses:list"
LOGOUT_REDIRECT_URL = "annotations:home"

ROOT_URLCONF = "scoproject.urls"

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
                "annotations.context_processors.unread_notifications",
            ],
        },
    },
]

WSGI_APPLICATION = "scoproject.wsgi.application"

DATABASES = {
    "default": env_database("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
# A read replica: reads outside a transaction go there (see scoproject/routers.py).
if env_str("DATABASE_REPLICA_URL"):
    DATABASES["replica"] = env_database("DATABASE_REPLICA_URL", default="")
    # Under test there is no replication, so the replica alias reads the test database itself.
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["scoproject.routers.ReplicaRouter"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
# The interface speaks these; LocaleMiddleware picks one from the switch's cookie or the
# browser's Accept-Language, falling back to English.
LANGUAGES = [
    ("en", "English"),
    ("zh-hans", "简体中文"),
    ("ru", "Русский"),
]
LOCALE_PATHS = [BASE_DIR / "scoproject" / "locale"]
# Named date formats ("DATE_FORMAT", "DATETIME_FORMAT") follow the language; English keeps
# the pages' "27 Nov 2026, 14:05".
FORMAT_MODULE_PATH = ["scoproject.formats"]
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where `collectstatic` gathers the files WhiteNoise serves when DEBUG is off.
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "scoproject" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# Production switches: on whenever DEBUG is off, so `check --deploy` is clean.
# Behind a TLS-terminating proxy, trust its X-Forwarded-Proto: the proxy must set it on
# every request (overwriting any a client sent), or a client could claim HTTPS.
if env_bool("BEHIND_TLS_PROXY", default=not DEBUG):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_SECURE = not DEBUG
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=not DEBUG)
# A load balancer checks /health/ over plain HTTP from inside the network: answer, don't redirect.
SECURE_REDIRECT_EXEMPT = [r"^health/$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=not DEBUG)
# `preload` asks browsers' built-in HSTS lists to include the domain once it is submitted to
# them; it is on so `check --deploy` is clean, and off (SECURE_HSTS_PRELOAD=false) for a
# domain whose subdomains are not all served over HTTPS. See README, "Security".
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", default=not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy, in every environment (the demo too): scripts and styles only
# from this site's own files, never inline. The API docs page loosens style-src for its
# own inline styles (scoproject/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Request bodies: a form or JSON body over this size is refused with a 413 before it is
# read (file uploads are not counted). Markdown fields have their own, smaller limit.
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("MAX_REQUEST_BODY_BYTES", default=2_621_440, minimum=1024)

# Writes (unsafe methods) per signed-in user, or per address when signed out, shared by the
# API and the pages' forms; reads are not throttled. A rate is "<number>/<second|minute|hour|day>".
WRITE_RATE = env_rate("WRITE_RATE", default="60/minute")
# How many proxies in front set X-Forwarded-For; 0 means the direct peer is the client.
# Throttles and login lockouts count per client address, so it must not be taken from a
# header a client can write unless a proxy of ours sets it.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", default=0)
if TRUSTED_PROXY_COUNT:
    AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT
    AXES_IPWARE_META_PRECEDENCE_ORDER = ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR")

REST_FRAMEWORK = {
    # Token first, so that an anonymous request to a protected endpoint gets a 401 with
    # a WWW-Authenticate header (session auth alone would answer 403).
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "scoproject.pagination.PageNumberPagination",
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "EXCEPTION_HANDLER": "scoproject.exceptions.exception_handler",
    "DEFAULT_THROTTLE_CLASSES": ["scoproject.throttling.WriteRateThrottle"],
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SCO reading platform API",
    "DESCRIPTION": (
        "Read the paper's records (documents, paragraphs, claims, events, actors, sources) "
        "as JSON. Lists are paginated and filtered with query parameters."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # Served from this site, never from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Event dates, end dates and claims' stated dates share one precision vocabulary.
    "ENUM_NAME_OVERRIDES": {
        "PrecisionEnum": "timeline.dates.Precision",
        "SourceKindEnum": "annotations.models.reading.Source.Kind",
    },
    # Every operation documents the errors it can answer (401/403/404, 400 for input, ...).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "scoproject.exceptions.schema_error_responses",
    ],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "WARNING")},
}

# E-mail (notifications): printed to the console unless EMAIL_BACKEND says otherwise.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "SCO reading <noreply@localhost>")
# The site's address, for links in e-mails.
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# The reading loaded by `make demo` and by the tests.
DEFAULT_READING_DIR = BASE_DIR / "fixtures" / "sco-paper"
