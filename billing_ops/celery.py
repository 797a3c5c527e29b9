"""The Celery app; the beat schedule is defined here, in code."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "billing_ops.settings.local")

app = Celery("billing_ops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    "expire-ended-assignments": {
        "task": "practices.tasks.expire_ended_assignments",
        "schedule": crontab(minute="*/15"),
    },
}
