"""Patient account pages (issue 13, 1-3 and 7): the patient page's balance panel and the
front desk's payment, the balances page with aging, its CSV (formulas neutralised, logged),
the account page's forms and the manager's approval, all through the services."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from ar import adjustments, ledger
from ar.account_choices import AdjustmentStatus, EntryKind
from ar.ledger_models import LedgerEntry, PatientAccount
from practices.choices import AccessAction
from practices.models import PhiAccessLog
from tests import factories

pytestmark = pytest.mark.django_db


def at_sunrise(client: Any, world: Any) -> Any:
    session = client.session
    session["practice_id"] = world.sunrise.pk
    session.save()
    return client


def test_the_front_desk_sees_what_is_due_and_takes_a_payment_on_the_patient_page(world, client_for):
    account = ledger.account_for(actor=world.bill, patient=world.sunrise_patient)
    ledger.ledger_post(actor=world.bill, account=account, kind="charge", amount="85.40")
    fran = at_sunrise(client_for(world.fran), world)
    page = fran.get(f"/patients/{world.sunrise_patient.pk}/")
    assert 'id="patient-billing-panel"' in page.text and "$85.40" in page.text
    response = fran.post(
        f"/patients/{world.sunrise_patient.pk}/payments/",
        {
            "amount": "50",
            "method": "cash",
            "reference": "",
            "next": f"/patients/{world.sunrise_patient.pk}/",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{world.sunrise_patient.pk}/"
    account.refresh_from_db()
    assert account.balance == Decimal("35.40")
    entry = LedgerEntry.objects.get(kind=EntryKind.PAYMENT)
    assert entry.posted_by == world.fran and entry.method == "cash"
    # A payment to a patient with no account yet opens one.
    other = factories.PatientFactory(practice=world.sunrise)
    fran.post(f"/patients/{other.pk}/payments/", {"amount": "20", "method": "check"})
    assert PatientAccount.objects.get(patient=other).balance == Decimal("-20.00")
    # Vera (insurance billing only) sees the patient but no balance.
    vera = at_sunrise(client_for(world.vera), world)
    page = vera.get(f"/patients/{world.sunrise_patient.pk}/")
    assert page.status_code == 200 and "patient-billing-panel" not in page.text


def test_balances_page_and_csv_show_aging_and_neutralise_formulas(world, client_for):
    today = timezone.localdate()
    patient = factories.PatientFactory(
        practice=world.sunrise, last_name="=HYPERLINK(1)", first_name="@x"
    )
    old = ledger.account_for(actor=world.bill, patient=patient)
    ledger.ledger_post(
        actor=world.bill,
        account=old,
        kind="charge",
        amount="200",
        entry_date=today - dt.timedelta(days=100),
    )
    recent = ledger.account_for(actor=world.bill, patient=world.sunrise_patient)
    ledger.ledger_post(actor=world.bill, account=recent, kind="charge", amount="40")
    fran = at_sunrise(client_for(world.fran), world)
    page = fran.get("/patient-accounts/?bucket=91-120")
    assert page.status_code == 200
    assert patient.account_number in page.text
    assert world.sunrise_patient.account_number not in page.text.split('id="balances-table"')[1]
    assert "$240.00 owed" in page.text
    response = fran.get("/patient-accounts/export/")
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    by_account = {row[0]: row for row in rows[1:]}
    assert by_account[patient.account_number][1] == "'=HYPERLINK(1), @x"
    assert by_account[patient.account_number][5] == "91-120"
    assert by_account[world.sunrise_patient.account_number][2] == "40.00"
    logged = PhiAccessLog.objects.get(action=AccessAction.EXPORT, user=world.fran)
    assert set(logged.patient_ids) == {patient.pk, world.sunrise_patient.pk}


def test_a_manager_approves_from_the_request_page(world, client_for):
    account = ledger.account_for(actor=world.bill, patient=world.sunrise_patient)
    ledger.ledger_post(actor=world.bill, account=account, kind="charge", amount="400")
    val = at_sunrise(client_for(world.val), world)
    val.post(
        f"/patient-accounts/{account.pk}/adjustments/",
        {"kind": "write_off", "amount": "250", "reason": "uncollectible"},
    )
    request = account.adjustment_requests.get()
    assert request.status == AdjustmentStatus.PENDING and request.requested_by == world.val
    sam = at_sunrise(client_for(world.sam), world)
    queue = sam.get("/queues/approvals/")
    assert queue.status_code == 200 and f"/adjustment-requests/{request.pk}/" in queue.text
    page = sam.get(f"/adjustment-requests/{request.pk}/")
    assert "Approve and post" in page.text
    sam.post(f"/adjustment-requests/{request.pk}/approve/")
    request.refresh_from_db()
    account.refresh_from_db()
    assert request.status == AdjustmentStatus.POSTED and account.balance == Decimal("150.00")
    # The refused path reports a missing reason and changes nothing.
    again = adjustments.adjustment_request(
        actor=world.fran, account=account, kind="hardship", amount="150", reason="x"
    )
    response = sam.post(f"/adjustment-requests/{again.pk}/refuse/", {"note": ""}, follow=True)
    again.refresh_from_db()
    assert (
        again.status == AdjustmentStatus.PENDING and "Note: This field is required" in response.text
    )


def test_the_account_page_shows_the_ledger_and_records_a_follow_up(world, client_for):
    account = ledger.account_for(actor=world.bill, patient=world.sunrise_patient)
    charge = ledger.ledger_post(actor=world.bill, account=account, kind="charge", amount="60")
    fran = at_sunrise(client_for(world.fran), world)
    page = fran.get(f"/patient-accounts/{account.pk}/")
    assert 'id="ledger-table"' in page.text and "60.00" in page.text
    assert PhiAccessLog.objects.filter(user=world.fran, what="patient account page").exists()
    fran.post(
        f"/patient-accounts/{account.pk}/follow-up/",
        {
            "channel": "phone",
            "contact": "patient's mother",
            "discussed": "the balance",
            "agreed": "",
            "next_step": "wait",
            "wait_reason": "payment promised",
            "next_date": (timezone.localdate() + dt.timedelta(days=5)).isoformat(),
        },
    )
    account.refresh_from_db()
    assert account.next_action == "wait" and account.wait_reason == "payment promised"
    fran.post(f"/ledger-entries/{charge.pk}/reverse/", {"reason": "wrong patient"})
    account.refresh_from_db()
    assert account.balance == 0 and LedgerEntry.objects.filter(reverses=charge).exists()
    queue = fran.get("/queues/patient-balances/")
    assert queue.status_code == 200
