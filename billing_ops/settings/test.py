"""Settings for the test suite: fast hashing, no real e-mail."""

import os

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# The suite signs in from 127.0.0.1 far more often than a person could; the throttle's own
# tests (tests/practices/test_password_throttle.py) lower this.
PASSWORD_CHECKS_PER_MINUTE = 1_000_000
# A test-only work item type (chores), registered like a domain app's; its migration
# lives with it in tests/workitems/migrations.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.workitems.apps.WorkItemsConfig"]  # noqa: F405

# N+1 queries fail a test (issue 10): django-zeal watches every request the test client
# makes and raises on a related object or .get() loaded once per row. A justified repeat
# goes in ZEAL_ALLOWLIST with its reason. BILLING_OPS_ZEAL=0 turns it off (bench/ measures
# with these settings and must not pay for the detector).
if os.environ.get("BILLING_OPS_ZEAL", "1") != "0":
    INSTALLED_APPS = [*INSTALLED_APPS, "zeal"]
    MIDDLEWARE = [*MIDDLEWARE, "zeal.middleware.zeal_middleware"]  # noqa: F405
    ZEAL_RAISE = True
    ZEAL_ALLOWLIST: list[dict[str, str]] = [
        # work.services.lock_for_update: every write service takes its item's row lock
        # (SELECT ... FOR UPDATE by id) itself, so a request that writes the same claim or
        # denial twice (a call that also sets the next action) or a bulk change of N items
        # locks row by row on purpose: a repeated .get() there is a lock, not a lazy read.
        {"model": "claims.Claim", "field": "get()"},
        {"model": "denials.Denial", "field": "get()"},
    ]

# The live server (browser tests) answers each request on a new thread: close its
# connection when the request ends instead of leaving one per thread open for 60 s, and let
# a request stuck behind a row lock fail with PostgreSQL's "lock timeout" (a diagnosis in
# the test's log) rather than hang until the browser gives up.
if DATABASES["default"]["ENGINE"].endswith("postgresql"):  # noqa: F405
    DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c lock_timeout=15s"  # noqa: F405

# pytest-xdist (`make test` runs two workers): each worker has its own test database
# (pytest-django names it per worker) and here its own Redis databases, so one worker's
# Celery worker never takes the other's tasks and a cache clear stays in its worker.
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER", "")
if _xdist_worker.startswith("gw"):
    import re as _re

    _slot = int(_xdist_worker.removeprefix("gw"))

    def _redis_db(url: str, db: int) -> str:
        return _re.sub(r"(redis://[^/]+)(/\d+)?$", rf"\g<1>/{db}", url)

    if str(CELERY_BROKER_URL).startswith("redis://"):  # noqa: F405
        CELERY_BROKER_URL = _redis_db(CELERY_BROKER_URL, 2 + 2 * _slot)  # noqa: F405
        # Celery reads the variable before its configuration: keep them equal (this also
        # gives subprocesses the worker's broker).
        os.environ["CELERY_BROKER_URL"] = CELERY_BROKER_URL
    if CACHES["default"]["BACKEND"].endswith("RedisCache"):  # noqa: F405
        CACHES["default"]["LOCATION"] = _redis_db(CACHES["default"]["LOCATION"], 3 + 2 * _slot)  # noqa: F405
