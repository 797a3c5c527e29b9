"""Timeline entries more than one service writes the same way."""

from __future__ import annotations

from typing import Any

from claims.choices import ActivityKind, NextAction
from claims.models import Claim, ClaimActivity

_NEXT_LABELS: dict[str, Any] = dict(NextAction.choices)


def next_action_text(claim: Claim) -> str:
    """The claim's next action as it now stands, as the timeline words it ("Next: Wait, due
    01/31/2027 (waiting for payer answer)")."""
    label = _NEXT_LABELS.get(claim.next_action, claim.next_action)
    text = f"Next: {label}, due {claim.next_action_due:%m/%d/%Y}"
    if claim.wait_reason:
        text += f" (waiting for {claim.wait_reason})"
    return text


def log_next_action(claim: Claim, actor: Any) -> None:
    """The entry for the claim's next action as it now stands ("Next: Wait, due …")."""
    text = next_action_text(claim)
    ClaimActivity.objects.create(claim=claim, actor=actor, kind=ActivityKind.NEXT_ACTION, text=text)
