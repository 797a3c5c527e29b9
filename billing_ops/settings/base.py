"""Settings shared by every environment; each value comes from the environment."""

from datetime import timedelta
from pathlib import Path

import environ

from billing_ops.env import env_bool, env_int, env_list, env_optional, env_str

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = Path(env_str("BILLING_OPS_VAR_DIR", str(BASE_DIR / "var")))
VAR_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = env_str("DJANGO_SECRET_KEY", "insecure-local-only-key-change-me")
DEBUG = env_bool("DJANGO_DEBUG", False)
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_filters",
    "django_htmx",
    "guardian",
    "simple_history",
    "pgtrigger",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "practices",
    "work",
    "claims",
    "denials",
    "ar",
    "eligibility",
    "sops",
    "reports",
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Wraps everything below, so every answer to a signed-in user is no-store (PHI).
    "billing_ops.middleware.NoStoreForUsersMiddleware",
    # Before the session-limit middleware, which adds a message when it signs a user out.
    "django.contrib.messages.middleware.MessageMiddleware",
    "billing_ops.otp.OTPMiddleware",  # django_otp's, the device read compiled once
    "billing_ops.middleware.SessionLimitsMiddleware",
    # Grants are resolved once per request from here on (the MFA rule reads them too).
    "billing_ops.access.AccessMiddleware",
    "practices.middleware.MfaRequiredMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "billing_ops.urls"
WSGI_APPLICATION = "billing_ops.wsgi.application"

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
                "django.template.context_processors.csp",
                "practices.context_processors.current_practice_context",
            ],
        },
    },
]

# --- Database: SQLite under var/ unless DATABASE_URL names PostgreSQL ---------------
_database_url = env_optional("DATABASE_URL")
if _database_url:
    if not _database_url.startswith(("postgres://", "postgresql://")):
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("DATABASE_URL must be a postgresql:// URL.")
    DATABASES = {"default": environ.Env.db_url_config(_database_url)}
    DATABASES["default"]["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "billing_ops.sqlite3",
            "OPTIONS": {
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
                "transaction_mode": "IMMEDIATE",
                "timeout": 20,
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Authentication -------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # ModelBackend loading the vendor-staff row with the user (one query fewer a request).
    "practices.backends.UserBackend",
    "guardian.backends.ObjectPermissionBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Lockout (django-axes, billing_ops.security): per (username, address) pair, so one
# person's typos never lock out an office behind one address, plus a per-account limit
# over a rolling hour from any address. Unknown and known usernames get the same answer.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15, minimum=1))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_ACCOUNT_FAILURE_LIMIT = env_int("AXES_ACCOUNT_FAILURE_LIMIT", 100, minimum=1)
AXES_HANDLER = "billing_ops.security.LockoutHandler"
# Every failure is kept (user, address, time) in axes' failure log; a success clears only
# the pair's lockout counter, never that log.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
AXES_RESET_ON_SUCCESS = True
# The client address: the socket's, or (production.py) only the header the TLS proxy sets.
CLIENT_IP_HEADER = env_optional("DJANGO_CLIENT_IP_HEADER")
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 1, minimum=1)
AXES_CLIENT_IP_CALLABLE = "billing_ops.security.client_ip"
# Password checks (Argon2, ~127 ms of CPU each) per client address per minute: beyond it
# the sign-in and step-up forms refuse without hashing (billing_ops.security).
PASSWORD_CHECKS_PER_MINUTE = env_int("PASSWORD_CHECKS_PER_MINUTE", 30, minimum=1)
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_VERBOSE = False
# Wrong MFA codes count as failures too (practices.recovery): the code (a TOTP or a
# recovery code, maybe one typo away from a real one) is masked in the failure records.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "token"]

# Sessions: idle logoff and an absolute limit, enforced by SessionLimitsMiddleware.
SESSION_IDLE_TIMEOUT = env_int("SESSION_IDLE_TIMEOUT_MINUTES", 30, minimum=1) * 60
SESSION_ABSOLUTE_TIMEOUT = env_int("SESSION_ABSOLUTE_TIMEOUT_HOURS", 12, minimum=1) * 3600
SESSION_COOKIE_AGE = SESSION_ABSOLUTE_TIMEOUT
SESSION_COOKIE_HTTPONLY = True
# Django's database sessions, the per-request read compiled once (issue 10, speed).
SESSION_ENGINE = "billing_ops.sessions"
SESSION_COOKIE_SAMESITE = "Lax"

OTP_TOTP_ISSUER = "billing-ops"

# Step-up (practices/stepup.py): revoking access, changing roles or areas, issuing API
# tokens and bulk exports ask for the password or a fresh code older than this.
STEP_UP_MAX_AGE = env_int("STEP_UP_MAX_AGE_SECONDS", 300, minimum=1)

# --- Object permissions and history ---------------------------------------------------
GUARDIAN_RAISE_403 = False
GUARDIAN_MONKEY_PATCH_USER = False
ANONYMOUS_USER_NAME = None
SIMPLE_HISTORY_HISTORY_CHANGE_REASON_USE_TEXT_FIELD = True

# --- API ------------------------------------------------------------------------------
REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes a refused or missing credential a 401
    # (with session first, DRF answers 403 even for a revoked or deactivated token).
    # Tokens are knox's (hashed, expiring), issued and recorded by practices.tokens.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "practices.tokens.ApiTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    "DEFAULT_FILTER_BACKENDS": ["billing_ops.filters.ScopedFilterBackend"],
    # The browsable API renders filter forms and is a debugging aid: JSON only otherwise.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"]
    + (["rest_framework.renderers.BrowsableAPIRenderer"] if DEBUG else []),
}
# API tokens (django-rest-knox): stored as SHA-512 hashes, shown once, expire after this.
API_TOKEN_TTL_DAYS = env_int("API_TOKEN_TTL_DAYS", 90, minimum=1)
KNOX_TOKEN_MODEL = "knox.AuthToken"
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS),
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}
# Vendor accounts without a sign-in or API use for this many days are deactivated by a
# daily job (sops.access_reviews; never signed in: counted from the account's creation).
VENDOR_IDLE_DEACTIVATE_DAYS = env_int("VENDOR_IDLE_DEACTIVATE_DAYS", 90, minimum=1)
SPECTACULAR_SETTINGS = {
    "TITLE": "billing-ops API",
    "DESCRIPTION": "Claims, denials, AR work queues and eligibility, scoped per practice.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and its docs page list every endpoint and field: signed-in users only
    # (session or token, the API's own authentication).
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    # Fields of the same name with different choices (a claim's next actions and a
    # denial's, say) get one named enum each instead of a hashed suffix.
    "ENUM_NAME_OVERRIDES": {
        "ClaimNextActionEnum": "claims.choices.NextAction",
        "DenialNextActionEnum": "denials.choices.NextAction",
        "AttachmentStatusEnum": "claims.choices.AttachmentStatus",
        "PaymentSourceEnum": "ar.choices.PaymentSource",
        "RemittanceStatusEnum": "ar.choices.RemittanceStatus",
        "AcknowledgementStatusEnum": "ar.ack_models.AckStatus",
        "AcknowledgementOutcomeEnum": "ar.ack_models.AckOutcome",
        "PriorAuthStatusEnum": "eligibility.auth_models.AuthStatus",
        "PriorAuthNextActionEnum": "eligibility.auth_models.AuthNextAction",
        "PriorAuthClosedReasonEnum": "eligibility.auth_models.AuthClosedReason",
        "RecareKindEnum": "eligibility.recare_models.RecareKind",
        "RecareNextActionEnum": "eligibility.recare_models.RecareNextAction",
        "RecareClosedReasonEnum": "eligibility.recare_models.RecareClosedReason",
        "CallOutcomeEnum": "eligibility.recare_models.CallOutcome",
        "BillingFunctionKindEnum": "sops.choices.BillingFunctionKind",
        "CheckMethodEnum": "eligibility.choices.CheckMethod",
        "EligibilityNextActionEnum": "eligibility.choices.NextAction",
        "EligibilityResponseStatusEnum": "eligibility.response_models.ResponseStatus",
        "AppealMethodEnum": "denials.choices.AppealMethod",
        "AppealOutcomeEnum": "denials.choices.AppealOutcome",
        "AppointmentStatusEnum": "practices.choices.AppointmentStatus",
        "PaymentMethodEnum": "ar.account_choices.PaymentMethod",
        "QaStatusEnum": "sops.choices.QaStatus",
        "DenialRootCauseEnum": "denials.choices.RootCause",
        "MiniAuditRootCauseEnum": "sops.qa_audit_models.RootCause",
    },
}

# --- Celery: filesystem broker under var/ unless CELERY_BROKER_URL is set -------------
CELERY_BROKER_URL = env_optional("CELERY_BROKER_URL")
if CELERY_BROKER_URL is None:
    _broker_dir = VAR_DIR / "broker"
    for _sub in ("out", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "out"),
        "data_folder_out": str(_broker_dir / "out"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# --- Cache ----------------------------------------------------------------------------
_redis_url = env_optional("REDIS_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": _redis_url}
        if _redis_url
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# --- I18N, static, media --------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_str("DJANGO_TIME_ZONE", "America/New_York")
USE_I18N = True
USE_TZ = True
# Beat hours ("06:00 reminders") are the practices' local hours.
CELERY_TIMEZONE = TIME_ZONE

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("DJANGO_STATIC_ROOT", str(VAR_DIR / "staticfiles")))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("DJANGO_MEDIA_ROOT", str(VAR_DIR / "media")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

MAILERS = {
    "default": {
        "BACKEND": env_str(
            "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
        ),
    }
}
DEFAULT_FROM_EMAIL = env_str("DJANGO_DEFAULT_FROM_EMAIL", "billing-ops@localhost")
# Where e-mails link to (the weekly KPI snapshot): the site as its users reach it.
SITE_URL = env_str("BILLING_OPS_SITE_URL", "http://localhost:8000")

# --- Content security policy (Django's built-in CSP) ----------------------------------
from django.utils.csp import CSP  # noqa: E402

SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    # A 404 is already in the server's access log line: Django's "Not Found: ..." warning
    # would log it a second time (django.request records carry the status code).
    "filters": {
        "not_404": {
            "()": "django.utils.log.CallbackFilter",
            "callback": lambda record: getattr(record, "status_code", None) != 404,
        }
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "filters": ["not_404"]}},
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
}

# The tenant and its per-user permission table, named like AUTH_USER_MODEL so the kernel
# (billing_ops.access) reads them without importing the app that defines them.
ACCESS_TENANT_MODEL = "practices.Practice"
ACCESS_PERMISSION_MODEL = "practices.PracticeUserPermission"
