"""WSGI entry point."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_ops.settings.production")

application = get_wsgi_application()

from billing_ops.startup import settle  # noqa: E402  (after the apps are ready)

settle()
