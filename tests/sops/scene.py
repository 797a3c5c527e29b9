"""Billing functions and SOPs over the shared world (tests/conftest.py)."""

from __future__ import annotations

from typing import Any

from sops import function_services, sop_services
from sops.choices import BillingFunctionKind, Sourcing

SUNRISE_REACH = "ext 214, weekdays 8-4 (sunrise)"


def sop_fields(owner: Any, **overrides: Any) -> dict[str, Any]:
    fields = {
        "objective": "Every claim without an answer after 30 days is followed up.",
        "steps": ["Open payer AR", "Call the payer", "Log the outcome and the next action"],
        "owner": owner,
        "timeline": "Every weekday; no claim older than 30 days without a call",
        "escalation_path": "Owner, then backup, then the practice manager",
        "payer_requirements": "Delta Dental: claim status by portal only",
        "change_summary": "First version",
    }
    fields.update(overrides)
    return fields


def build(world: Any) -> None:
    """Sunrise: claim follow-up (bill, backup vera, vendor), eligibility (fran), a
    follow-up SOP in two versions; Maple: claim follow-up (mia) with its SOP."""
    world.follow_up = function_services.billing_function_set(
        actor=world.sam,
        practice=world.sunrise,
        kind=BillingFunctionKind.CLAIM_FOLLOW_UP,
        owner=world.bill,
        backup=world.vera,
        sourcing=Sourcing.VENDOR,
        turnaround_days=3,
        how_to_reach=SUNRISE_REACH,
    )
    world.eligibility = function_services.billing_function_set(
        actor=world.sam,
        practice=world.sunrise,
        kind=BillingFunctionKind.ELIGIBILITY,
        owner=world.fran,
    )
    world.v1 = sop_services.sop_save(
        actor=world.sam,
        function=world.follow_up,
        title="Sunrise follow-up SOP",
        **sop_fields(world.bill),
    )
    world.v2 = sop_services.sop_save(
        actor=world.sam,
        function=world.follow_up,
        **sop_fields(
            world.bill,
            steps=["Open payer AR", "Check the portal first", "Call the payer", "Log it"],
            change_summary="Portal before the phone",
        ),
    )
    world.sop = world.v2.sop
    world.maple_follow_up = function_services.billing_function_set(
        actor=world.mia,
        practice=world.maple,
        kind=BillingFunctionKind.CLAIM_FOLLOW_UP,
        owner=world.mia,
        how_to_reach="maple front office",
    )
    world.maple_v1 = sop_services.sop_save(
        actor=world.mia,
        function=world.maple_follow_up,
        title="Maple follow-up SOP",
        **sop_fields(world.mia),
    )


def sops_ids(world: Any) -> dict[str, int]:
    """For the API fuzz (tests/test_api_fuzz.py): a billing function, an SOP, a payer house
    rule and an escalation the biller (bill) may see."""
    from practices.models import Payer
    from sops import escalation_services, rule_services
    from sops.sop_models import SopSignOffRequest

    build(world)
    payer = Payer.objects.filter(practice=world.sunrise).first() or factories_payer(world)
    rule = rule_services.house_rule_save(
        actor=world.sam, practice=world.sunrise, payer=payer, decision="Fuzz decision"
    )
    request = SopSignOffRequest.objects.get(sop_version=world.v2, owner=world.bill)
    escalation = escalation_services.escalation_raise(
        actor=world.bill,
        subject_type="sop_sign_off",
        subject_id=request.pk,
        function_kind="claim_follow_up",
        question="Is version 2 final?",
        is_routine=True,
    )
    return {
        "/api/v1/qa-reviews/": _qa_review_for_bill(world),
        "/api/v1/mini-audits/": _mini_audit_for_bill(world),
        "/api/v1/billing-functions/": world.follow_up.pk,
        "/api/v1/sops/": world.sop.pk,
        "/api/v1/payer-rules/": rule.pk,
        "/api/v1/escalations/": escalation.pk,
    }


def factories_payer(world: Any) -> Any:
    from tests import factories

    return factories.PayerFactory(practice=world.sunrise)


def _qa_review_for_bill(world: Any) -> int:
    """bill reviews coding at Sunrise; this week's QA sample gives him a submitted claim."""
    import datetime as dt

    from django.utils import timezone

    from claims.choices import ClaimStatus
    from practices.choices import ClaimFormat
    from sops import qa
    from sops.qa_models import QaReview
    from tests import claim_factory, factories

    function_services.billing_function_set(
        actor=world.sam,
        practice=world.sunrise,
        kind=BillingFunctionKind.CODING_REVIEW,
        owner=world.bill,
    )
    patient = factories.PatientFactory(practice=world.sunrise)
    claim = claim_factory.make(
        actor=world.bill,
        patient=patient,
        coverage=factories.CoverageFactory(
            patient=patient,
            payer=factories.PayerFactory(
                practice=world.sunrise, claim_format=ClaimFormat.DENTAL, timely_filing_days=365
            ),
        ),
        provider=factories.ProviderFactory(practice=world.sunrise),
        number="FUZZ-QA-1",
        owner=world.bill,
        status=ClaimStatus.SUBMITTED,
    )
    qa.sample_week(timezone.localdate() + dt.timedelta(days=1))
    return int(QaReview.objects.get(claim=claim).pk)


def _mini_audit_for_bill(world: Any) -> int:
    """bill reviews coding at Sunrise (``_qa_review_for_bill``, called first): the QA
    sample's claim, submitted long ago and unanswered, is in last month's mini-audit."""
    import datetime as dt

    from django.utils import timezone

    from claims.models import Claim
    from sops import qa_audit
    from sops.qa_audit_models import MiniAudit

    Claim.objects.filter(practice=world.sunrise, pms_claim_number="FUZZ-QA-1").update(
        first_submitted_at=timezone.now() - dt.timedelta(days=90)
    )
    qa_audit.sample_month(timezone.localdate())
    return int(MiniAudit.objects.get(practice=world.sunrise, owner=world.bill).pk)
