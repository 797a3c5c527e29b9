"""Payment plan job (beat schedule in billing_ops/celery.py): reminders before due dates,
missed installments as work items, plans broken after the grace period. Runs twice
harmlessly: one reminder and one work item per installment, a plan breaks once."""

from __future__ import annotations

from celery import Task, shared_task

from ar.plans import run_daily
from work.tasks import day


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def run_payment_plans(self: Task, on: str | None = None) -> dict[str, int]:
    """The day's plan work for every active practice (``on`` default today)."""
    return run_daily(day(on))
