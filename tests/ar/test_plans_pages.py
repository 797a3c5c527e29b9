"""Payment plan pages and API (issue 13, section 3 and 5): "Set up a plan" and "Cancel
plan" on the account page, the plan and missed-installment pages, the patient page's plan
panel (not for vendor staff without the area), and /api/v1/payment-plans/ through the
same services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from ar import ledger, plans
from ar.plan_models import Installment, InstallmentStatus, PaymentPlan, PlanStatus
from tests import factories

pytestmark = pytest.mark.django_db


def at_sunrise(client: Any, world: Any) -> Any:
    session = client.session
    session["practice_id"] = world.sunrise.pk
    session.save()
    return client


@pytest.fixture
def account(world: Any) -> Any:
    account = ledger.account_for(actor=world.bill, patient=world.sunrise_patient)
    ledger.ledger_post(actor=world.bill, account=account, kind="charge", amount="240")
    account.refresh_from_db()
    return account


def plan_ids(world: Any) -> dict[str, int]:
    """A plan at Sunrise on a patient of its own (also for the API fuzz test)."""
    patient = factories.PatientFactory(practice=world.sunrise)
    account = ledger.account_for(actor=world.bill, patient=patient)
    ledger.ledger_post(actor=world.bill, account=account, kind="charge", amount="90")
    account.refresh_from_db()
    plan = plans.plan_create(
        actor=world.bill,
        account=account,
        total="90",
        count=3,
        first_due=timezone.localdate() + dt.timedelta(days=3),
    )
    return {"/api/v1/payment-plans/": plan.pk}


def test_a_plan_is_set_up_and_cancelled_from_the_account_page(world, client_for, account):
    fran = at_sunrise(client_for(world.fran), world)
    page = fran.get(f"/patient-accounts/{account.pk}/")
    assert 'id="plan-form"' in page.text and "Set up a plan" in page.text
    first = timezone.localdate() + dt.timedelta(days=10)
    refused = fran.post(
        f"/patient-accounts/{account.pk}/plans/",
        {
            "total": "250",
            "count": "3",
            "first_due": first,
            "interval": "monthly",
            "grace_days": "10",
        },
        follow=True,
    )
    assert "more than the $240.00 balance" in refused.text
    assert not PaymentPlan.objects.exists()
    response = fran.post(
        f"/patient-accounts/{account.pk}/plans/",
        {
            "total": "240",
            "count": "3",
            "first_due": first,
            "interval": "monthly",
            "grace_days": "7",
            "terms": "$80 on the 10th",
        },
    )
    plan = PaymentPlan.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/payment-plans/{plan.pk}/"
    assert plan.created_by == world.fran and plan.grace_days == 7
    assert [i.amount for i in plan.installments.all()] == [Decimal("80.00")] * 3
    detail = fran.get(f"/payment-plans/{plan.pk}/")
    assert 'id="installment-table"' in detail.text and "$80 on the 10th" in detail.text
    page = fran.get(f"/patient-accounts/{account.pk}/")
    assert f"PP-{plan.pk}" in page.text and "Cancel plan" in page.text
    assert 'id="plan-form"' not in page.text
    listing = fran.get("/payment-plans/")
    assert world.sunrise_patient.account_number in listing.text
    fran.post(f"/payment-plans/{plan.pk}/cancel/", {"reason": "patient paid in full elsewhere"})
    plan.refresh_from_db()
    assert plan.status == PlanStatus.CANCELLED and plan.ended_by == world.fran


def test_the_patient_page_shows_the_plan_to_patient_billing_only(world, client_for, account):
    plan = plans.plan_create(
        actor=world.bill,
        account=account,
        total="200",
        count=2,
        first_due=timezone.localdate() + dt.timedelta(days=5),
    )
    fran = at_sunrise(client_for(world.fran), world)
    fran.post(
        f"/patients/{world.sunrise_patient.pk}/payments/",
        {"amount": "130", "method": "check", "reference": "501"},
    )
    page = fran.get(f"/patients/{world.sunrise_patient.pk}/")
    assert 'id="patient-plan-panel"' in page.text and f"PP-{plan.pk}" in page.text
    assert "$70.00 on" in page.text  # the second installment, $30 of it already paid
    assert "$70.00 of $200.00" in page.text
    vera = at_sunrise(client_for(world.vera), world)
    assert 'id="patient-plan-panel"' not in vera.get(f"/patients/{world.sunrise_patient.pk}/").text


def test_a_missed_installment_is_worked_from_its_page_and_queue(world, client_for, account):
    today = timezone.localdate()
    plan = plans.plan_create(
        actor=world.bill, account=account, total="240", count=2, first_due=today
    )
    plans.mark_missed(today + dt.timedelta(days=1))
    item = Installment.objects.get(plan=plan, number=1)
    assert item.status == InstallmentStatus.LATE and item.owner == world.bill
    bill = at_sunrise(client_for(world.bill), world)
    queue = bill.get("/queues/missed-installments/")
    assert f"/installments/{item.pk}/" in queue.text
    page = bill.get(f"/installments/{item.pk}/")
    assert 'id="next-action-form"' in page.text and "Missed installment 1" in page.text
    bill.post(
        f"/installments/{item.pk}/next-action/",
        {"next_action": "wait", "next_action_due": today + dt.timedelta(days=3), "wait_reason": ""},
    )
    assert Installment.objects.get(pk=item.pk).next_action == "call_patient"  # refused
    bill.post(
        f"/installments/{item.pk}/next-action/",
        {
            "next_action": "wait",
            "next_action_due": today + dt.timedelta(days=3),
            "wait_reason": "pays Friday",
        },
    )
    item.refresh_from_db()
    assert (item.next_action, item.wait_reason) == ("wait", "pays Friday")


def test_the_api_sets_up_reads_and_cancels_plans(world, client_for, account):
    val = client_for(world.val)
    first = timezone.localdate() + dt.timedelta(days=7)
    refused = val.post(
        "/api/v1/payment-plans/",
        {
            "account": account.pk,
            "total": "240.00",
            "installments": [
                {"due_date": first.isoformat(), "amount": "100"},
                {"due_date": (first + dt.timedelta(days=30)).isoformat(), "amount": "100"},
            ],
        },
        content_type="application/json",
    )
    assert refused.status_code == 400
    assert "add up to $200.00" in refused.json()["installments"][0]
    assert not PaymentPlan.objects.exists()
    made = val.post(
        "/api/v1/payment-plans/",
        {
            "account": account.pk,
            "total": "240.00",
            "installments": [
                {"due_date": first.isoformat(), "amount": "140"},
                {"due_date": (first + dt.timedelta(days=30)).isoformat(), "amount": "100"},
            ],
            "terms": "agreed by phone",
        },
        content_type="application/json",
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["created_by"] == world.val.pk and body["status"] == "active"
    assert [i["amount"] for i in body["installments"]] == ["140.00", "100.00"]
    fran = client_for(world.fran)
    assert fran.get(f"/api/v1/payment-plans/{body['id']}/").json()["total"] == "240.00"
    assert client_for(world.mia).get(f"/api/v1/payment-plans/{body['id']}/").status_code == 404
    cancelled = fran.post(
        f"/api/v1/payment-plans/{body['id']}/cancel/",
        {"reason": "new agreement"},
        content_type="application/json",
    )
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    again = fran.post(
        f"/api/v1/payment-plans/{body['id']}/cancel/",
        {"reason": "again"},
        content_type="application/json",
    )
    assert again.status_code == 400 and "already cancelled" in again.text
