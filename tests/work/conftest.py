"""Claims and a real Celery worker for the reminder tests (over the shared `world`)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from claims import services
from claims.choices import NextAction
from claims.models import Claim
from practices.choices import ClaimFormat
from tests import factories
from tests.celery_worker import WAIT_SECONDS, TaskRuns, wait_until  # noqa: F401


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
