"""Issue 7, point 4: a claim without a service date that is no predetermination imports as
a draft the scrubber blocks (it used to be refused: "the claim has no service date")."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from claims import priority
from claims.choices import ClaimStatus, ImportStatus, NextAction, Severity
from claims.imports import services
from claims.imports.results import describe
from claims.models import Claim, Estimate, ImportJob
from claims.services import claim_transition
from practices.choices import ClaimFormat
from tests import factories

FILES = Path(__file__).parent / "import_files"
NPI = "1649999995"


def run(world: Any, content: str, *, user: Any, practice: Any, name: str) -> ImportJob:
    job = services.import_file(
        actor=user, practice=practice, content=content.encode(), filename=name
    )
    ran = services.run_import_job(job.pk)
    assert ran is not None
    return ran


def run_maple(world: Any, name: str, text: str | None = None) -> ImportJob:
    text = (FILES / name).read_text() if text is None else text
    return run(world, text, user=world.mia, practice=world.maple, name=name)


def entries(job: ImportJob, level: str) -> list[str]:
    return [describe(e) for e in job.errors if e["level"] == level]


def assert_undated_draft(claim: Claim) -> None:
    assert claim.status == ClaimStatus.DRAFT
    assert (claim.service_date_from, claim.service_date_to) == (None, None)
    assert claim.timely_filing_deadline is None
    assert claim.next_action == NextAction.REQUEST_INFO_PRACTICE
    (finding,) = claim.findings.filter(rule="missing_service_date")
    assert finding.severity == Severity.ERROR
    assert "no service date (DTP*472" in finding.message


def test_undated_837p_claim_imports_as_a_draft_with_a_scrub_error(world):
    job = run_maple(world, "p_undated.837")
    assert (job.status, job.created_count, job.rejected_count) == (ImportStatus.DONE, 1, 0), (
        job.errors
    )
    claim = Claim.objects.get(practice=world.maple, pms_claim_number="C-600")
    assert_undated_draft(claim)
    assert claim.total_billed == Decimal("600.00")
    assert [line.service_date for line in claim.lines.all()] == [None, None]
    assert entries(job, "warning") == [
        f"claim C-600: no service date (DTP*472): claim #{claim.pk} is a draft with a scrub "
        "error until the date of service is entered"
    ]
    # The scrub error blocks "ready": the claim cannot be billed until it is dated.
    with pytest.raises(ValidationError, match="no service date"):
        claim_transition(actor=world.mia, claim=claim, to_status=ClaimStatus.READY)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DRAFT
    assert "no service date" in priority.explain(claim)


def test_undated_claim_page_shows_the_scrub_error(world, client_for):
    run_maple(world, "p_undated.837")
    claim = Claim.objects.get(practice=world.maple, pms_claim_number="C-600")
    client = client_for(world.mia)
    session = client.session
    session["practice_id"] = world.maple.pk
    session.save()
    page = client.get(f"/claims/{claim.pk}/")
    assert page.status_code == 200
    assert "no service date (DTP*472" in page.content.decode()


def test_a_replacement_with_the_date_clears_the_scrub_error(world):
    run_maple(world, "p_undated.837")
    dated = (
        (FILES / "p_original.837")
        .read_text()
        .replace("CLM*C-500*600.00***11:B:1", "CLM*C-600*600.00***11:B:7")
    )
    job = run_maple(world, "dated.837", dated)
    assert (job.updated_count, job.conflict_count) == (1, 0), job.errors
    claim = Claim.objects.get(practice=world.maple, pms_claim_number="C-600")
    assert (claim.service_date_from, claim.service_date_to) == (
        dt.date(2026, 1, 10),
        dt.date(2026, 1, 12),
    )
    assert claim.timely_filing_deadline == dt.date(2026, 1, 10) + dt.timedelta(
        days=claim.payer.timely_filing_days
    )
    assert not claim.findings.filter(rule="missing_service_date").exists()


def test_undated_dental_claim_is_a_draft_but_a_predetermination_stays_an_estimate(world):
    for name in ("d_undated.837", "d_predetermination.837"):
        job = run(
            world, (FILES / name).read_text(), user=world.bill, practice=world.sunrise, name=name
        )
        assert (job.status, job.created_count) == (ImportStatus.DONE, 1), job.errors
    assert_undated_draft(Claim.objects.get(pms_claim_number="SD-5001"))
    assert not Estimate.objects.filter(pms_claim_number="SD-5001").exists()
    assert Estimate.objects.filter(pms_claim_number="SD-4001").exists()
    assert not Claim.objects.filter(pms_claim_number="SD-4001").exists()


HEADER = (
    "pms_claim_number,patient_account,payer_id,member_id,provider_npi,service_date,"
    "procedure_code,charge"
)


@pytest.fixture
def sunrise_patient(world: Any) -> Any:
    payer = factories.PayerFactory(
        practice=world.sunrise, payer_id="DT001", claim_format=ClaimFormat.DENTAL
    )
    factories.ProviderFactory(practice=world.sunrise, npi=NPI)
    patient = factories.PatientFactory(practice=world.sunrise, account_number="A77")
    factories.CoverageFactory(patient=patient, payer=payer, member_id="M1")
    return patient


def test_csv_claim_without_any_service_date_is_an_undated_draft(world, sunrise_patient):
    rows = [
        HEADER,
        f"U-1,A77,DT001,M1,{NPI},,D1110,95.00",
        f"U-1,A77,DT001,M1,{NPI},,D0120,48.00",
        f"U-2,A77,DT001,M1,{NPI},,D0150,85.00",
        f"U-2,A77,DT001,M1,{NPI},2026-01-08,D0210,120.00",
    ]
    job = run(world, "\n".join(rows) + "\n", user=world.bill, practice=world.sunrise, name="c.csv")
    assert (job.status, job.created_count, job.rejected_count) == (ImportStatus.DONE, 2, 0), (
        job.errors
    )
    undated = Claim.objects.get(pms_claim_number="U-1")
    assert_undated_draft(undated)
    assert entries(job, "warning") == [
        f"row 2, claim U-1: no service date on any line: claim #{undated.pk} is a draft with "
        "a scrub error until the date of service is entered"
    ]
    # One dated line dates the claim; the undated line keeps no date of its own.
    partly = Claim.objects.get(pms_claim_number="U-2")
    assert (partly.service_date_from, partly.service_date_to) == (
        dt.date(2026, 1, 8),
        dt.date(2026, 1, 8),
    )
    assert [line.service_date for line in partly.lines.all()] == [None, dt.date(2026, 1, 8)]
    assert not partly.findings.exists()
    assert partly.next_action == NextAction.PREPARE_AND_SUBMIT


def test_csv_bad_service_date_is_still_an_error(world, sunrise_patient):
    rows = [HEADER, f"U-3,A77,DT001,M1,{NPI},13/45/2026,D1110,95.00"]
    job = run(world, "\n".join(rows) + "\n", user=world.bill, practice=world.sunrise, name="c.csv")
    assert job.status == ImportStatus.FAILED
    assert any("service_date" in m for m in entries(job, "error"))
    assert not Claim.objects.filter(pms_claim_number="U-3").exists()
