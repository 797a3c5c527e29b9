"""Follow-up attempts on a patient balance: who was contacted, what was discussed and
agreed, and the next step with its date, which becomes the account's next action."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from ar.account_choices import AccountAction, ContactChannel
from ar.ledger import log, require_billing
from ar.ledger_models import FollowUp, PatientAccount
from work.choices import WAIT
from work.services import lock_for_update, release_hold, save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor


@transaction.atomic
def account_follow_up(
    *,
    actor: Actor,
    account: PatientAccount,
    channel: str,
    contact: str,
    discussed: str,
    agreed: str = "",
    next_step: str,
    next_date: dt.date,
    wait_reason: str = "",
    expected_version: int | None = None,
) -> FollowUp:
    """Record one attempt and set the account's next action from its next step."""
    require_billing(actor, account.practice_id)
    account = lock_for_update(account, expected_version, "patient")
    errors = {}
    if channel not in ContactChannel.values:
        errors["channel"] = "Say how the patient was contacted."
    if not contact.strip():
        errors["contact"] = "Say who was contacted."
    if not discussed.strip():
        errors["discussed"] = "Say what was discussed."
    if next_step not in AccountAction.values:
        errors["next_step"] = "Choose the next step."
    elif next_step == WAIT and not wait_reason.strip():
        errors["wait_reason"] = "Say what we are waiting for."
    if next_date < timezone.localdate():
        errors["next_date"] = "The next step's date is in the past."
    if errors:
        raise ValidationError(errors)
    follow_up = FollowUp.objects.create(
        account=account,
        actor=actor,
        channel=channel,
        contact=contact.strip()[:120],
        discussed=discussed.strip(),
        agreed=agreed.strip(),
        next_step=next_step,
        next_date=next_date,
    )
    if account.is_open:
        account.next_action, account.next_action_due = next_step, next_date
        account.wait_reason = wait_reason.strip()[:300] if next_step == WAIT else ""
        release_hold(account, actor)
        save_checked(account, actor)
    label = AccountAction(next_step).label
    text = f"{ContactChannel(channel).label} with {follow_up.contact}: {follow_up.discussed}"
    if follow_up.agreed:
        text += f" Agreed: {follow_up.agreed}."
    log(account, actor, "follow_up", f"{text} Next: {label}, {next_date:%m/%d/%Y}.")
    return follow_up
