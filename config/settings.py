"""Clinic Portal settings: one module, every deployment-specific value read from the environment.

CLINICPORTAL_ENV=production turns on the hardened profile (HTTPS only, HSTS, secure cookies,
SECRET_KEY required); see README.md for every variable.
"""

from __future__ import annotations

from pathlib import Path

from django.utils.csp import CSP
from django.utils.translation import gettext_lazy as _

from config.env import (
    base_url,
    env_bool,
    env_choice,
    env_database,
    env_http_url,
    env_http_url_or_off,
    env_int,
    env_list,
    env_networks,
    env_socket,
    env_str,
    secret_key,
    secrets_keys,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("CLINICPORTAL_VAR_DIR", str(BASE_DIR / "var")))

ENVIRONMENT = env_choice("CLINICPORTAL_ENV", "development", ("development", "production"))
PRODUCTION = ENVIRONMENT == "production"

DEBUG = env_bool("DEBUG", False)
SECRET_KEY = secret_key(production=PRODUCTION, var_dir=VAR_DIR)
CLINICPORTAL_SECRETS_KEYS = secrets_keys(production=PRODUCTION, var_dir=VAR_DIR)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Where patients reach the site: every link in an email starts with it (never the Host header).
CLINICPORTAL_BASE_URL = base_url("CLINICPORTAL_BASE_URL", production=PRODUCTION)
# Where staff reach the office and the API. A host of its own keeps the office's sessions out of
# the portal's pages' reach (core/hosts.py); "" (unset): the office is at the portal's address.
CLINICPORTAL_OFFICE_URL = base_url("CLINICPORTAL_OFFICE_URL", production=PRODUCTION, default="")
# The TEST card processor records payments no one made: never offered on a production site.
CLINICPORTAL_TEST_PROCESSOR = not PRODUCTION
# Stripe's API. Only the tests change it, to a local server that speaks Stripe's API.
CLINICPORTAL_STRIPE_API_BASE = "https://api.stripe.com"
# Seconds to wait for a card processor's answer before telling the patient to try again later.
CLINICPORTAL_PROCESSOR_TIMEOUT = env_int("CLINICPORTAL_PROCESSOR_TIMEOUT", 20, minimum=1)
CSRF_FAILURE_VIEW = "clinicportal.core.errors.csrf_failure"
# The load balancers and proxies in front of the app servers: only when the connection comes
# from one of them is its X-Forwarded-For believed (see core.context.client_ip).
CLINICPORTAL_TRUSTED_PROXIES = env_networks("CLINICPORTAL_TRUSTED_PROXIES")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "clinicportal.core",
    "clinicportal.accounts",
    "clinicportal.practices",
    "clinicportal.audit",
    "clinicportal.content",
    "clinicportal.patients",
    "clinicportal.office",
    "clinicportal.records",
    "clinicportal.messaging",
    "clinicportal.billing",
    "clinicportal.scheduling",
    "clinicportal.intake",
    "clinicportal.notifications",
    "clinicportal.portal",
    # The demo practice and its commands (demo_load, demo_smtp ...): never in production,
    # whose install leaves out the demo's dependencies (faker, aiosmtpd).
    *([] if PRODUCTION else ["clinicportal.demo"]),
    # After notifications, whose db_worker command (the library's, made resilient) wins.
    "django_tasks_db",
]

MIDDLEWARE = [
    # First: every later middleware's log lines carry the request id.
    "clinicportal.core.logcontext.RequestLogMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Right after the HTTPS redirect, which leaves the API out: refuses plain-http API requests.
    "clinicportal.api.middleware.ApiHttpsOnlyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # After sessions, before common: picks each request's language (English only, for now).
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before anything that reads a request's body (the CSRF check reads forms).
    "clinicportal.content.middleware.UnfinishedUploadsMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # After every middleware that adds headers, before every view and CSRF check: answers only
    # what this origin's pages or the person asked for (ASVS 3.5.8).
    "clinicportal.core.fetch_metadata.FetchMetadataMiddleware",
    # Last, so that its answers carry the headers above: the office only at its own host, the
    # portal only at the others.
    "clinicportal.core.hosts.SeparateHostsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "clinicportal.office.context_processors.nav",
            ],
        },
    },
]

DATABASES = {"default": env_database("DATABASE_URL", VAR_DIR / "clinicportal.sqlite3")}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
# Argon2id first: every new or changed password is hashed with it.
PASSWORD_HASHERS = [
    "clinicportal.accounts.hashers.Argon2idHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # The site's own words (a practice's are added where its staff set passwords).
    {"NAME": "clinicportal.accounts.password_words.ContextWordsValidator"},
    {"NAME": "clinicportal.accounts.password_breaches.BreachedPasswordValidator"},
]
LOGIN_URL = "office:login"
LOGIN_REDIRECT_URL = "office:home"

SESSION_COOKIE_AGE = env_int("SESSION_COOKIE_AGE", 8 * 60 * 60, minimum=60)
# Office sessions end after this long without a request (the portal's is per practice).
CLINICPORTAL_OFFICE_IDLE_MINUTES = env_int("CLINICPORTAL_OFFICE_IDLE_MINUTES", 30, minimum=1)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# One-time messages ("You have signed out.") live in the session on the server, not in a cookie
# of their own that the browser could keep or change.
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

LANGUAGE_CODE = "en-us"
# The languages a visitor may get; adding one is a catalogue under LOCALE_PATHS plus a line here.
LANGUAGES = [("en", _("English"))]
# One catalogue for the whole project: the apps share their wording (buttons, errors).
LOCALE_PATHS = [BASE_DIR / "clinicportal" / "locale"]
TIME_ZONE = env_str("TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise serves from the finders instead
WHITENOISE_USE_FINDERS = not PRODUCTION
WHITENOISE_AUTOREFRESH = DEBUG

# Where stored content (chart files and, later, portal documents) lives.
CLINICPORTAL_STORAGE_DIR = Path(env_str("CLINICPORTAL_STORAGE_DIR", str(VAR_DIR / "storage")))
CLINICPORTAL_UPLOAD_MAX_BYTES = env_int(
    "CLINICPORTAL_UPLOAD_MAX_BYTES", 50 * 1024 * 1024, minimum=1
)
# Days a sent email keeps its text and files in the Outbox (ASVS 14.2.7).
CLINICPORTAL_OUTBOX_TEXT_DAYS = env_int("CLINICPORTAL_OUTBOX_TEXT_DAYS", 90, minimum=1)
# What one portal account may send the office in files in any 30 days (messaging.services.quota).
CLINICPORTAL_PORTAL_UPLOAD_QUOTA_FILES = env_int(
    "CLINICPORTAL_PORTAL_UPLOAD_QUOTA_FILES", 100, minimum=1
)
CLINICPORTAL_PORTAL_UPLOAD_QUOTA_BYTES = env_int(
    "CLINICPORTAL_PORTAL_UPLOAD_QUOTA_BYTES", 500 * 1024 * 1024, minimum=1
)
# Scan every upload with ClamAV's clamd (its socket's path, or host:port); "" keeps it off.
CLINICPORTAL_CLAMD = env_socket("CLINICPORTAL_CLAMD")
# Below gunicorn's worker time-out (30 s), so that a hung clamd gets a kind refusal, not a 502.
# Seconds an uploaded PDF may take to open before it is refused as too large to check.
CLINICPORTAL_PDF_CHECK_SECONDS = env_int("CLINICPORTAL_PDF_CHECK_SECONDS", 5, minimum=1)
CLINICPORTAL_CLAMD_TIMEOUT = env_int("CLINICPORTAL_CLAMD_TIMEOUT", 20, minimum=1)
# Hand a checked download to the web server (nginx X-Accel-Redirect) under this internal prefix.
CLINICPORTAL_X_ACCEL_PREFIX = env_str("CLINICPORTAL_X_ACCEL_PREFIX", "")

# Search Online: MedlinePlus health topics (NLM's web service), and how long to wait for it.
CLINICPORTAL_MEDLINEPLUS_URL = env_http_url(
    "CLINICPORTAL_MEDLINEPLUS_URL", "https://wsearch.nlm.nih.gov/ws/query"
)
CLINICPORTAL_MEDLINEPLUS_TIMEOUT = env_int("CLINICPORTAL_MEDLINEPLUS_TIMEOUT", 8, minimum=1)
# New passwords are checked against breached ones through this Pwned Passwords range API
# (only a hash's first 5 characters are sent); "off" for a server that may not reach it.
CLINICPORTAL_BREACHED_PASSWORDS_URL = env_http_url_or_off(
    "CLINICPORTAL_BREACHED_PASSWORDS_URL", "https://api.pwnedpasswords.com/range/"
)
CLINICPORTAL_BREACHED_PASSWORDS_TIMEOUT = env_int(
    "CLINICPORTAL_BREACHED_PASSWORDS_TIMEOUT", 3, minimum=1
)

STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(CLINICPORTAL_STORAGE_DIR)},
    },
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        ),
    },
}

FILE_UPLOAD_HANDLERS = ["clinicportal.content.uploads.HashingUploadHandler"]
FILE_UPLOAD_PERMISSIONS = 0o600
DATA_UPLOAD_MAX_NUMBER_FILES = env_int("CLINICPORTAL_UPLOAD_MAX_FILES", 20, minimum=1)

# Whether a practice's email settings may name a mail server inside a private network (RFC 1918,
# link-local ...): off, so that the worker cannot be pointed at the hosting network's machines.
CLINICPORTAL_SMTP_ALLOW_PRIVATE = env_bool("CLINICPORTAL_SMTP_ALLOW_PRIVATE", False)

# A worker's claim on an email holds this long unless its heartbeat renews it; a worker whose
# heartbeat is older is taken for stopped, and its work is taken up again.
CLINICPORTAL_WORKER_LEASE_SECONDS = env_int("CLINICPORTAL_WORKER_LEASE_SECONDS", 120, minimum=2)

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default"],
    }
}

# A strict Content-Security-Policy: nothing inline, nothing from elsewhere, no plugins, framed
# by nobody. The file views the site previews in a frame say frame-ancestors 'self' and
# X-Frame-Options SAMEORIGIN instead (core.files.framed_by_this_site).
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "object-src": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
    "base-uri": [CSP.NONE],
    # Browsers post what it stopped here; it is logged (core.csp_reports, ASVS 3.4.7).
    "report-uri": ["/csp-report"],
}
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
# Refuse API requests made over plain HTTP (JSON 403); on in production with the HTTPS redirect.
CLINICPORTAL_API_HTTPS_ONLY = False

if PRODUCTION:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    # A program would follow a redirect and send its API key again: the API is not redirected
    # but refuses plain HTTP instead, wherever the site's pages are redirected.
    SECURE_REDIRECT_EXEMPT = [r"^api(?:/|$)"]
    CLINICPORTAL_API_HTTPS_ONLY = SECURE_SSL_REDIRECT
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31_536_000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    if env_bool("SECURE_PROXY_SSL_HEADER", False):
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    CSRF_COOKIE_HTTPONLY = True
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"

# Logs go to stderr only, one JSON object a line (CLINICPORTAL_LOG_FORMAT=text: one readable
# line), each with its time in UTC, the request id, the practice and the actor; see
# core/logformat.py. Whoever runs the process collects stderr (systemd's journal, docker).
LOG_FORMAT = env_choice("CLINICPORTAL_LOG_FORMAT", "json", ("json", "text"))
LOG_LEVEL = env_choice("LOG_LEVEL", "INFO", ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"))
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"context": {"()": "clinicportal.core.logformat.ContextFilter"}},
    "formatters": {
        "json": {"()": "clinicportal.core.logformat.JsonFormatter"},
        "text": {"()": "clinicportal.core.logformat.TextFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",  # stderr
            "formatter": LOG_FORMAT,
            "filters": ["context"],
        }
    },
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {
        # Django's own lines go to the root's handler only: no second plain-text copy in DEBUG,
        # no emails to ADMINS.
        "django": {"handlers": [], "level": LOG_LEVEL},
        # The development server's request lines hold query strings; the access lines of
        # core.logcontext.RequestLogMiddleware take their place.
        "django.server": {"handlers": [], "propagate": False},
        # With DEBUG on, DEBUG would write every query with its parameters: patient data.
        "django.db.backends": {"level": "INFO"},
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        "mail.log": {"level": "WARNING"},  # aiosmtpd, in the demo's SMTP server
        # The Stripe SDK logs every request at INFO; our adapter logs what went wrong.
        "stripe": {"level": "WARNING"},
    },
}
