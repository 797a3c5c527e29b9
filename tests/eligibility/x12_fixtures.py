"""Fixtures of the 271/270 tests: open eligibility checks made through the beat job."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from eligibility.models import EligibilityCheck
from eligibility.services import checks_for_upcoming
from practices.choices import ClaimFormat, CobOrder, Relationship
from tests import factories


@pytest.fixture
def make_check(world: Any) -> Any:
    """An open check through the beat job: a patient, coverage and appointment tomorrow."""
    payers: dict[str, Any] = {}
    providers: dict[int, Any] = {}

    def make(
        payer_id: str,
        last: str,
        first: str,
        born: dt.date,
        member_id: str = "",
        relationship: str = Relationship.SELF,
        subscriber: str = "",
        practice: Any = None,
        days: int = 1,
    ) -> EligibilityCheck:
        practice = practice or world.sunrise
        if practice.pk not in providers:
            providers[practice.pk] = factories.ProviderFactory(practice=practice)
        key = f"{practice.pk}:{payer_id}"
        if key not in payers:
            payers[key] = factories.PayerFactory(
                practice=practice,
                name=f"Payer {payer_id}",
                payer_id=payer_id,
                claim_format=ClaimFormat.DENTAL,
            )
        patient = factories.PatientFactory(
            practice=practice, last_name=last, first_name=first, date_of_birth=born
        )
        coverage = factories.CoverageFactory(
            patient=patient,
            payer=payers[key],
            member_id=member_id,
            subscriber_relationship=relationship,
            subscriber_name=subscriber or f"{first} {last}",
            cob_order=CobOrder.PRIMARY,
        )
        appointment = factories.AppointmentFactory(
            patient=patient,
            provider=providers[practice.pk],
            starts_at=timezone.now() + dt.timedelta(days=days),
        )
        checks_for_upcoming()
        return EligibilityCheck.objects.get(appointment=appointment, coverage=coverage)

    return make
