"""Timeline entries more than one service writes the same way."""

from __future__ import annotations

from typing import Any

from claims.choices import ActivityKind, NextAction
from claims.models import Claim, ClaimActivity


def log_next_action(claim: Claim, actor: Any) -> None:
    """The entry for the claim's next action as it now stands ("Next: Wait, due …")."""
    label = dict(NextAction.choices).get(claim.next_action, claim.next_action)
    text = f"Next: {label}, due {claim.next_action_due:%m/%d/%Y}"
    if claim.wait_reason:
        text += f" (waiting for {claim.wait_reason})"
    ClaimActivity.objects.create(claim=claim, actor=actor, kind=ActivityKind.NEXT_ACTION, text=text)
