"""Issue 13, 5: the patient account API writes through the pages' services: adjustment
requests (ask, approve, refuse), a patient payment and a dispute on an account. Bad input
is a 400 naming what is wrong and writes nothing; approving is a manager's (vendor staff
and billers get the 404 of a row they cannot act on); another practice's rows are 404."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from ar import ledger
from ar.account_choices import AdjustmentStatus, EntryKind
from ar.ledger_models import AccountActivity, AdjustmentRequest, LedgerEntry, PatientAccount
from ar.statement_models import Dispute
from denials import services as denial_services
from denials.choices import DenialStatus, Outcome

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def account(world: Any) -> PatientAccount:
    account = ledger.account_for(actor=world.bill, patient=world.sunrise_patient)
    ledger.ledger_post(actor=world.bill, account=account, kind="charge", amount="300")
    account.refresh_from_db()
    return account


def _snapshot() -> tuple[int, int, int, int]:
    return (
        AdjustmentRequest.objects.count(),
        LedgerEntry.objects.count(),
        Dispute.objects.count(),
        AccountActivity.objects.count(),
    )


def _post(client: Any, url: str, data: dict[str, Any] | None = None) -> Any:
    return client.post(url, data or {}, content_type="application/json")


def test_a_request_under_the_threshold_posts_and_one_above_waits(world, client_for, account):
    bill = client_for(world.bill)
    small = _post(
        bill,
        f"{API}/adjustment-requests/",
        {"account": account.pk, "kind": "small_balance", "amount": "20.00", "reason": "Courtesy"},
    )
    assert small.status_code == 201, small.json()
    assert small.json()["status"] == AdjustmentStatus.POSTED
    assert small.json()["requested_by"] == world.bill.pk and small.json()["entry"] is not None
    big = _post(
        bill,
        f"{API}/adjustment-requests/",
        {"account": account.pk, "kind": "hardship", "amount": "150.00", "reason": "Lost job"},
    )
    assert big.status_code == 201
    body = big.json()
    assert (body["status"], body["owner"], body["denial"]) == ("pending", world.sam.pk, None)
    account.refresh_from_db()
    assert account.balance == Decimal("280.00")


@pytest.mark.parametrize(
    ("data", "field", "text"),
    [
        ({"kind": "hardship", "amount": "999.00", "reason": "x"}, "amount", "at most"),
        ({"kind": "insurance", "amount": "10.00", "reason": "x"}, "kind", "not a valid choice"),
        ({"kind": "hardship", "amount": "0.00", "reason": "x"}, "amount", "greater than or equal"),
        ({"kind": "hardship", "amount": "10.00", "reason": "   "}, "reason", "blank"),
        ({"kind": "hardship", "amount": "ten", "reason": "x"}, "amount", "valid number"),
    ],
)
def test_a_bad_request_is_a_400_naming_the_field_and_writes_nothing(
    world, client_for, account, data, field, text
):
    before = _snapshot()
    response = _post(
        client_for(world.bill), f"{API}/adjustment-requests/", {"account": account.pk, **data}
    )
    assert response.status_code == 400
    assert text in " ".join(response.json()[field])
    assert _snapshot() == before


def test_an_account_of_another_practice_or_area_is_an_invalid_id(world, client_for, account):
    before = _snapshot()
    for user in (world.mia, world.vera):
        response = _post(
            client_for(user),
            f"{API}/adjustment-requests/",
            {"account": account.pk, "kind": "hardship", "amount": "10.00", "reason": "x"},
        )
        assert response.status_code == 400 and "account" in response.json()
    assert _snapshot() == before


def _pending(world: Any, client_for: Any, account: PatientAccount) -> int:
    response = _post(
        client_for(world.val),  # vendor lead: may ask
        f"{API}/adjustment-requests/",
        {"account": account.pk, "kind": "hardship", "amount": "150.00", "reason": "Lost job"},
    )
    assert response.status_code == 201 and response.json()["status"] == "pending"
    return int(response.json()["id"])


def test_a_manager_approves_and_nobody_else_can(world, client_for, account):
    pk = _pending(world, client_for, account)
    before = _snapshot()
    for user in (world.val, world.bill, world.fran, world.vera, world.mia):
        response = _post(client_for(user), f"{API}/adjustment-requests/{pk}/approve/")
        assert response.status_code == 404, (user, response.status_code)
    assert _snapshot() == before
    response = _post(client_for(world.sam), f"{API}/adjustment-requests/{pk}/approve/")
    assert response.status_code == 200
    assert response.json()["status"] == "posted" and response.json()["decided_by"] == world.sam.pk
    account.refresh_from_db()
    assert account.balance == Decimal("150.00")
    again = _post(client_for(world.sam), f"{API}/adjustment-requests/{pk}/approve/")
    assert again.status_code == 400 and "already posted" in str(again.json())


def test_a_refusal_needs_a_reason(world, client_for, account):
    pk = _pending(world, client_for, account)
    sam = client_for(world.sam)
    before = _snapshot()
    for data in ({}, {"note": "  "}):
        response = _post(sam, f"{API}/adjustment-requests/{pk}/refuse/", data)
        assert response.status_code == 400 and "note" in response.json()
    assert _snapshot() == before
    assert AdjustmentRequest.objects.get(pk=pk).is_open
    response = _post(sam, f"{API}/adjustment-requests/{pk}/refuse/", {"note": "Offer a plan"})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["decision_note"]) == (
        "refused",
        "Offer a plan",
    )
    assert not LedgerEntry.objects.filter(kind=EntryKind.ADJUSTMENT).exists()


def test_a_denials_insurance_write_off_is_approved_through_the_api(world, client_for, make_claim):
    claim = make_claim("WO-API", "Novak", [("D2740", "900.00")], status="denied")
    denial = denial_services.open_denial(
        actor=world.bill,
        claim=claim,
        group_code="CO",
        carc="29",
        amount=Decimal("900.00"),
        received_on=timezone.localdate() - dt.timedelta(days=1),
    )
    denial_services.denial_write_off(actor=world.vera, denial=denial, reason="Late")
    request = AdjustmentRequest.objects.get(write_off__denial=denial)
    row = client_for(world.sam).get(f"{API}/adjustment-requests/{request.pk}/").json()
    assert (row["kind"], row["denial"], row["account"]) == ("insurance", denial.pk, None)
    response = _post(client_for(world.sam), f"{API}/adjustment-requests/{request.pk}/approve/")
    assert response.status_code == 200 and response.json()["status"] == "posted"
    denial.refresh_from_db()
    assert (denial.status, denial.outcome) == (DenialStatus.CLOSED, Outcome.WRITTEN_OFF)


def test_a_patient_payment_posts_to_the_ledger(world, client_for, account):
    response = _post(
        client_for(world.fran),
        f"{API}/patient-accounts/{account.pk}/payments/",
        {"amount": "45.50", "method": "check", "reference": "1042"},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["kind"], body["amount"], body["method"], body["reference"]) == (
        "payment",
        "-45.50",
        "check",
        "1042",
    )
    assert body["posted_by"] == world.fran.pk
    account.refresh_from_db()
    assert account.balance == Decimal("254.50")


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"amount": "10.00", "method": "bitcoin"}, "method"),
        ({"amount": "-5.00", "method": "cash"}, "amount"),
        ({"method": "cash"}, "amount"),
        ({"amount": "10.00", "method": "card", "reference": "x" * 81}, "reference"),
    ],
)
def test_a_bad_payment_is_a_400_and_writes_nothing(world, client_for, account, data, field):
    before = _snapshot()
    response = _post(client_for(world.fran), f"{API}/patient-accounts/{account.pk}/payments/", data)
    assert response.status_code == 400 and field in response.json()
    assert _snapshot() == before


def test_payments_and_disputes_elsewhere_are_404(world, client_for, account):
    before = _snapshot()
    for user in (world.vera, world.vic, world.mia):
        client = client_for(user)
        paid = _post(
            client,
            f"{API}/patient-accounts/{account.pk}/payments/",
            {"amount": "10.00", "method": "cash"},
        )
        disputed = _post(
            client, f"{API}/patient-accounts/{account.pk}/disputes/", {"reason": "never seen"}
        )
        assert (paid.status_code, disputed.status_code) == (404, 404), user
    assert _snapshot() == before


def test_a_dispute_holds_statements_and_a_second_one_is_refused(world, client_for, account):
    client = client_for(world.bill)
    response = _post(
        client, f"{API}/patient-accounts/{account.pk}/disputes/", {"reason": "Billed twice"}
    )
    assert response.status_code == 201
    assert (response.json()["status"], response.json()["opened_by"]) == ("open", world.bill.pk)
    account.refresh_from_db()
    assert "dispute" in account.wait_reason
    before = _snapshot()
    again = _post(client, f"{API}/patient-accounts/{account.pk}/disputes/", {"reason": "again"})
    assert again.status_code == 400 and "already has an open dispute" in str(again.json())
    blank = _post(client, f"{API}/patient-accounts/{account.pk}/disputes/", {"reason": ""})
    assert blank.status_code == 400 and "reason" in blank.json()
    assert _snapshot() == before
