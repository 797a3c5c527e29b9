"""A payer call in one submit: the follow-up and the next action its outcome decides.

One lock, one save (one version, one history row) and two timeline entries, the
follow-up's and the next action's, as ``claims.services`` writes them one at a time. A
refused next action ("wait" without a reason, no due date) saves nothing, follow-up
included, and its errors come back with the follow-up's own.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction

from claims import services
from claims.choices import ActivityKind
from claims.models import Claim, ClaimActivity
from claims.timeline import log_next_action
from practices import permissions as perms
from practices.services import require_practice_perm
from work.choices import WAIT
from work.models import next_action_choices
from work.services import check_next_action, lock_for_update, release_hold, save_checked

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
    """Log a follow-up and, when ``next_action`` is given, set the next action and its date
    in the same change; without one it is ``claims.services.claim_log_follow_up``."""
    if not next_action:
        services.claim_log_follow_up(
            actor=actor,
            claim=claim,
            channel=channel,
            contact=contact,
            outcome=outcome,
            next_step=next_step,
            expected_version=expected_version,
        )
        claim.refresh_from_db()
        return claim
    require_practice_perm(actor, perms.WORK_CLAIMS, claim.practice)
    claim = lock_for_update(claim, expected_version, "owner")
    errors: dict[str, str] = {
        name: "This field is required."
        for name, value in (("channel", channel), ("contact", contact), ("outcome", outcome))
        if not str(value).strip()
    }
    choices = next_action_choices(Claim)
    if not claim.is_open:
        errors["next_action"] = "The claim is closed."
    elif next_action not in choices:
        errors["next_action"] = f"Unknown next action {next_action!r}."
    claim.next_action = next_action
    claim.next_action_due = next_action_due
    claim.wait_reason = wait_reason.strip() if next_action == WAIT else ""
    if "next_action" not in errors:
        try:
            check_next_action(claim)
        except ValidationError as exc:
            errors.update({field: " ".join(msgs) for field, msgs in exc.message_dict.items()})
    if errors:
        raise ValidationError(errors)
    claim.follow_up_count += 1
    release_hold(claim, actor)
    save_checked(claim, actor)
    ClaimActivity.objects.create(
        claim=claim,
        actor=actor,
        kind=ActivityKind.FOLLOW_UP,
        text=outcome.strip(),
        channel=channel,
        contact=contact.strip(),
        outcome=outcome.strip(),
        next_step=next_step.strip(),
    )
    log_next_action(claim, actor)
    return claim
