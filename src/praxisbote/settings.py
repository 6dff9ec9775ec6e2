"""Django settings, read from environment variables (see docs/configuration.md)."""

from __future__ import annotations

from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from praxisbote.conf import (
    data_dir,
    env_bool,
    env_int,
    env_list,
    env_str,
    read_or_create_key_file,
)

BASE_DIR = Path(__file__).resolve().parent
DATA_DIR = data_dir()

DEBUG = env_bool("PRAXISBOTE_DEBUG", False)
SECRET_KEY = env_str("PRAXISBOTE_SECRET_KEY") or read_or_create_key_file(DATA_DIR / "secret.key")
# Key for encrypting secrets at rest (SMTP passwords, gateway keys). Kept apart from
# SECRET_KEY so that rotating sessions does not make stored credentials unreadable.
ENCRYPTION_KEY = env_str("PRAXISBOTE_ENCRYPTION_KEY") or read_or_create_key_file(
    DATA_DIR / "encryption.key"
)
ALLOWED_HOSTS = env_list("PRAXISBOTE_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("PRAXISBOTE_CSRF_TRUSTED_ORIGINS", [])
BASE_URL = env_str("PRAXISBOTE_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "ninja",  # serves the API docs' Swagger UI from local files instead of a CDN
    "praxisbote.practices",
    "praxisbote.patients",
    "praxisbote.billing",
    "praxisbote.messaging",
    "praxisbote.texts",
    "praxisbote.appointments",
    "praxisbote.portal",
    "praxisbote.outreach",
    "praxisbote.web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "praxisbote.urls"
ASGI_APPLICATION = "praxisbote.asgi.application"
WSGI_APPLICATION = "praxisbote.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "praxisbote.web.context.practice",
            ],
        },
    },
]


def _sqlite(path: str) -> dict:
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": path,
        # WAL lets readers go on while the worker writes; IMMEDIATE takes the write
        # lock at BEGIN so two writers queue up instead of failing mid-transaction.
        "OPTIONS": {
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                "PRAGMA busy_timeout=30000; PRAGMA foreign_keys=ON;"
            ),
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
        "TEST": {"NAME": str(DATA_DIR / "test.sqlite3")},
    }


def _database() -> dict:
    url = env_str("DATABASE_URL")
    if not url:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        return _sqlite(str(DATA_DIR / "praxisbote.sqlite3"))
    config = dj_database_url.parse(url, conn_max_age=env_int("PRAXISBOTE_DB_CONN_MAX_AGE", 0))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        return _sqlite(config["NAME"])
    if config["ENGINE"] != "django.db.backends.postgresql":
        raise ImproperlyConfigured("DATABASE_URL must point at PostgreSQL or SQLite")
    # Shown in pg_stat_activity: lets operators (and the benchmark) tell the processes'
    # sessions apart; `praxisbote worker` and `serve` name theirs more precisely.
    config.setdefault("OPTIONS", {}).setdefault("application_name", "praxisbote")
    return config


DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "practices.User"
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "web:login"
LOGIN_REDIRECT_URL = "web:home"
LOGOUT_REDIRECT_URL = "web:login"
# Failed logins per e-mail address (and per client address) before a pause.
LOGIN_MAX_ATTEMPTS = env_int("PRAXISBOTE_LOGIN_MAX_ATTEMPTS", 5)
LOGIN_LOCKOUT_SECONDS = env_int("PRAXISBOTE_LOGIN_LOCKOUT_SECONDS", 900)

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env_bool("PRAXISBOTE_SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_AGE = env_int("PRAXISBOTE_SESSION_SECONDS", 8 * 3600)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

LANGUAGE_CODE = "de"
LANGUAGES = [("de", "Deutsch"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
# Only for operators who run collectstatic behind a web server; WhiteNoise needs none.
STATIC_ROOT = env_str("PRAXISBOTE_STATIC_ROOT") or None
# Serve straight from the apps' static folders: no collectstatic step for `make run`.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

LOG_LEVEL = env_str("PRAXISBOTE_LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
    raise ImproperlyConfigured(
        f"PRAXISBOTE_LOG_LEVEL must be DEBUG, INFO, WARNING, ERROR or CRITICAL, not {LOG_LEVEL!r}"
    )
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}

# API pagination bounds.
API_PAGE_DEFAULT = 50
API_PAGE_MAX = 500

# The outbox (docs/configuration.md). Retries: exponential backoff with jitter.
OUTBOX_BATCH_SIZE = env_int("PRAXISBOTE_OUTBOX_BATCH_SIZE", 500)
OUTBOX_LEASE_SECONDS = env_int("PRAXISBOTE_OUTBOX_LEASE_SECONDS", 120)
OUTBOX_IDLE_SECONDS = float(env_int("PRAXISBOTE_OUTBOX_IDLE_MS", 250)) / 1000
OUTBOX_RETRY_BASE_SECONDS = float(env_int("PRAXISBOTE_OUTBOX_RETRY_BASE_SECONDS", 30))
OUTBOX_RETRY_CAP_SECONDS = float(env_int("PRAXISBOTE_OUTBOX_RETRY_CAP_SECONDS", 3600))
OUTBOX_CREDIT_WAIT_SECONDS = env_int("PRAXISBOTE_OUTBOX_CREDIT_WAIT_SECONDS", 300)
OUTBOX_RESCUE_SECONDS = env_int("PRAXISBOTE_OUTBOX_RESCUE_SECONDS", 10)
OUTBOX_POLL_SECONDS = env_int("PRAXISBOTE_OUTBOX_POLL_SECONDS", 15)
# Give up on a message this long after it was due (RFC 5321 asks 4-5 days for e-mail).
OUTBOX_MAX_AGE_HOURS = {
    "email": env_int("PRAXISBOTE_MAX_AGE_HOURS_EMAIL", 120),
    "sms": env_int("PRAXISBOTE_MAX_AGE_HOURS_SMS", 72),
    "threema": env_int("PRAXISBOTE_MAX_AGE_HOURS_THREEMA", 72),
}
# Seed 003: an SMS not reported delivered within 3 days counts as not delivered.
OUTBOX_REPORT_WINDOW_HOURS = env_int("PRAXISBOTE_REPORT_WINDOW_HOURS", 72)

# Status webhooks (docs/webhooks.md#for-operators, read by messaging/webhooks.setting).
WEBHOOK_TIMEOUT_SECONDS = env_int("PRAXISBOTE_WEBHOOK_TIMEOUT_SECONDS", 10)
WEBHOOK_BATCH_SIZE = env_int("PRAXISBOTE_WEBHOOK_BATCH_SIZE", 100)
WEBHOOK_LEASE_SECONDS = env_int("PRAXISBOTE_WEBHOOK_LEASE_SECONDS", 300)
WEBHOOK_RETRY_BASE_SECONDS = env_int("PRAXISBOTE_WEBHOOK_RETRY_BASE_SECONDS", 10)
WEBHOOK_RETRY_CAP_SECONDS = env_int("PRAXISBOTE_WEBHOOK_RETRY_CAP_SECONDS", 3600)
# 10 s, 20 s, … 43 min, then hourly: the 35th and last attempt comes about 24 h after the first.
WEBHOOK_MAX_ATTEMPTS = env_int("PRAXISBOTE_WEBHOOK_MAX_ATTEMPTS", 35)
