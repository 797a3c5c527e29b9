"""Settings for the test suite: fast hashing, no real e-mail."""

from .base import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# A test-only work item type (chores), registered like a domain app's; its migration
# lives with it in tests/workitems/migrations.
INSTALLED_APPS = [*INSTALLED_APPS, "tests.workitems.apps.WorkItemsConfig"]  # noqa: F405
