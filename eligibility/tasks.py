"""Celery tasks of the eligibility app (autodiscovered as ``eligibility.tasks``)."""

from typing import Any

from celery import shared_task
from django.utils.dateparse import parse_datetime

from eligibility import services


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def open_eligibility_checks(self: Any, now: str | None = None) -> dict[str, int]:
    """Every 15 minutes: open the checks of appointments within 72 h, move those of
    rescheduled appointments, close those of cancelled ones (idempotent)."""
    return services.checks_for_upcoming(now=parse_datetime(now) if now else None)
