"""Django settings of the pmrtrial EDC (read from the environment; see :mod:`pmrtrial.edc.conf`).

Environment
-----------
DATABASE_URL                 ``postgresql://user:password@host:port/name``; unset = SQLite.
PMRTRIAL_EDC_DB              SQLite file (default ``~/.local/share/pmrtrial/edc.sqlite3``).
PMRTRIAL_EDC_SECRET_KEY      secret key (default: generated once into the data directory).
PMRTRIAL_EDC_AUDIT_KEY       HMAC key of the audit chain (default ``<db>.audit-key`` beside the SQLite file;
                             PostgreSQL: ``<data dir>/<db name>.audit-key``). Owner-only (0600).
PMRTRIAL_EDC_AUDIT_ANCHOR    append-only anchor of the chain head (default ``<db>.audit-anchor``, same rule).
PMRTRIAL_EDC_AUDIT_DIR       folder for both files instead of the defaults above.
PMRTRIAL_EDC_ALLOWED_HOSTS   comma-separated host names (default ``127.0.0.1,localhost``).
PMRTRIAL_EDC_INSECURE_COOKIES=1  allow session/CSRF cookies over plain HTTP (loopback demos only).
PMRTRIAL_EDC_DEBUG=1         Django debug mode (never in production).
PMRTRIAL_EDC_HTTPS=1         behind a TLS-terminating reverse proxy that sets ``X-Forwarded-Proto``:
                             redirect plain HTTP to HTTPS, send HSTS (one year), trust the proxy's
                             ``X-Forwarded-Proto`` and (for login throttling) the last
                             ``X-Forwarded-For`` address.
PMRTRIAL_EDC_SQLITE_SYNC     ``NORMAL`` (default) or ``FULL``: SQLite durability on power loss
                             (see :func:`pmrtrial.edc.conf.sqlite_synchronous`).
PMRTRIAL_EDC_PG_PREPARE      ``1`` (default) or ``0``: PostgreSQL server-side parameters and prepared
                             statements; ``0`` behind a pooler that cannot keep them
                             (see :func:`pmrtrial.edc.conf.pg_statement_options`).
"""

from __future__ import annotations

import os
from pathlib import Path

from django.utils.translation import gettext_lazy as _

from pmrtrial.edc.conf import database_settings, secret_key

BASE_DIR = Path(__file__).resolve().parent

DEBUG = os.environ.get("PMRTRIAL_EDC_DEBUG") == "1"
SECRET_KEY = secret_key()
ALLOWED_HOSTS = [
    h for h in os.environ.get("PMRTRIAL_EDC_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h
]

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "pmrtrial.edc.audit",
    "pmrtrial.edc.sites",
    "pmrtrial.edc.accounts",
    "pmrtrial.edc.screening",
    "pmrtrial.edc.consent",
    "pmrtrial.edc.randomisation",
    "pmrtrial.edc.visits",
    "pmrtrial.edc.crfs",
    "pmrtrial.edc.adverse_events",
    "pmrtrial.edc.queries",
    "pmrtrial.edc.exports",
    "pmrtrial.edc.ui",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "pmrtrial.edc.accounts.middleware.RequestDataMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "pmrtrial.edc.accounts.middleware.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "pmrtrial.edc.accounts.middleware.SecurityHeadersMiddleware",
]

ROOT_URLCONF = "pmrtrial.edc.urls"
WSGI_APPLICATION = "pmrtrial.edc.wsgi.application"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "pmrtrial.edc.ui.context.edc",
            ]
        },
    }
]

DATABASES = {"default": database_settings()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Argon2 first: new and re-hashed passwords use it.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 10}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"

# Sessions: 30 minutes of inactivity, cookies HTTP-only, Secure unless explicitly served on plain HTTP.
_INSECURE = os.environ.get("PMRTRIAL_EDC_INSECURE_COOKIES") == "1"
SESSION_COOKIE_AGE = 30 * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Strict"
SESSION_COOKIE_SECURE = not _INSECURE
CSRF_COOKIE_SECURE = not _INSECURE
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Strict"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if os.environ.get("PMRTRIAL_EDC_HTTPS") == "1":
    SECURE_SSL_REDIRECT = True
    SECURE_HSTS_SECONDS = 31536000
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Request bodies above 1 MB are refused (HTTP 413 on the API): a form save is a few kB.
DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000_000

# Password throttling (login and e-signature): growing delays per user name and per client address,
# never a lock (see pmrtrial.edc.accounts.throttle).
PASSWORD_THROTTLE_WINDOW_SECONDS = 15 * 60
PASSWORD_THROTTLE_USER_FREE = 3
PASSWORD_THROTTLE_USER_MAX_DELAY = 60
PASSWORD_THROTTLE_IP_FREE = 10
PASSWORD_THROTTLE_IP_MAX_DELAY = 300

LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
TIME_ZONE = "UTC"

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = False

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
