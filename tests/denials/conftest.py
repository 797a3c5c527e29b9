"""Denial helpers over the shared `world` fixture: a denied Sunrise claim."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from claims.choices import ClaimStatus, NextAction
from denials import services
from practices.choices import ClaimFormat
from tests import claim_factory, factories


@pytest.fixture
def make_claim(world: Any) -> Any:
    """A denied Sunrise claim, made through the claim services (``tests.claim_factory``)."""
    counter = iter(range(1, 10_000))
    payer = factories.PayerFactory(
        practice=world.sunrise,
        name="Delta Dental",
        claim_format=ClaimFormat.DENTAL,
        timely_filing_days=365,
        appeal_window_days=90,
    )
    provider = factories.ProviderFactory(practice=world.sunrise)

    def make(**overrides: Any) -> Any:
        patient = overrides.pop("patient", None) or factories.PatientFactory(practice=world.sunrise)
        coverage = overrides.pop("coverage", None) or factories.CoverageFactory(
            patient=patient, payer=overrides.pop("payer", payer)
        )
        today = timezone.localdate()
        kwargs: dict[str, Any] = {
            "actor": world.bill,
            "patient": patient,
            "coverage": coverage,
            "provider": provider,
            "number": overrides.pop("pms_claim_number", None) or f"C{next(counter):05d}",
            "service_date_from": today - dt.timedelta(days=30),
            "owner": world.bill,
            "next_action": NextAction.CALL_PAYER,
            "next_action_due": today,
            "status": ClaimStatus.DENIED,
            "lines": [
                {"procedure_code": "D2740", "charge": Decimal("1200.00")},
                {"procedure_code": "D0220", "charge": Decimal("40.00")},
            ],
        }
        kwargs.update(overrides)
        return claim_factory.make(**kwargs)

    make.payer = payer
    make.provider = provider
    return make


@pytest.fixture
def make_denial(world: Any, make_claim: Any) -> Any:
    """A denial opened through ``denials.services.open_denial`` on a new denied claim."""

    def make(**overrides: Any) -> Any:
        claim = overrides.pop("claim", None) or make_claim()
        kwargs: dict[str, Any] = {
            "actor": world.bill,
            "claim": claim,
            "group_code": "CO",
            "carc": "50",
            "amount": Decimal("1200.00"),
            "received_on": timezone.localdate() - dt.timedelta(days=2),
        }
        kwargs.update(overrides)
        return services.open_denial(**kwargs)

    return make
