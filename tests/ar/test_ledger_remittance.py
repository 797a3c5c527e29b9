"""Patient responsibility from posted remittances (issue 13, 1): the payer's patient share
becomes a charge on the patient's account, once; the payer's reversal reverses it; a
primary claim whose patient has a secondary coverage leaves the share to the secondary."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ar.account_choices import AccountStatus, EntryKind
from ar.ledger_models import LedgerEntry, PatientAccount
from ar.models import ClaimPayment
from practices.choices import CobOrder
from tests import factories
from tests.ar.conftest import sample
from tests.ar.test_x12_835 import era

pytestmark = pytest.mark.django_db

D = Decimal
PAID_WITH_SHARE = [
    "N1*PR*PLACEHOLDER HEALTH",
    "CLP*PCN000001*1*250.00*200.00*50.00*CH*354417212792",
    "CAS*PR*2*50.00",
]


def test_the_patient_share_of_a_posted_remittance_is_charged_once(world, bundling_claims, post):
    post(sample("x12sdk-generated-bundling-denials.835"))
    third = bundling_claims[2]  # CO-45 and PR-1 $100: paid, the patient owes $100
    account = PatientAccount.objects.get(patient=third.patient)
    (entry,) = LedgerEntry.objects.filter(account=account)
    assert (entry.kind, entry.amount, entry.claim) == (EntryKind.CHARGE, D("100.00"), third)
    assert entry.claim_payment == ClaimPayment.objects.get(claim=third)
    assert entry.posted_by == world.bill and "PCN000003" in entry.memo
    assert account.balance == D("100.00") and account.status == AccountStatus.OPEN
    assert account.owner == world.bill
    # No share, no charge: the other two claims' patients have no entries.
    assert not LedgerEntry.objects.exclude(account=account).exists()
    post(sample("x12sdk-generated-bundling-denials.835"))  # the same file: nothing new
    assert LedgerEntry.objects.count() == 1


def test_a_payer_reversal_reverses_the_charge(world, make_claim, post):
    claim = make_claim("PCN000001", "Taylor", [("D1110", "250.00")])
    post(era(PAID_WITH_SHARE, "200.00", trace="P-1"))
    account = PatientAccount.objects.get(patient=claim.patient)
    assert account.balance == D("50.00")
    reversal = [
        "N1*PR*PLACEHOLDER HEALTH",
        "CLP*PCN000001*22*-250.00*-200.00*-50.00*CH*354417212792",
        "CAS*PR*2*-50.00",
    ]
    post(era(reversal, "-200.00", trace="R-1"))
    account.refresh_from_db()
    charge = LedgerEntry.objects.get(kind=EntryKind.CHARGE)
    back = LedgerEntry.objects.get(kind=EntryKind.REVERSAL)
    assert back.reverses == charge and back.amount == D("-50.00")
    assert back.claim_payment.reversal_of == charge.claim_payment
    assert account.balance == 0 and account.status == AccountStatus.SETTLED


def test_a_posting_by_someone_outside_patient_billing_gives_the_balance_an_owner(
    world, make_claim, post
):
    # vera posts payments (insurance billing) but does not work patient balances.
    claim = make_claim("PCN000001", "Taylor", [("D1110", "250.00")])
    post(era(PAID_WITH_SHARE, "200.00", trace="P-2"), actor=world.vera)
    account = PatientAccount.objects.get(patient=claim.patient)
    assert account.balance == D("50.00") and account.owner == world.bill  # first by username


def test_with_a_secondary_coverage_the_share_goes_to_the_secondary(world, make_claim, post):
    claim = make_claim("PCN000001", "Taylor", [("D1110", "250.00")])
    factories.CoverageFactory(patient=claim.patient, cob_order=CobOrder.SECONDARY)
    post(era(PAID_WITH_SHARE, "200.00", trace="P-3"))
    assert not LedgerEntry.objects.exists()
