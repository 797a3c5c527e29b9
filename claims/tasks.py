"""Celery tasks of the claims app (autodiscovered as ``claims.tasks``)."""

from celery import shared_task

from claims import priority


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def refresh_priorities(self, today: str | None = None) -> int:  # noqa: ANN001
    """Recompute queue priorities (age and overdue days grow overnight); idempotent."""
    import datetime as dt

    return priority.refresh_all(dt.date.fromisoformat(today) if today else None)


# The import job task lives with the imports; importing it here registers it with Celery.
from claims.imports.tasks import run_import  # noqa: E402, F401
