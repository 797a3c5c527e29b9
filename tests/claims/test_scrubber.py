"""Each scrubber rule with a failing and a passing case; errors block "ready"."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from claims import scrubber, services
from claims.choices import AttachmentKind, AttachmentStatus, ClaimStatus
from claims.models import Attachment, PayerRule
from practices.choices import ClaimFormat, CobOrder
from tests import factories


def local_today() -> dt.date:
    """Today in the practice's time zone, read when a test uses it (a module-level
    constant read at import went stale when a run crossed midnight)."""
    return timezone.localdate()


def rules_of(claim):
    claim.refresh_from_db()
    return {f.rule: f.severity for f in scrubber.scrub(claim)}


def days_ago(n):
    return local_today() - dt.timedelta(days=n)


def test_clean_claim_has_no_findings(make_claim):
    assert rules_of(make_claim()) == {}


def test_missing_member_id(world, make_claim):
    patient = factories.PatientFactory(practice=world.sunrise)
    coverage = factories.CoverageFactory(patient=patient, member_id="   ", payer=make_claim.payer)
    assert rules_of(make_claim(patient=coverage.patient, coverage=coverage)) == {
        "missing_member_id": "error"
    }


def test_missing_diagnosis_pointer_on_professional_claims(world, make_claim):
    payer = factories.PayerFactory(practice=world.sunrise, claim_format=ClaimFormat.PROFESSIONAL)

    def line(**extra):
        return [{"procedure_code": "99213", "charge": "90", **extra}]

    bad = make_claim(payer=payer, diagnosis_codes=["J20.9"], lines=line())
    assert rules_of(bad) == {"missing_diagnosis_pointer": "error"}
    wrong = make_claim(
        payer=payer,
        diagnosis_codes=["J20.9"],
        lines=line(diagnosis_pointers=[2]),
        service_date_from=days_ago(2),
    )
    assert rules_of(wrong) == {"missing_diagnosis_pointer": "error"}
    good = make_claim(
        payer=payer,
        diagnosis_codes=["J20.9"],
        lines=line(diagnosis_pointers=[1]),
        service_date_from=days_ago(3),
    )
    assert rules_of(good) == {}


def test_a_dental_pointer_to_a_missing_diagnosis_is_flagged(make_claim):
    # the demo payer is dental: no pointer is fine, a pointer past the claim's diagnoses not
    assert rules_of(make_claim(lines=[{"procedure_code": "D2740", "charge": "900"}])) == {}
    wrong = make_claim(
        diagnosis_codes=["K02.52"],
        lines=[{"procedure_code": "D2740", "charge": "900", "diagnosis_pointers": [3]}],
        service_date_from=days_ago(4),
    )
    assert rules_of(wrong) == {"missing_diagnosis_pointer": "error"}


def test_future_service_date(make_claim):
    assert rules_of(make_claim(service_date_from=local_today() + dt.timedelta(days=2))) == {
        "future_service_date": "error"
    }


def test_duplicate_claim(world, make_claim):
    first = make_claim()
    dup = make_claim(patient=first.patient, coverage=first.coverage)
    assert rules_of(dup) == {"duplicate_claim": "error"}
    other_day = make_claim(
        patient=first.patient, coverage=first.coverage, service_date_from=days_ago(20)
    )
    assert rules_of(other_day) == {}
    services.claim_transition(actor=world.bill, claim=first, to_status=ClaimStatus.VOID)
    assert rules_of(dup) == {}


def test_timely_filing_past_and_near(world, make_claim):
    payer = factories.PayerFactory(practice=world.sunrise, timely_filing_days=90)
    past = make_claim(payer=payer, service_date_from=days_ago(91))
    near = make_claim(payer=payer, service_date_from=days_ago(80))
    fine = make_claim(payer=payer, service_date_from=days_ago(30))
    assert rules_of(past) == {"timely_filing": "error"}
    assert rules_of(near) == {"timely_filing": "warning"}
    assert rules_of(fine) == {}


def test_secondary_without_primary_adjudication(world, make_claim):
    patient = factories.PatientFactory(practice=world.sunrise)
    secondary = factories.CoverageFactory(
        patient=patient, payer=make_claim.payer, cob_order=CobOrder.SECONDARY
    )
    assert rules_of(make_claim(patient=patient, coverage=secondary)) == {
        "secondary_without_primary": "error"
    }
    adjudicated = make_claim(
        patient=patient,
        coverage=secondary,
        other_payer_paid=Decimal("80"),
        service_date_from=days_ago(4),
    )
    assert rules_of(adjudicated) == {}


def test_zero_or_negative_charge(make_claim):
    claim = make_claim(
        lines=[
            {"procedure_code": "D1110", "charge": "0"},
            {"procedure_code": "D0120", "charge": "-5"},
        ]
    )
    claim.refresh_from_db()
    findings = scrubber.scrub(claim)
    assert [(f.rule, f.line_number) for f in findings] == [
        ("non_positive_charge", 1),
        ("non_positive_charge", 2),
    ]


def test_payer_rule_attachment_and_modifier(world, make_claim):
    PayerRule.objects.create(
        practice=world.sunrise,
        payer=make_claim.payer,
        procedure_code_pattern="D27*",
        required_attachment=AttachmentKind.XRAY,
        description="Crowns need a pre-op x-ray",
    )
    PayerRule.objects.create(
        practice=world.sunrise,
        payer=make_claim.payer,
        procedure_code_pattern="D4341",
        required_modifier="KX",
        description="SRP needs KX",
    )
    crown = make_claim(lines=[{"procedure_code": "D2740", "charge": "900"}])
    assert rules_of(crown) == {"payer_rule": "error"}
    Attachment.objects.create(
        claim=crown,
        kind=AttachmentKind.XRAY,
        label="pre-op",
        status=AttachmentStatus.RECEIVED,
        requested_by=world.bill,
    )
    assert rules_of(crown) == {}
    srp = make_claim(
        lines=[{"procedure_code": "D4341", "charge": "200"}], service_date_from=days_ago(5)
    )
    assert rules_of(srp) == {"payer_rule": "error"}
    srp_kx = make_claim(
        lines=[{"procedure_code": "D4341", "charge": "200", "modifiers": ["KX"]}],
        service_date_from=days_ago(6),
    )
    assert rules_of(srp_kx) == {}


def test_errors_block_ready_and_are_stored(world, make_claim):
    claim = make_claim(service_date_from=local_today() + dt.timedelta(days=1))
    with pytest.raises(ValidationError) as exc:
        services.claim_transition(actor=world.bill, claim=claim, to_status=ClaimStatus.READY)
    assert "future" in str(exc.value)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DRAFT


def test_warning_does_not_block_but_marks_first_submission_unclean(world, make_claim):
    payer = factories.PayerFactory(practice=world.sunrise, timely_filing_days=90)
    claim = make_claim(payer=payer, service_date_from=days_ago(80))
    claim = services.claim_transition(actor=world.bill, claim=claim, to_status=ClaimStatus.READY)
    claim = services.claim_transition(
        actor=world.bill, claim=claim, to_status=ClaimStatus.SUBMITTED
    )
    assert claim.clean_at_first_submission is False
    assert list(claim.findings.values_list("rule", flat=True)) == ["timely_filing"]
