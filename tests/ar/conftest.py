"""Claims and a real Celery worker for the reminder tests (over the shared `world`)."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import pytest
from celery.contrib.testing.worker import start_worker
from celery.signals import task_postrun
from django.conf import settings
from django.utils import timezone

from billing_ops.celery import app
from claims import services
from claims.choices import NextAction
from claims.models import Claim
from practices.choices import ClaimFormat
from tests import factories

WAIT_SECONDS = 20.0


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def make_claim(world: Any, today: dt.date) -> Any:
    """Create a claim through the service, then put it in the state a test needs.

    Defaults: a Sunrise claim owned by bill, $1,240.00 billed to "Delta Dental", next
    action "Call payer" due today. ``status``/``deadline`` are set directly afterwards (the
    status machine and the derived deadline are not what these tests are about).
    """
    counter = iter(range(1, 10_000))
    payers: dict[int, Any] = {}
    providers: dict[int, Any] = {}
    actors = {world.sunrise.pk: world.bill, world.maple.pk: world.mia}

    def make(
        *,
        practice: Any = None,
        owner: Any = None,
        due: dt.date | None = None,
        status: str | None = None,
        deadline: dt.date | None = None,
        number: str | None = None,
        charge: Decimal = Decimal("1240.00"),
        next_action: str = NextAction.CALL_PAYER,
        actor: Any = None,
    ) -> Claim:
        practice = practice or world.sunrise
        if practice.pk not in payers:
            payers[practice.pk] = factories.PayerFactory(
                practice=practice,
                name="Delta Dental",
                claim_format=ClaimFormat.DENTAL,
                timely_filing_days=365,
            )
            providers[practice.pk] = factories.ProviderFactory(practice=practice)
        patient = factories.PatientFactory(practice=practice, last_name="Privateperson")
        coverage = factories.CoverageFactory(patient=patient, payer=payers[practice.pk])
        claim = services.claim_create(
            actor=actor or actors.get(practice.pk) or owner,
            patient=patient,
            coverage=coverage,
            provider=providers[practice.pk],
            pms_claim_number=number or f"PCN{next(counter):04d}",
            service_date_from=today - dt.timedelta(days=10),
            lines=[{"procedure_code": "D1110", "charge": charge}],
            owner=owner or world.bill,
            next_action=next_action,
            next_action_due=today if due is None else due,
        )
        changes: dict[str, Any] = {}
        if status is not None:
            changes["status"] = status
            if status in ("closed", "void"):
                changes.update(next_action="", next_action_due=None)
        if deadline is not None:
            changes["timely_filing_deadline"] = deadline
        if changes:
            Claim.objects.filter(pk=claim.pk).update(**changes)
            claim.refresh_from_db()
        return claim

    return make


def wait_until(condition: Callable[[], bool], timeout: float = WAIT_SECONDS) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; whether it held."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


class TaskRuns:
    """What the worker finished, keyed by task id: (state, return value)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[str, tuple[str, Any]] = {}

    def on_postrun(self, task_id: str = "", state: str = "", retval: Any = None, **_: Any) -> None:
        with self._lock:
            self._runs[task_id] = (state, retval)

    def finished(self, task_id: str) -> tuple[str, Any]:
        """Wait (bounded) until the worker finished ``task_id`` for good; its state and value."""
        final = {"SUCCESS", "FAILURE", "REJECTED", "IGNORED"}
        held = wait_until(lambda: self._runs.get(task_id, ("", None))[0] in final)
        assert held, f"task {task_id} not finished within {WAIT_SECONDS}s: {self._runs}"
        return self._runs[task_id]


@pytest.fixture
def worker(transactional_db: Any) -> Iterator[TaskRuns]:
    """A Celery worker (solo pool, one thread) consuming the project's Redis broker."""
    if not str(settings.CELERY_BROKER_URL).startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://... (make test provides one)")
    runs = TaskRuns()
    task_postrun.connect(runs.on_postrun, weak=False)
    try:
        app.control.purge()  # nothing left over from an earlier test
        with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=30):
            yield runs
    finally:
        task_postrun.disconnect(runs.on_postrun)
