"""Settings for `make run`: embedded SQLite and filesystem broker, debug on."""

from billing_ops.env import env_bool

from .base import *  # noqa: F403

DEBUG = env_bool("DJANGO_DEBUG", True)
