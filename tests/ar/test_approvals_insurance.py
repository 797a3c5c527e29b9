"""Issue 13, 4: a denial's insurance write-off above the practice's threshold waits in the
one Approvals queue (an adjustment request naming the denial's write-off), is counted in
the manager's "Needs you", and is decided by the one approve/refuse: approving writes the
denial off as a write-off under the threshold does at once; refusing records who and why
and the denial is worked again. Vendor staff ask, never decide."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from ar import adjustments
from ar.account_choices import AdjustmentKind, AdjustmentStatus, ApprovalAction
from ar.ledger_models import AdjustmentRequest, LedgerEntry
from claims.choices import NextAction as ClaimNextAction
from denials import services as denial_services
from denials.choices import DenialStatus, NextAction, Outcome, WriteOffStatus
from denials.models import DenialActivity, WriteOffRequest
from practices.models import Engagement
from work.choices import WAIT
from work.registry import registry
from work.selectors import my_day_of_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def denial(world: Any, make_claim: Any) -> Any:
    claim = make_claim("WO-1", "Nguyen", [("D2740", "1200.00")], status="denied")
    return denial_services.open_denial(
        actor=world.bill,
        claim=claim,
        group_code="CO",
        carc="29",  # timely filing: the category's first action is an appeal
        amount=Decimal("1200.00"),
        received_on=timezone.localdate() - dt.timedelta(days=2),
    )


def _ask(world: Any, denial: Any, actor: Any = None, amount: str = "1200.00") -> Any:
    return denial_services.denial_write_off(
        actor=actor or world.vera, denial=denial, amount=amount, reason="Filed after the limit"
    )


def test_above_the_threshold_it_waits_in_approvals_for_the_manager(world, denial, client_for):
    write_off = _ask(world, denial)
    request = AdjustmentRequest.objects.get(write_off=write_off)
    assert write_off.status == WriteOffStatus.PENDING
    assert (request.kind, request.amount, request.account) == (
        AdjustmentKind.INSURANCE,
        Decimal("1200.00"),
        None,
    )
    assert request.requested_by == world.vera and request.owner == world.sam
    assert request.next_action == ApprovalAction.DECIDE and request.is_open
    approvals = registry.type("adjustment_request")
    later = timezone.localdate() + dt.timedelta(days=10)
    assert request in my_day_of_type(approvals, world.sam, later)
    # The one Approvals queue and the manager's "Needs you" count show it.
    queue = client_for(world.sam).get("/queues/approvals/")
    assert queue.status_code == 200 and f"/adjustment-requests/{request.pk}/" in queue.text
    panel = client_for(world.sam).get("/queues/my-day/").text
    assert "1 adjustment awaiting approval" in panel[panel.index('id="needs-you"') :]
    page = client_for(world.sam).get(f"/adjustment-requests/{request.pk}/")
    assert page.status_code == 200 and f"D-{denial.pk}" in page.text
    assert "Approve the write-off" in page.text


def test_a_manager_approves_and_the_denial_is_written_off(world, denial):
    request = AdjustmentRequest.objects.get(write_off=_ask(world, denial))
    entries = LedgerEntry.objects.count()
    request = adjustments.adjustment_approve(actor=world.sam, request=request)
    assert request.status == AdjustmentStatus.POSTED and request.decided_by == world.sam
    assert not request.is_open and request.next_action == ""
    write_off = WriteOffRequest.objects.get(pk=request.write_off_id)
    assert (write_off.status, write_off.decided_by) == (WriteOffStatus.APPROVED, world.sam)
    denial.refresh_from_db()
    assert (denial.status, denial.outcome) == (DenialStatus.CLOSED, Outcome.WRITTEN_OFF)
    denial.claim.refresh_from_db()
    assert denial.claim.next_action == ClaimNextAction.POST_AND_CLOSE
    assert LedgerEntry.objects.count() == entries  # no patient's ledger is touched
    assert DenialActivity.objects.filter(
        denial=denial, actor=world.sam, text__contains="write-off approved"
    ).exists()
    with pytest.raises(ValidationError):
        adjustments.adjustment_approve(actor=world.sam, request=request)


def test_a_refusal_says_why_and_the_denial_is_worked_again(world, denial):
    request = AdjustmentRequest.objects.get(write_off=_ask(world, denial))
    with pytest.raises(ValidationError):
        adjustments.adjustment_refuse(actor=world.sam, request=request, note="  ")
    request.refresh_from_db()
    assert request.is_open
    request = adjustments.adjustment_refuse(
        actor=world.sam, request=request, note="Appeal: we have the clearinghouse report"
    )
    assert request.status == AdjustmentStatus.REFUSED and request.decided_by == world.sam
    assert request.decision_note == "Appeal: we have the clearinghouse report"
    write_off = WriteOffRequest.objects.get(pk=request.write_off_id)
    assert (write_off.status, write_off.decided_by) == (WriteOffStatus.REJECTED, world.sam)
    denial.refresh_from_db()
    assert denial.is_open and denial.next_action == NextAction.APPEAL
    assert denial.next_action_due is not None and denial.wait_reason == ""
    assert DenialActivity.objects.filter(
        denial=denial, actor=world.sam, text__contains="clearinghouse report"
    ).exists()
    # Refused, it may be asked for again.
    again = _ask(world, denial, amount="150.00")
    assert AdjustmentRequest.objects.get(write_off=again).is_open


def test_vendor_staff_ask_but_never_decide(world, denial, client_for):
    request = AdjustmentRequest.objects.get(write_off=_ask(world, denial))
    for user in (world.vera, world.val, world.bill, world.mia):
        with pytest.raises(PermissionDenied):
            adjustments.adjustment_approve(actor=user, request=request)
        with pytest.raises(PermissionDenied):
            adjustments.adjustment_refuse(actor=user, request=request, note="no")
    for user in (world.vera, world.val):
        page = client_for(user).post(f"/adjustment-requests/{request.pk}/approve/")
        assert page.status_code == 404
        api = client_for(user).post(f"/api/v1/adjustment-requests/{request.pk}/approve/")
        assert api.status_code == 404
    request.refresh_from_db()
    denial.refresh_from_db()
    assert request.is_open and denial.is_open and denial.next_action == WAIT
    assert WriteOffRequest.objects.get(pk=request.write_off_id).status == WriteOffStatus.PENDING


def test_the_threshold_is_the_engagements(world, denial, make_claim):
    small = _ask(world, denial, amount="100.00")  # at the $100 threshold: at once
    assert small.status == WriteOffStatus.APPROVED
    assert not AdjustmentRequest.objects.filter(write_off=small).exists()
    Engagement.objects.filter(practice=world.sunrise).update(
        adjustment_approval_threshold=Decimal("5000.00")
    )
    claim = make_claim("WO-2", "Osei", [("D2740", "1200.00")], status="denied")
    other = denial_services.open_denial(
        actor=world.bill,
        claim=claim,
        group_code="CO",
        carc="29",
        amount=Decimal("1200.00"),
        received_on=timezone.localdate(),
    )
    assert _ask(world, other).status == WriteOffStatus.APPROVED
    assert not AdjustmentRequest.objects.filter(kind=AdjustmentKind.INSURANCE).exists()


def test_a_denial_closed_meanwhile_cannot_be_written_off(world, denial):
    request = AdjustmentRequest.objects.get(write_off=_ask(world, denial))
    denial_services.denial_close(
        actor=world.bill, denial=denial, outcome=Outcome.PAID_AFTER_CORRECTION
    )
    with pytest.raises(ValidationError, match="refuse the write-off"):
        adjustments.adjustment_approve(actor=world.sam, request=request)
    request = adjustments.adjustment_refuse(actor=world.sam, request=request, note="paid")
    assert request.status == AdjustmentStatus.REFUSED
    denial.refresh_from_db()
    assert denial.outcome == Outcome.PAID_AFTER_CORRECTION


def test_a_patient_account_cannot_ask_for_an_insurance_write_off(world):
    from ar import ledger

    account = ledger.account_for(actor=world.bill, patient=world.sunrise_patient)
    ledger.ledger_post(actor=world.bill, account=account, kind="charge", amount="300")
    with pytest.raises(ValidationError):
        adjustments.adjustment_request(
            actor=world.bill, account=account, kind="insurance", amount="50", reason="x"
        )
    assert not AdjustmentRequest.objects.exists()


def test_the_api_shows_a_denials_write_off_only_to_people_who_work_claims(
    world, denial, client_for
):
    """Insurance write-offs share the adjustment requests' table: a vendor engaged for
    patient billing alone (vic, moved to that area) lists none of them."""
    from practices import services as practice_services
    from practices.choices import ServiceArea
    from practices.models import Assignment

    request = AdjustmentRequest.objects.get(write_off=_ask(world, denial))
    practice_services.assignment_set(
        actor=None,
        staff=Assignment.objects.get(staff__user=world.vic).staff,
        engagement=world.engagements["sunrise"],
        service_areas=[ServiceArea.PATIENT_BILLING],
    )

    vic = client_for(world.vic).get("/api/v1/adjustment-requests/")
    bill = client_for(world.bill).get("/api/v1/adjustment-requests/")

    assert vic.status_code == 200 and vic.json()["results"] == []
    assert (
        client_for(world.vic).get(f"/api/v1/adjustment-requests/{request.pk}/").status_code == 404
    )
    assert [row["id"] for row in bill.json()["results"]] == [request.pk]
