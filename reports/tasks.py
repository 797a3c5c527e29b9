"""KPI jobs (beat schedule in billing_ops/celery.py); each can run twice harmlessly.

Each task takes its day as an ISO date string (default: the site's today), so a retried
or replayed task works on the day it was meant for.
"""

from __future__ import annotations

import datetime as dt

from celery import Task, shared_task
from django.utils import timezone

from reports import dashboard, emails, rollups
from reports.models import PracticeDay


def day(on: str | None) -> dt.date:
    return dt.date.fromisoformat(on) if on else timezone.localdate()


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def rollup_kpis(self: Task, on: str | None = None) -> int:
    """Nightly: yesterday's final snapshot and a first one of today, every active practice
    and every vendor (upserts: a rerun rewrites the same rows)."""
    today = day(on)
    written = rollups.rollup_day(day=today - dt.timedelta(days=1))
    written += rollups.rollup_day(day=today)
    # Yesterday's row changed: last month's page too when today is the 1st (and cheaply
    # once a night otherwise).
    warm_dashboards(today, ("this_month", "last_90", "last_month"))
    return written


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def refresh_today(self: Task, on: str | None = None) -> int:
    """Every few minutes: today's snapshot again, so the dashboard reads today's figures
    instead of computing them in the request."""
    today = day(on)
    written = rollups.rollup_day(day=today)
    # Today's row is read by this month and the last 90 days (not by last month).
    warm_dashboards(today, ("this_month", "last_90"))
    return written


def warm_dashboards(today: dt.date, periods: tuple[str, ...]) -> int:
    """The dashboard of every practice with a stored day today, for these periods, rendered
    into the cache (``reports.cached``): a manager's request then reads one cache entry."""
    if today != timezone.localdate():
        return 0  # a replayed task of another day: its pages are not today's
    ids = PracticeDay.objects.filter(day=today).values_list("practice_id", flat=True)
    return dashboard.warm(ids, today, periods)


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def send_weekly_snapshots(self: Task, on: str | None = None) -> int:
    """Monday: last week's headline figures to each practice's managers (once a week)."""
    return emails.send_weekly_snapshots(day(on))
