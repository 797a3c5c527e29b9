"""Adjustment requests and follow-ups on patient balances (issue 13, 2 and 4)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from ar import adjustments, followups, ledger
from ar.account_choices import AccountAction, AdjustmentStatus, ApprovalAction, EntryKind
from ar.ledger_models import AccountActivity, FollowUp, LedgerEntry, PatientAccount
from tests import factories
from work.choices import WAIT
from work.registry import registry
from work.selectors import my_day_of_type

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(world: Any) -> PatientAccount:
    account = ledger.account_for(actor=world.fran, patient=world.sunrise_patient)
    ledger.ledger_post(actor=world.fran, account=account, kind="charge", amount="300")
    account.refresh_from_db()
    return account


def test_under_the_threshold_it_posts_at_once(world, account):
    request = adjustments.adjustment_request(
        actor=world.val, account=account, kind="small_balance", amount="40", reason="Courtesy"
    )
    account.refresh_from_db()
    assert request.status == AdjustmentStatus.POSTED and request.decided_by == world.val
    assert request.entry.kind == EntryKind.ADJUSTMENT and request.entry.amount == Decimal("-40.00")
    assert account.balance == Decimal("260.00")


def test_above_the_threshold_it_waits_for_a_manager_who_approves(world, account):
    # The engagement's threshold is $100; val (vendor lead) may ask, never approve.
    request = adjustments.adjustment_request(
        actor=world.val, account=account, kind="hardship", amount="150", reason="Lost job"
    )
    account.refresh_from_db()
    assert request.status == AdjustmentStatus.PENDING and request.owner == world.sam
    assert (
        request.next_action == ApprovalAction.DECIDE
        and not LedgerEntry.objects.filter(kind=EntryKind.ADJUSTMENT).exists()
    )
    assert account.next_action == WAIT and "approval of a hardship" in account.wait_reason
    approvals = registry.type("adjustment_request")
    today = timezone.localdate() + dt.timedelta(days=10)
    assert request in my_day_of_type(approvals, world.sam, today)
    for user in (world.val, world.fran, world.bill, world.mia):
        with pytest.raises(PermissionDenied):
            adjustments.adjustment_approve(actor=user, request=request)
    request = adjustments.adjustment_approve(actor=world.sam, request=request)
    account.refresh_from_db()
    assert request.status == AdjustmentStatus.POSTED and request.decided_by == world.sam
    assert request.entry.amount == Decimal("-150.00") and request.entry.posted_by == world.sam
    assert account.balance == Decimal("150.00")
    assert account.next_action == AccountAction.SEND_STATEMENT
    with pytest.raises(ValidationError, match="already posted"):
        adjustments.adjustment_approve(actor=world.sam, request=request)


def test_a_refusal_records_why_and_posts_nothing(world, account):
    request = adjustments.adjustment_request(
        actor=world.fran, account=account, kind="write_off", amount="250", reason="Old"
    )
    with pytest.raises(ValidationError, match="why"):
        adjustments.adjustment_refuse(actor=world.sam, request=request, note=" ")
    request = adjustments.adjustment_refuse(
        actor=world.sam, request=request, note="Offer a plan instead"
    )
    account.refresh_from_db()
    assert request.status == AdjustmentStatus.REFUSED
    assert request.decision_note == "Offer a plan instead" and request.entry is None
    assert account.balance == Decimal("300.00") and request.next_action == ""
    assert AccountActivity.objects.filter(account=account, kind="refused").exists()


def test_refunds_need_approval_above_their_own_threshold(world, account):
    ledger.ledger_post(
        actor=world.fran, account=account, kind="payment", amount="320", method="cash"
    )
    account.refresh_from_db()
    with pytest.raises(ValidationError, match=r"at most the \$20.00 credit"):
        adjustments.adjustment_request(
            actor=world.fran, account=account, kind="refund", amount="25", reason="Overpaid"
        )
    # The refund threshold is $0: fran's refund waits; the manager's own posts at once.
    pending = adjustments.adjustment_request(
        actor=world.fran, account=account, kind="refund", amount="20", reason="Overpaid"
    )
    assert pending.status == AdjustmentStatus.PENDING
    adjustments.adjustment_refuse(actor=world.sam, request=pending, note="Apply to next visit")
    own = adjustments.adjustment_request(
        actor=world.sam, account=account, kind="refund", amount="20", reason="Overpaid"
    )
    account.refresh_from_db()
    assert own.status == AdjustmentStatus.POSTED and own.entry.amount == Decimal("20.00")
    assert account.balance == 0 and not account.is_open


def test_nobody_outside_patient_billing_requests(world, account):
    for user in (world.vera, world.vic, world.mia):
        with pytest.raises(PermissionDenied):
            adjustments.adjustment_request(
                actor=user, account=account, kind="write_off", amount="5", reason="x"
            )


def test_a_follow_up_records_the_attempt_and_sets_the_next_action(world, account):
    due = timezone.localdate() + dt.timedelta(days=7)
    follow_up = followups.account_follow_up(
        actor=world.fran,
        account=account,
        channel="phone",
        contact="patient",
        discussed="Balance after insurance",
        agreed="Pays $100 on Friday",
        next_step=AccountAction.CALL_PATIENT,
        next_date=due,
        expected_version=account.version,
    )
    account.refresh_from_db()
    assert FollowUp.objects.get() == follow_up and follow_up.actor == world.fran
    assert account.next_action == AccountAction.CALL_PATIENT and account.next_action_due == due
    text = AccountActivity.objects.filter(kind="follow_up").get().text
    assert "Phone with patient" in text and "Pays $100 on Friday" in text
    with pytest.raises(ValidationError) as error:
        followups.account_follow_up(
            actor=world.fran,
            account=account,
            channel="pigeon",
            contact="",
            discussed="",
            next_step=WAIT,
            next_date=due,
        )
    assert set(error.value.message_dict) == {"channel", "contact", "discussed", "wait_reason"}


def test_the_balances_queue_ranks_amount_by_age(world, account):
    other = ledger.account_for(actor=world.fran, patient=world.maple_patient)
    assert other.practice_id == world.maple.pk
    older = ledger.account_for(
        actor=world.fran,
        patient=factories.PatientFactory(practice=world.sunrise),
    )
    ledger.ledger_post(
        actor=world.fran,
        account=older,
        kind="charge",
        amount="100",
        entry_date=timezone.localdate() - dt.timedelta(days=70),
    )
    balances = registry.type("patient_balance")
    rows = list(balances.visible(world.fran).order_by("-priority"))
    assert rows == [older, account]  # $100 x 70 days before $300 x 1 day
    assert list(balances.visible(world.vera)) == [] and list(balances.visible(world.mia)) == []
