"""Answers ``work.functions``: who holds a billing function at a practice."""

from __future__ import annotations

from sops.models import BillingFunction


def holders(practice_id: int, kind: str) -> list[int]:
    """The function's owner, then its backup (ids); empty when the practice has none."""
    row = (
        BillingFunction.objects.filter(practice_id=practice_id, kind=kind)
        .values_list("owner_id", "backup_id")
        .first()
    )
    return [user_id for user_id in row if user_id is not None] if row else []
