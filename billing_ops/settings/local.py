"""Settings for `make run`: embedded SQLite and filesystem broker.

DEBUG stays off as in base.py (its error pages show SQL, settings and every URL):
``DJANGO_DEBUG=true make run`` turns it on for troubleshooting.
"""

from .base import *  # noqa: F403
from .base import DEBUG

# With DEBUG off runserver serves no static files: WhiteNoise serves them straight from
# the app folders (no collectstatic needed), re-scanning them only in DEBUG.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
