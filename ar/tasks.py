"""The remittance and 277CA tasks: an id in, idempotent (a finished batch is not run
again), retried on a lost database connection."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from ar import acknowledgements, services
from ar.account_tasks import run_statement_cycles  # noqa: F401  (found by autodiscovery)
from ar.plan_tasks import run_payment_plans  # noqa: F401  (found by autodiscovery)


@shared_task(
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,
)
def run_acknowledgement(self, acknowledgement_id: int) -> str | None:  # noqa: ANN001
    """Apply one uploaded 277CA; returns its final status (None if it is gone). Idempotent:
    a finished import is not run again."""
    batch = acknowledgements.acknowledgement_run(acknowledgement_id)
    return None if batch is None else batch.status


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
