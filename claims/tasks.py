"""Celery tasks of the claims app (autodiscovered as ``claims.tasks``)."""

from celery import shared_task

from claims import reminders
from work.tasks import day


@shared_task(bind=True, autoretry_for=(Exception,), retry_backoff=True, max_retries=3)
def send_timely_filing_alerts(self, on: str | None = None) -> dict[str, int]:  # noqa: ANN001
    """Timely-filing alerts at 30, 14 and 3 days for claims not yet submitted."""
    return reminders.send_timely_filing_alerts(day(on))


# The import job task lives with the imports; importing it here registers it with Celery.
from claims.imports.tasks import run_import  # noqa: E402, F401
