"""Disputes: a patient disputes their balance; the account waits on it (no statements,
its next action a recheck of the dispute) until someone resolves it."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ar.account_choices import AccountAction, DisputeStatus
from ar.ledger import log, require_billing
from ar.statement_models import Dispute
from work.choices import WAIT
from work.services import lock_for_update, save_checked

if TYPE_CHECKING:
    from ar.ledger_models import PatientAccount
    from billing_ops.access import Actor

RECHECK_DAYS = 14


@transaction.atomic
def dispute_open(*, actor: Actor, account: PatientAccount, reason: str) -> Dispute:
    """Record the dispute; statements hold and the account waits on it."""
    require_billing(actor, account.practice_id)
    account = lock_for_update(account, None, "patient")
    if not reason.strip():
        raise ValidationError({"reason": "Say what the patient disputes."})
    if account.disputes.filter(status=DisputeStatus.OPEN).exists():
        raise ValidationError("This account already has an open dispute.")
    dispute = Dispute(
        practice_id=account.practice_id,
        account=account,
        reason=reason.strip()[:500],
        opened_by=actor,
    )
    dispute._history_user = actor  # type: ignore[attr-defined]
    dispute.save()
    if account.is_open:
        account.next_action = WAIT
        account.next_action_due = timezone.localdate() + dt.timedelta(days=RECHECK_DAYS)
        account.wait_reason = f"the patient's dispute: {dispute.reason}"[:300]
        save_checked(account, actor)
    log(account, actor, "dispute", f"Dispute opened (statements held): {dispute.reason}")
    return dispute


@transaction.atomic
def dispute_resolve(*, actor: Actor, dispute: Dispute, resolution: str) -> Dispute:
    """Close the dispute with what was decided; statements resume."""
    require_billing(actor, dispute.practice_id)
    if not resolution.strip():
        raise ValidationError({"resolution": "Say how the dispute was resolved."})
    account = lock_for_update(dispute.account, None, "patient")
    dispute = Dispute.objects.select_for_update().get(pk=dispute.pk)
    if dispute.status != DisputeStatus.OPEN:
        raise ValidationError("This dispute is already resolved.")
    dispute.status, dispute.resolution = DisputeStatus.RESOLVED, resolution.strip()[:500]
    dispute.resolved_by, dispute.resolved_at = actor, timezone.now()
    dispute._history_user = actor  # type: ignore[attr-defined]
    dispute.save()
    if account.is_open and account.next_action == WAIT:
        account.next_action, account.next_action_due = (
            AccountAction.CALL_PATIENT,
            timezone.localdate(),
        )
        account.wait_reason = ""
        save_checked(account, actor)
    log(account, actor, "dispute", f"Dispute resolved: {dispute.resolution}")
    return dispute
