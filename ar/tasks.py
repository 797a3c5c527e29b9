"""Reminder jobs (beat schedule in billing_ops/celery.py); each can run twice harmlessly.

Each task takes the day to run for as an ISO date string (default: today in the site's
time zone), so a retried or replayed task works on the day it was meant for.
"""

from __future__ import annotations

import datetime as dt

from celery import shared_task
from django.utils import timezone

from ar import reminders


def _day(on: str | None) -> dt.date:
    return dt.date.fromisoformat(on) if on else timezone.localdate()


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def send_next_action_reminders(self, on: str | None = None) -> dict[str, int]:  # noqa: ANN001
    """In-app reminders for next actions due today or overdue."""
    return reminders.send_next_action_reminders(_day(on))


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def send_daily_digests(self, on: str | None = None) -> dict[str, int]:  # noqa: ANN001
    """One e-mail per owner with their due and overdue claims."""
    return reminders.send_daily_digests(_day(on))


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def escalate_overdue(self, on: str | None = None) -> dict[str, int]:  # noqa: ANN001
    """Escalate claims overdue beyond the practice's turnaround to its primary contact."""
    return reminders.escalate_overdue(_day(on))


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def send_timely_filing_alerts(self, on: str | None = None) -> dict[str, int]:  # noqa: ANN001
    """Timely-filing alerts at 30, 14 and 3 days for claims not yet submitted."""
    return reminders.send_timely_filing_alerts(_day(on))
