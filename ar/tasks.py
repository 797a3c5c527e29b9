"""The remittance task: an id in, idempotent (a finished batch is not run again)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from ar import services


@shared_task(
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,
)
def run_remittance(self, remittance_id: int) -> str | None:  # noqa: ANN001
    """Post one uploaded 835; returns the batch's final status (None if it is gone)."""
    batch = services.remittance_run(remittance_id)
    return None if batch is None else batch.status
