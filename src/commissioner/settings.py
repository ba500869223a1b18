"""Django settings for Commissioner.

One settings module; the environment chooses the mode:
- ``DATABASE_URL``: the database (default: SQLite file under ``var/``), the same for
  the CLI, the server and the tests.
- ``COMMISSIONER_ENV=production``: secure cookies, HSTS, SSL redirect; SQLite refused.
"""

import os
from pathlib import Path

import dj_database_url

PACKAGE_DIR = Path(__file__).resolve().parent
BASE_DIR = Path(os.environ.get("COMMISSIONER_HOME", PACKAGE_DIR.parent.parent)).resolve()
VAR_DIR = BASE_DIR / "var"

ENVIRONMENT = os.environ.get("COMMISSIONER_ENV", "development")
PRODUCTION = ENVIRONMENT == "production"
DEBUG = os.environ.get("DJANGO_DEBUG", "0") == "1" and not PRODUCTION

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise RuntimeError("SECRET_KEY must be set when COMMISSIONER_ENV=production")
    SECRET_KEY = "insecure-development-key-only-for-the-local-demo-" + "x" * 20

ALLOWED_HOSTS = [h for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",") if h]
CSRF_TRUSTED_ORIGINS = [o for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o]

# Covering indexes (INCLUDE) speed up benchmarking on PostgreSQL; SQLite builds the same index without the
# extra columns, which is all W040 says.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "commissioner.core",
    "commissioner.orgs",
    "commissioner.register",
    "commissioner.ocds",
    "commissioner.performance",
    "commissioner.benchmarking",
    "commissioner.risk",
    "commissioner.appraisal",
    "commissioner.socialvalue",
    "commissioner.market",
    "commissioner.participation",
    "commissioner.feedback",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "commissioner.core.middleware.SecurityHeadersMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "commissioner.urls"
WSGI_APPLICATION = "commissioner.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [PACKAGE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "commissioner.core.context.site",
                "commissioner.core.context.nav",
            ],
        },
    },
]

VAR_DIR.mkdir(parents=True, exist_ok=True)
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL", f"sqlite:///{VAR_DIR / 'commissioner.sqlite3'}"),
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "60")),
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    if PRODUCTION:
        raise RuntimeError("SQLite is for the demo and tests only: set DATABASE_URL to PostgreSQL in production")
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # 8 kB pages for a new database (an existing one keeps its own; set before WAL, which fixes it): contract
    # and release rows of 2-3 kB waste less of each page, and a big import makes half the page writes of 4 kB
    # pages (4% faster at 100,000 releases, docs/benchmarks.md).
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE",
         "init_command": "PRAGMA page_size=8192; PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "home"
# Failed logins allowed per username and per client address in the window.
LOGIN_RATE_LIMIT = int(os.environ.get("LOGIN_RATE_LIMIT", "5"))
LOGIN_RATE_WINDOW_SECONDS = int(os.environ.get("LOGIN_RATE_WINDOW_SECONDS", "900"))
# Number of reverse proxies in front of the app whose X-Forwarded-For we trust for the client address.
LOGIN_TRUSTED_PROXIES = int(os.environ.get("LOGIN_TRUSTED_PROXIES", "0"))

LANGUAGE_CODE = "en-gb"
TIME_ZONE = "Europe/London"
USE_I18N = False
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [PACKAGE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Security headers (see core.middleware for CSP and Permissions-Policy).
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
if PRODUCTION:
    SECURE_SSL_REDIRECT = os.environ.get("SECURE_SSL_REDIRECT", "1") == "1"
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

# Email (reminders). COMMISSIONER_EMAIL_BACKEND: console (the default: printed on standard output), file
# (one file per message under var/mail/), smtp (EMAIL_HOST, EMAIL_PORT, ...), locmem, dummy, or a backend's
# dotted path.
_EMAIL_BACKENDS = {name: f"django.core.mail.backends.{name}.EmailBackend"
                   for name in ("console", "smtp", "locmem", "dummy")} | {
    "file": "django.core.mail.backends.filebased.EmailBackend"}
_EMAIL_BACKEND = os.environ.get("COMMISSIONER_EMAIL_BACKEND", "") or "console"
EMAIL_BACKEND = _EMAIL_BACKENDS.get(_EMAIL_BACKEND, _EMAIL_BACKEND)
EMAIL_FILE_PATH = VAR_DIR / "mail"
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("EMAIL_PORT", "25"))
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = os.environ.get("EMAIL_USE_TLS", "0") == "1"
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Commissioner <commissioner@localhost>")

# Reminders (`commissioner remind`): a return is overdue this many days after its period ends; periods
# that ended more than the look-back ago are not reminded of; recommissioning decisions are reminded of
# this many days ahead. Links in emails start with REMINDER_BASE_URL.
REMINDER_RETURN_OVERDUE_DAYS = int(os.environ.get("REMINDER_RETURN_OVERDUE_DAYS", "30"))
REMINDER_LOOKBACK_DAYS = int(os.environ.get("REMINDER_LOOKBACK_DAYS", "365"))
REMINDER_DECISION_DAYS = int(os.environ.get("REMINDER_DECISION_DAYS", "90"))
REMINDER_BASE_URL = os.environ.get("REMINDER_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Register settings
REGISTER_PAGE_SIZE = 25
API_MAX_PAGE_SIZE = 500
# Any single amount above this is rejected as absurd (GBP 1 trillion).
MAX_AMOUNT = 10**12
SITE_NAME = "Commissioner"

# Contract performance (docs/methods.md). Forward plan: (minimum value, months before the end a
# recommissioning decision is needed), the row with the largest minimum at or below the value applies.
FORWARD_PLAN_LEAD_TIMES = ((0, 6), (100_000, 9), (1_000_000, 12), (5_000_000, 18))
# Value tests: periods in a row below target; months ahead for break/extension/end decisions; fewest
# comparable contracts for a unit-price comparison; years without a change or review; the share of
# the council's spend in a category with one supplier that counts as dependence.
VALUE_TEST_SETTINGS = {"misses": 2, "decision_months": 6, "min_comparables": 3, "stale_years": 3,
                       "dependency_share": 0.5}

# Residents' feedback (docs/feedback.md). Posting limits per account and per client address: (stories, seconds).
# From FEEDBACK_WAVE_HOLD posts from one address in the address window on, stories are held as a spam wave;
# at the address limit they are refused.
FEEDBACK_LIMIT_ACCOUNT = (5, 24 * 3600)
FEEDBACK_LIMIT_ADDRESS = (10, 3600)
FEEDBACK_WAVE_HOLD = 3
FEEDBACK_REPORTS_TO_HIDE = 3
FEEDBACK_CONFIRM_DAYS = 7  # the emailed confirmation link works this long
# Retention (days): residents' accounts not used for this long are anonymised (their stories kept, anonymous);
# unconfirmed accounts are deleted; posting attempts and reporters' addresses are deleted or cleared; the text of
# stories that were not published is cleared.
FEEDBACK_RETENTION_DAYS = {"inactive_account": 730, "unconfirmed_account": 30, "post_attempts": 30,
                           "report_addresses": 90, "rejected_text": 180}
FEEDBACK_MODEL_PATH = os.environ.get("FEEDBACK_MODEL_PATH", "") or str(VAR_DIR / "models" / "feedback-model.joblib")
