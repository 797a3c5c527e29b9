"""The decision on a denial's write-off that waited for a manager (``APPROVE_ADJUSTMENTS``;
vendor staff never hold it): approving writes the amount off and closes the denial, as a
write-off under the threshold does at once; refusing records who and why, and the denial
gets a next action again. Called by the Approvals queue's services (``ar.adjustments``),
which record the decision on their own item in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from billing_ops.access import has_perm
from denials import codes
from denials.choices import ActivityKind, NextAction, Outcome, WriteOffStatus
from denials.models import Denial, WriteOffRequest
from denials.services import (
    FIRST_ACTION_DAYS,
    _close,
    _set_next,
    _wait_claim_on,
    activity,
    finish,
    lock,
)
from practices import permissions as perms

if TYPE_CHECKING:
    from billing_ops.access import Actor


def _pending_locked(actor: Actor, write_off: WriteOffRequest) -> tuple[WriteOffRequest, Denial]:
    practice_id = write_off.denial.practice_id
    if actor is not None and not has_perm(actor, perms.APPROVE_ADJUSTMENTS, practice_id):
        raise PermissionDenied("Only a practice manager decides write-offs above the threshold.")
    write_off = WriteOffRequest.objects.select_for_update().get(pk=write_off.pk)
    if write_off.status != WriteOffStatus.PENDING:
        raise ValidationError(
            f"This write-off is already {write_off.get_status_display().lower()}."
        )
    return write_off, lock(write_off.denial, None)


def _decided(write_off: WriteOffRequest, actor: Actor, status: str) -> None:
    write_off.status, write_off.decided_by, write_off.decided_at = status, actor, timezone.now()
    write_off._history_user = actor  # type: ignore[attr-defined]
    write_off.save()


@transaction.atomic
def write_off_approve(*, actor: Actor, write_off: WriteOffRequest) -> WriteOffRequest:
    """Approve: the denied amount is written off and the denial closes (its claim gets its
    next action back)."""
    write_off, denial = _pending_locked(actor, write_off)
    if not denial.is_open:
        raise ValidationError(
            f"Denial {denial.number} is closed already ({denial.get_outcome_display()}): "
            "refuse the write-off instead."
        )
    _decided(write_off, actor, WriteOffStatus.APPROVED)
    activity(
        denial,
        actor,
        ActivityKind.WRITE_OFF,
        f"${write_off.amount:,.2f} write-off approved: {write_off.reason}",
    )
    _close(denial, actor, Outcome.WRITTEN_OFF, note="")
    return write_off


@transaction.atomic
def write_off_refuse(*, actor: Actor, write_off: WriteOffRequest, note: str) -> WriteOffRequest:
    """Refuse, saying why: nothing is written off; an open denial is worked again (its
    category's first action, or a call to the payer where that was the write-off)."""
    if not note.strip():
        raise ValidationError({"note": "Say why the write-off is refused."})
    write_off, denial = _pending_locked(actor, write_off)
    _decided(write_off, actor, WriteOffStatus.REJECTED)
    activity(
        denial,
        actor,
        ActivityKind.WRITE_OFF,
        f"${write_off.amount:,.2f} write-off refused: {note.strip()}",
    )
    if denial.is_open:
        action = codes.GUIDANCE[denial.category].next_action
        if action in (NextAction.WRITE_OFF, NextAction.WAIT):
            action = NextAction.CALL_PAYER
        today = timezone.localdate()
        due = max(today, min(today + dt.timedelta(days=FIRST_ACTION_DAYS), denial.appeal_deadline))
        _set_next(denial, action, due)
        finish(denial, actor)
        _wait_claim_on(denial, actor)
    return write_off
