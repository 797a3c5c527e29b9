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
    warm_dashboards(today)
    return written


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def refresh_today(self: Task, on: str | None = None) -> int:
    """Every few minutes: today's snapshot again, so the dashboard reads today's figures
    instead of computing them in the request."""
    today = day(on)
    written = rollups.rollup_day(day=today)
    warm_dashboards(today)
    return written


def warm_dashboards(today: dt.date) -> int:
    """This month's dashboard of every practice with stored days, rendered into the cache
    (``reports.cached``): the managers' landing page then reads one cache entry."""
    if today != timezone.localdate():
        return 0  # a replayed task of another day: its page is not this month's
    ids = PracticeDay.objects.filter(day=today).values_list("practice_id", flat=True)
    return dashboard.warm(ids, today)


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def send_weekly_snapshots(self: Task, on: str | None = None) -> int:
    """Monday: last week's headline figures to each practice's managers (once a week)."""
    return emails.send_weekly_snapshots(day(on))
