"""Celery tasks of the denials app (autodiscovered as ``denials.tasks``)."""

from typing import Any

from celery import shared_task

from denials import reminders
from work.tasks import day


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def send_appeal_deadline_alerts(self: Any, on: str | None = None) -> dict[str, int]:
    """Appeal deadline alerts at 30, 14 and 3 days for unappealed open denials."""
    return reminders.send_appeal_deadline_alerts(day(on))
