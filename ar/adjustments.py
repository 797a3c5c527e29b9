"""Adjustment requests on patient accounts: write-off, small balance, hardship, refund,
credit. At or under the practice's threshold (on its live engagement), or asked by
someone who approves adjustments, the ledger entry posts at once; above it the request
waits in "Approvals" for a manager, and the account waits for the decision. Vendor staff
may request but never approve (they never hold APPROVE_ADJUSTMENTS).

A denial's insurance write-off above the threshold waits in the same queue: denials hands
it over through ``denials.approvals`` (``insurance_write_off_requested``, registered in
``ArConfig.ready``) and the one approve/refuse below decides it through
``denials.write_offs`` (approving closes the denial as written off; nothing touches a
patient's ledger).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from ar.account_choices import (
    AccountAction,
    AdjustmentKind,
    AdjustmentStatus,
    ApprovalAction,
    EntryKind,
)
from ar.ledger import STATEMENT_DAYS, log, money, post_locked, require_billing
from ar.ledger_models import ZERO, AdjustmentRequest, PatientAccount
from billing_ops.access import has_perm, holders
from denials import write_offs
from denials.models import WriteOffRequest
from practices import permissions as perms
from practices.selectors import approval_thresholds
from work.choices import WAIT
from work.services import lock_for_update, release_hold, save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor

APPROVAL_DAYS = 5


def threshold(practice_id: int, kind: str) -> Decimal:
    """The live engagement's approval threshold for this kind (refunds have their own);
    without an engagement, the practice's default."""
    adjustments, refunds = approval_thresholds(practice_id)
    return refunds if kind == AdjustmentKind.REFUND else adjustments


def _limit(account: PatientAccount, kind: str, amount: Decimal) -> None:
    if kind == AdjustmentKind.REFUND:
        credit = max(-account.balance, ZERO)
        if amount > credit:
            raise ValidationError(
                {"amount": f"A refund can return at most the ${credit:,.2f} credit."}
            )
    elif amount > max(account.balance, ZERO):
        raise ValidationError(
            {"amount": f"Adjust at most the ${max(account.balance, ZERO):,.2f} balance."}
        )


def _post(actor: Actor, account: PatientAccount, request: AdjustmentRequest) -> None:
    _limit(account, request.kind, request.amount)
    kind = EntryKind.REFUND if request.kind == AdjustmentKind.REFUND else EntryKind.ADJUSTMENT
    request.entry = post_locked(
        actor,
        account,
        kind=kind,
        amount=request.amount,
        memo=f"{request.get_kind_display()}: {request.reason}",
    )
    request.status = AdjustmentStatus.POSTED


def approver_for(practice_id: int) -> Any:
    return (
        holders(perms.APPROVE_ADJUSTMENTS, practice_id).order_by("is_superuser", "username").first()
    )


@transaction.atomic
def adjustment_request(
    *, actor: Actor, account: PatientAccount, kind: str, amount: Decimal | str, reason: str
) -> AdjustmentRequest:
    """Ask for an adjustment: posted now at or under the threshold (or when the actor
    approves adjustments), else waiting for a manager."""
    require_billing(actor, account.practice_id)
    account = lock_for_update(account, None, "patient")
    if kind not in AdjustmentKind.values:
        raise ValidationError({"kind": f"Unknown adjustment {kind!r}."})
    if kind == AdjustmentKind.INSURANCE:
        raise ValidationError({"kind": "Insurance write-offs are asked for on the denial."})
    value = money(amount)
    if value <= 0:
        raise ValidationError({"amount": "Enter an amount above $0.00."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why."})
    _limit(account, kind, value)
    approves = actor is None or has_perm(actor, perms.APPROVE_ADJUSTMENTS, account.practice_id)
    needs_approval = value > threshold(account.practice_id, kind) and not approves
    request = AdjustmentRequest(
        practice_id=account.practice_id,
        account=account,
        kind=kind,
        amount=value,
        reason=reason.strip()[:500],
        requested_by=actor,
        version=0,
    )
    label = f"{AdjustmentKind(kind).label} of ${value:,.2f}"
    if needs_approval:
        manager = approver_for(account.practice_id)
        if manager is None:
            raise ValidationError("Nobody at this practice approves adjustments yet.")
        request.owner, request.next_action = manager, ApprovalAction.DECIDE
        request.next_action_due = timezone.localdate() + dt.timedelta(days=APPROVAL_DAYS)
        save_checked(request, actor)
        if account.is_open:
            account.next_action, account.next_action_due = WAIT, request.next_action_due
            account.wait_reason = f"approval of a {label.lower()}"[:300]
            save_checked(account, actor)
        log(account, actor, "adjustment", f"{label} requested: {request.reason}")
        return request
    request.status = AdjustmentStatus.POSTED
    request.decided_by, request.decided_at = actor, timezone.now()
    _post(actor, account, request)
    save_checked(request, actor)
    return request


@transaction.atomic
def insurance_write_off_requested(write_off: WriteOffRequest, actor: Actor) -> AdjustmentRequest:
    """A denial's write-off above the threshold (``denials.approvals`` router): it waits
    in Approvals for a manager, like a patient adjustment."""
    practice_id = write_off.denial.practice_id
    manager = approver_for(practice_id)
    if manager is None:
        raise ValidationError("Nobody at this practice approves write-offs yet.")
    request = AdjustmentRequest(
        practice_id=practice_id,
        write_off=write_off,
        kind=AdjustmentKind.INSURANCE,
        amount=write_off.amount,
        reason=write_off.reason,
        requested_by=write_off.requested_by,
        owner=manager,
        next_action=ApprovalAction.DECIDE,
        next_action_due=timezone.localdate() + dt.timedelta(days=APPROVAL_DAYS),
        version=0,
    )
    return save_checked(request, actor)


def _decided(actor: Actor, request: AdjustmentRequest, expected_version: int | None) -> Any:
    if actor is not None and not has_perm(actor, perms.APPROVE_ADJUSTMENTS, request.practice_id):
        raise PermissionDenied("Only a practice manager approves adjustments.")
    request = lock_for_update(request, expected_version)
    if not request.is_open:
        raise ValidationError(f"This request is already {request.get_status_display().lower()}.")
    if request.account is None:  # an insurance write-off: its denial is locked there
        return request, None
    account = lock_for_update(request.account, None, "patient")
    return request, account


def _write_off(request: AdjustmentRequest) -> WriteOffRequest:
    if request.write_off is None:  # the check constraint: an account or a write-off
        raise ValidationError("This request names neither an account nor a write-off.")
    return request.write_off


def _account_back(account: PatientAccount, actor: Actor) -> None:
    """The decision is in: an account that waited for it gets its follow-up back."""
    if account.is_open and account.next_action == WAIT:
        account.next_action = AccountAction.SEND_STATEMENT
        account.next_action_due = timezone.localdate() + dt.timedelta(days=STATEMENT_DAYS)
        account.wait_reason = ""
        save_checked(account, actor)


def _close(request: AdjustmentRequest, actor: Actor) -> None:
    request.decided_by, request.decided_at = actor, timezone.now()
    request.next_action, request.next_action_due, request.wait_reason = "", None, ""
    release_hold(request, actor)
    save_checked(request, actor)


@transaction.atomic
def adjustment_approve(
    *, actor: Actor, request: AdjustmentRequest, expected_version: int | None = None
) -> AdjustmentRequest:
    """A manager approves: the ledger entry posts (the limits are checked again now); an
    insurance write-off writes the denial off instead."""
    request, account = _decided(actor, request, expected_version)
    if account is None:
        write_offs.write_off_approve(actor=actor, write_off=_write_off(request))
        request.status = AdjustmentStatus.POSTED
        _close(request, actor)
        return request
    _post(actor, account, request)
    _close(request, actor)
    account.refresh_from_db()
    _account_back(account, actor)
    log(account, actor, "approved", f"{request} approved")
    return request


@transaction.atomic
def adjustment_refuse(
    *, actor: Actor, request: AdjustmentRequest, note: str, expected_version: int | None = None
) -> AdjustmentRequest:
    """A manager refuses, saying why; nothing is posted."""
    if not note.strip():
        raise ValidationError({"note": "Say why the request is refused."})
    request, account = _decided(actor, request, expected_version)
    request.status, request.decision_note = AdjustmentStatus.REFUSED, note.strip()[:500]
    if account is None:
        write_offs.write_off_refuse(actor=actor, write_off=_write_off(request), note=note)
        _close(request, actor)
        return request
    _close(request, actor)
    _account_back(account, actor)
    log(account, actor, "refused", f"{request} refused: {request.decision_note}")
    return request
