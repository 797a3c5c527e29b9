"""Patient account jobs (beat schedule in billing_ops/celery.py); each can run twice
harmlessly: a cycle's statements are made once per account and cycle date."""

from __future__ import annotations

import datetime as dt

from celery import Task, shared_task
from django.utils import timezone

from ar.statements import statement_cycle_run
from practices.models import Practice


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def run_statement_cycles(self: Task, on: str | None = None) -> int:
    """Every active practice whose statement day is ``on`` (default today): its statements."""
    day = dt.date.fromisoformat(on) if on else timezone.localdate()
    made = 0
    for practice in Practice.objects.filter(is_active=True).order_by("pk"):
        made += len(statement_cycle_run(actor=None, practice=practice, on=day))
    return made
