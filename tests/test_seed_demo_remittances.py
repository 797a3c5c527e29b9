"""`manage.py seed_demo` posts the payer's side (issue 11, samples and demo): 835s that pay,
partly pay and deny demo claims in every denial category, a paper EOB, a reversal, an
unmatched payment and appeals at every stage; a second run adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from io import StringIO
from typing import Any

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum

from ar.choices import ClaimPaymentState, PaymentSource, RemittanceStatus, UnmatchedStatus
from ar.models import Adjustment, ClaimPayment, Remittance, UnmatchedRemittance
from claims.choices import ClaimStatus
from claims.models import Claim
from demo.remittances import SCENARIOS, payer_claim_number
from denials.choices import (
    AppealLevel,
    AppealOutcome,
    DenialCategory,
    DenialStatus,
    Outcome,
    Source,
)
from denials.models import Appeal, Denial
from practices.models import Practice

S = ClaimStatus
SLUGS = ["maple-family-medicine", "sunrise-dental"]
INDEX = {payer_claim_number(i): s for i, s in enumerate(SCENARIOS)}


def seed() -> str:
    out = StringIO()
    call_command("seed_demo", stdout=out)
    return out.getvalue()


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[str]:
    """Seed once for the module, in a transaction rolled back after its last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield seed()
        transaction.set_rollback(True)


@pytest.fixture
def seeded(demo: str, db: Any) -> str:
    return demo


def practices() -> list[Practice]:
    return list(Practice.objects.filter(slug__in=SLUGS).order_by("slug"))


def test_every_denial_category_has_an_835_denial_at_each_practice(seeded: str) -> None:
    for practice in practices():
        denials = Denial.objects.filter(practice=practice)
        assert set(denials.values_list("category", flat=True)) == set(DenialCategory.values)
        assert set(denials.values_list("source", flat=True)) == {Source.ERA}
        # Each scenario's CARC opened exactly one denial, on the claim the 835 denied.
        for scenario in SCENARIOS:
            if scenario.carc:
                denial = denials.get(carc=scenario.carc)
                assert denial.claim.payments.filter(
                    payer_claim_number=denial.source_ref.split("/")[1]
                ).exists()
                assert denial.amount > 0


def test_appeals_at_every_stage(seeded: str) -> None:
    for practice in practices():
        appeals = Appeal.objects.filter(denial__practice=practice).select_related("denial")
        first = appeals.filter(level=AppealLevel.FIRST)
        drafted = first.get(sent_on__isnull=True)
        assert drafted.letter and drafted.denial.status == DenialStatus.OPEN
        waiting = first.get(sent_on__isnull=False, outcome="")
        assert waiting.denial.claim.status == S.APPEALED
        overturned = first.get(outcome=AppealOutcome.OVERTURNED)
        assert overturned.amount_recovered == overturned.denial.amount
        assert overturned.denial.outcome == Outcome.OVERTURNED
        partly = first.get(outcome=AppealOutcome.PARTLY)
        assert 0 < partly.amount_recovered < partly.denial.amount
        assert partly.denial.outcome == Outcome.PARTLY_OVERTURNED
        upheld = first.get(outcome=AppealOutcome.UPHELD)
        assert upheld.amount_recovered == 0 and upheld.denial.status == DenialStatus.OPEN
        second = appeals.get(level=AppealLevel.SECOND)
        assert second.denial_id == upheld.denial_id and second.sent_on is None


def test_claim_statuses_follow_the_postings(seeded: str) -> None:
    for practice in practices():
        batches = Remittance.objects.filter(practice=practice)
        assert set(batches.values_list("status", flat=True)) == {RemittanceStatus.POSTED}
        assert batches.filter(source=PaymentSource.ERA).count() == 2
        assert batches.filter(source=PaymentSource.PAPER).count() == 1
        payments = ClaimPayment.objects.filter(practice=practice).select_related("claim")
        seen = set()
        for payment in payments.filter(state=ClaimPaymentState.POSTED):
            scenario = INDEX[payment.payer_claim_number]
            seen.add(scenario.key)
            claim = payment.claim
            assert claim is not None
            assert claim.status == scenario.status, (scenario.key, claim.status)
            # The claim's totals are the sum of what was posted to it.
            posted = claim.payments.aggregate(paid=Sum("paid"), pr=Sum("patient_responsibility"))
            assert claim.total_paid == posted["paid"]
            assert claim.patient_responsibility == posted["pr"]
            if scenario.how == "paid":
                assert payment.paid > 0
                groups = set(payment.adjustments.values_list("group", "reason_code"))
                assert ("CO", "45") in groups
                assert {("PR", c) for c in scenario.share} <= groups
        assert seen == {s.key for s in SCENARIOS if s.how != "unmatched"}
        # The reversal: new negative rows, the claim back with the payer, nothing paid.
        reversal = payments.get(status_code="22")
        assert reversal.reversal_of is not None and reversal.paid < 0
        assert reversal.claim is not None and reversal.claim.total_paid == Decimal("0.00")
        # Partly paid with the patient's share: CO-45 and PR-1 / PR-2 adjustments posted.
        codes = set(
            Adjustment.objects.filter(payment__practice=practice).values_list(
                "group", "reason_code"
            )
        )
        assert {("CO", "45"), ("PR", "1"), ("PR", "2"), ("PR", "3")} <= codes
        # The unmatched payment waits for a person; the claim it was meant for is untouched.
        item = UnmatchedRemittance.objects.get(practice=practice)
        assert item.status == UnmatchedStatus.OPEN and item.owner_id is not None
        meant = Claim.objects.get(
            practice=practice,
            pms_claim_number=f"{item.payment.patient_control_number[:2]}-"
            f"{item.payment.patient_control_number[2:]}",
        )
        assert meant.status in (S.SUBMITTED, S.IN_ADJUDICATION)
        assert not meant.payments.exists()


def payer_side() -> dict[str, Any]:
    """Row counts of the remittance and denial tables (and their history), and every
    claim's status and money."""
    models = [
        m for m in apps.get_models() if m._meta.app_label in ("ar", "denials", "claims", "work")
    ]
    counts = {m._meta.label: m._default_manager.count() for m in models}
    claims = sorted(
        Claim.objects.values_list(
            "pms_claim_number", "payer_id", "status", "total_paid", "next_action", "version"
        )
    )
    return {"counts": counts, "claims": claims}


def test_second_run_adds_nothing(seeded: str) -> None:
    first = payer_side()
    assert first["counts"]["ar.Remittance"] == 6
    assert first["counts"]["denials.Appeal"] == 12

    out = seed()

    assert payer_side() == first
    assert "(0 new)" in out


@pytest.mark.slow
def test_reset_removes_the_payer_side_and_posts_it_afresh(seeded: str) -> None:
    before = payer_side()["counts"]

    out = StringIO()
    call_command("seed_demo", "--reset", stdout=out)

    assert "Demo reset: 2 practices emptied" in out.getvalue()
    after = payer_side()["counts"]
    for label in ("ar.Remittance", "ar.ClaimPayment", "denials.Denial", "denials.Appeal"):
        assert after[label] == before[label], label
    assert Remittance.objects.filter(trace="DEMO-SD-1").count() == 1
    assert set(Denial.objects.values_list("category", flat=True)) == set(DenialCategory.values)
