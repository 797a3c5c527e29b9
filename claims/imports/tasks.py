"""The import job task: ids in, idempotent (a job that already ran is not run again)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from claims.imports import services


@shared_task(
    bind=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    acks_late=True,
)
def run_import(self, job_id: int, default_owner_id: int | None = None) -> str | None:  # noqa: ANN001
    """Run one import job; returns its final status (None if the job no longer exists)."""
    job = services.run_import_job(job_id, default_owner_id=default_owner_id)
    return None if job is None else job.status
