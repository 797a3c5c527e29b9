"""Claims and a real Celery worker for the reminder tests (over the shared `world`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from claims.choices import NextAction
from claims.models import Claim
from practices.choices import ClaimFormat
from tests import claim_factory, factories
from tests.celery_worker import WAIT_SECONDS, TaskRuns, wait_until  # noqa: F401


@pytest.fixture
def today() -> dt.date:
    return timezone.localdate()


@pytest.fixture
def make_claim(world: Any, today: dt.date) -> Any:
    """A claim through the services (``tests.claim_factory``), in the state a test needs.

    Defaults: a Sunrise claim owned by bill, $1,240.00 billed to "Delta Dental", next
    action "Call payer" due today; ``status`` is reached along the status machine and
    ``deadline`` through the service date the payer's limit derives it from.
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
        return claim_factory.make(
            actor=actor or actors.get(practice.pk) or owner,
            patient=patient,
            coverage=coverage,
            provider=providers[practice.pk],
            number=number or f"PCN{next(counter):04d}",
            owner=owner or world.bill,
            status=status,
            deadline=deadline,
            lines=[{"procedure_code": "D1110", "charge": charge}],
            next_action=next_action,
            next_action_due=today if due is None else due,
        )

    return make
