"""A payer call in one submit: the follow-up and the next action its outcome decides.

Its own module (not ``claims.services``) only to keep that file's history readable; it
composes the two services, in one transaction, so each writes its own timeline entry and a
refused next action (a "wait" without a reason, no due date) leaves no follow-up behind.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction

from claims import services
from claims.models import Claim

if TYPE_CHECKING:
    from billing_ops.access import Actor


@transaction.atomic
def claim_log_follow_up_and_next_action(
    *,
    actor: Actor,
    claim: Claim,
    channel: str,
    contact: str,
    outcome: str,
    next_step: str,
    next_action: str = "",
    next_action_due: dt.date | None = None,
    wait_reason: str = "",
    expected_version: int | None = None,
) -> Claim:
    """Log a follow-up and, when ``next_action`` is given, set the next action and its date;
    the version check is the follow-up's (the row stays locked for the second step)."""
    services.claim_log_follow_up(
        actor=actor,
        claim=claim,
        channel=channel,
        contact=contact,
        outcome=outcome,
        next_step=next_step,
        expected_version=expected_version,
    )
    if not next_action:
        claim.refresh_from_db()
        return claim
    return services.claim_set_next_action(
        actor=actor,
        claim=claim,
        next_action=next_action,
        next_action_due=next_action_due,  # type: ignore[arg-type]  # None: the invariant says so
        wait_reason=wait_reason,
    )
