"""Reminder jobs (beat schedule in billing_ops/celery.py); each can run twice harmlessly.

Each task takes the day to run for as an ISO date string (default: today in the site's
time zone), so a retried or replayed task works on the day it was meant for.
"""

from __future__ import annotations

import datetime as dt

from celery import Task, shared_task
from django.utils import timezone

from work import reminders


def day(on: str | None) -> dt.date:
    return dt.date.fromisoformat(on) if on else timezone.localdate()


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def send_next_action_reminders(self: Task, on: str | None = None) -> dict[str, int]:
    """In-app reminders for next actions due today or overdue."""
    return reminders.send_next_action_reminders(day(on))


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def send_daily_digests(self: Task, on: str | None = None) -> dict[str, int]:
    """One e-mail per owner with their due and overdue items."""
    return reminders.send_daily_digests(day(on))


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def refresh_priorities(self: Task, on: str | None = None) -> int:
    """Recompute queue priorities of every item type (age and overdue grow overnight)."""
    return reminders.refresh_priorities(day(on))
