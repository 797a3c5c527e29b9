"""Remittance helpers over the shared `world` fixture: claims that the 835 samples pay."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from ar import services
from claims.choices import NextAction
from practices.choices import ClaimFormat
from tests import claim_factory, factories

SAMPLES = Path(__file__).resolve().parent / "samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_text()


@pytest.fixture
def payer(world: Any) -> Any:
    return factories.PayerFactory(
        practice=world.sunrise,
        name="Example Health Plan",
        payer_id="1417776310",
        claim_format=ClaimFormat.DENTAL,
        timely_filing_days=365,
    )


@pytest.fixture
def make_claim(world: Any, payer: Any) -> Any:
    """A submitted Sunrise claim through the services: number, patient, lines (code, charge)."""
    provider = factories.ProviderFactory(practice=world.sunrise)

    def make(
        number: str,
        last_name: str,
        lines: list[tuple[str, str]],
        status: str = "submitted",
        practice: Any = None,
        actor: Any = None,
    ) -> Any:
        practice = practice or world.sunrise
        patient = factories.PatientFactory(practice=practice, last_name=last_name)
        claim_payer = payer
        the_provider = provider
        if practice != world.sunrise:
            claim_payer = factories.PayerFactory(practice=practice, timely_filing_days=365)
            the_provider = factories.ProviderFactory(practice=practice)
        coverage = factories.CoverageFactory(patient=patient, payer=claim_payer)
        return claim_factory.make(
            actor=actor or world.bill,
            patient=patient,
            coverage=coverage,
            provider=the_provider,
            number=number,
            owner=actor or world.bill,
            status=status,
            service_date_from=timezone.localdate() - dt.timedelta(days=20),
            lines=[{"procedure_code": c, "charge": Decimal(ch)} for c, ch in lines],
            next_action=NextAction.WAIT,
            wait_reason="payer answer",
        )

    return make


@pytest.fixture
def bundling_claims(make_claim: Any) -> list[Any]:
    """The three claims x12sdk-generated-bundling-denials.835 pays, as we billed them."""
    return [
        make_claim("PCN000001", "Martin", [("99214", "900.00")]),
        make_claim("PCN000002", "Doe", [("99213", "450.00")]),
        make_claim("PCN000003", "Taylor", [("93000", "1200.00")]),
    ]


@pytest.fixture
def post(world: Any) -> Any:
    """Upload a file's text and run it now, as the task would."""

    def run(text: str, *, actor: Any = None, practice: Any = None, dry_run: bool = False) -> Any:
        batch = services.remittance_upload(
            actor=actor or world.bill,
            practice=practice or world.sunrise,
            content=text.encode(),
            filename="era.835",
            dry_run=dry_run,
            enqueue=False,
        )
        return services.remittance_run(batch.pk)

    return run
