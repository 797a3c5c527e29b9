"""Claim helpers over the shared `world` fixture."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.utils import timezone

from claims.choices import NextAction
from practices.choices import ClaimFormat
from tests import claim_factory, factories


@pytest.fixture
def make_claim(world: Any) -> Any:
    """A claim through the services (``tests.claim_factory``): a clean Sunrise dental claim
    unless overridden."""
    counter = iter(range(1, 10_000))
    payer = factories.PayerFactory(
        practice=world.sunrise, claim_format=ClaimFormat.DENTAL, timely_filing_days=365
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
            "service_date_from": today - dt.timedelta(days=10),
            "owner": world.bill,
            "next_action": NextAction.CORRECT_AND_RESUBMIT,
            "next_action_due": today,
        }
        kwargs.update(overrides)
        return claim_factory.make(**kwargs)

    make.payer = payer
    make.provider = provider
    return make
