"""Production settings: secrets required, HTTPS only, PostgreSQL and Redis."""

from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from billing_ops.env import env_bool, env_int, env_optional, env_str

from .base import *  # noqa: F403
from .base import DATABASES

DEBUG = False
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if SECRET_KEY.startswith("insecure") or len(SECRET_KEY) < 50:
    raise ImproperlyConfigured("DJANGO_SECRET_KEY must be a long random value in production.")
if DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql":
    raise ImproperlyConfigured("Production needs DATABASE_URL pointing at PostgreSQL.")
if not CELERY_BROKER_URL.startswith(("redis://", "rediss://")):  # noqa: F405
    raise ImproperlyConfigured("Production needs CELERY_BROKER_URL pointing at Redis.")
if env_optional("REDIS_URL") is None:
    raise ImproperlyConfigured("Production needs REDIS_URL for the shared cache.")

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Behind the TLS proxy every socket address is the proxy's: the client address (lockout,
# audit) comes from the header that proxy sets, and only from it (billing_ops.security).
CLIENT_IP_HEADER = env_str("DJANGO_CLIENT_IP_HEADER", "X-Forwarded-For")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("DJANGO_SECURE_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
# Source maps serve developers' tools, not pages: collected but not compressed. WeasyPrint
# brings brotli, and brotli on the API docs' 3.6 MB of maps took most of collectstatic.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = [*Compressor.SKIP_COMPRESS_EXTENSIONS, "map"]

# E-mail: base.py defaults to the console backend, which `check --deploy` rejects
# (mail.E001) and which would silently drop mail; production defaults to SMTP.
_email_backend = env_str("DJANGO_EMAIL_BACKEND", "django.core.mail.backends.smtp.EmailBackend")
MAILERS = {"default": {"BACKEND": _email_backend}}
if _email_backend == "django.core.mail.backends.smtp.EmailBackend":
    MAILERS["default"]["OPTIONS"] = {
        "host": env_str("DJANGO_EMAIL_HOST", "localhost"),
        "port": env_int("DJANGO_EMAIL_PORT", 25, minimum=1),
        "username": env_optional("DJANGO_EMAIL_HOST_USER"),
        "password": env_optional("DJANGO_EMAIL_HOST_PASSWORD"),
        "use_tls": env_bool("DJANGO_EMAIL_USE_TLS", False),
    }
