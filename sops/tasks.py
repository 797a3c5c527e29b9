"""Celery tasks of the sops app (autodiscovered as ``sops.tasks``)."""

from celery import shared_task

from sops import escalations
from work.tasks import day


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def escalate_overdue(self, on: str | None = None) -> dict[str, int]:  # noqa: ANN001
    """Escalate items overdue beyond their function's turnaround to the primary contact."""
    return escalations.escalate_overdue(day(on))
