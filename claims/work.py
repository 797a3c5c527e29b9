"""Handing out work: "work next" (one claim to one person) and bulk reassignment.

"Work next" picks the caller's top-ranked due claim that nobody holds, using
``SELECT ... FOR UPDATE SKIP LOCKED`` where the database has it, and then claims it with
a compare-and-set UPDATE, so two people asking at once never get the same claim. The hold
ends when the claim's next action is set or its status changes, or after LOCK_MINUTES.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from claims import services
from claims.choices import OPEN_STATUSES, ActivityKind, NextAction
from claims.models import Claim, ClaimActivity
from practices import permissions as perms
from practices.models import Practice

LOCK_MINUTES = 30


def unheld(now: dt.datetime) -> Q:
    """Nobody holds the claim (or their hold has timed out)."""
    return Q(locked_until__isnull=True) | Q(locked_until__lt=now)


def my_day(user: Any, today: dt.date | None = None) -> QuerySet[Claim]:
    """Open claims the user owns that are due today or overdue, highest priority first."""
    today = today or timezone.localdate()
    return (
        Claim.objects.visible_to(user, perms.WORK_CLAIMS)
        .filter(owner=user, status__in=OPEN_STATUSES, next_action_due__lte=today)
        .order_by("-priority", "-id")
    )


def work_next(*, actor: Any, practice_id: int | None = None) -> Claim | None:
    """Hand the caller the top claim of their day that nobody holds (not even the caller,
    so two tabs get two claims), or None when nothing is left."""
    now = timezone.now()
    candidates = my_day(actor).filter(unheld(now))
    if practice_id is not None:
        candidates = candidates.filter(practice_id=practice_id)
    for _attempt in range(5):
        with transaction.atomic():
            locking = candidates
            if connection.features.has_select_for_update_skip_locked:
                locking = candidates.select_for_update(skip_locked=True, of=("self",))
            pick = locking.values_list("pk", flat=True).first()
            if pick is None:
                return None
            held = Claim.objects.filter(Q(pk=pick) & unheld(now)).update(
                locked_by=actor, locked_until=now + dt.timedelta(minutes=LOCK_MINUTES)
            )
        if held:
            return Claim.objects.select_related("patient", "payer", "owner").get(pk=pick)
    return None


def release(claim: Claim, actor: Any) -> None:
    """Give back a claim the actor holds (done with it, or skipping it)."""
    Claim.objects.filter(pk=claim.pk, locked_by=actor).update(locked_by=None, locked_until=None)


@transaction.atomic
def claims_bulk_update(
    *,
    actor: Any,
    claim_ids: Iterable[int],
    owner: Any = None,
    next_action: str | None = None,
    next_action_due: dt.date | None = None,
    wait_reason: str = "",
) -> int:
    """Reassign and/or set the next action of many claims, one activity entry each."""
    if owner is None and next_action is None:
        raise ValidationError("Choose a new owner or a next action.")
    if next_action is not None and next_action_due is None:
        raise ValidationError({"next_action_due": "Set the date the next action is due."})
    ids = set(claim_ids)
    claims = list(
        Claim.objects.visible_to(actor, perms.WORK_CLAIMS)
        .filter(pk__in=ids, status__in=OPEN_STATUSES)
        .select_related("owner")
        .select_for_update(of=("self",))
    )
    if len(claims) != len(ids):
        raise ValidationError(
            "Some selected claims are closed or not yours to change; nothing was changed."
        )
    if owner is not None:
        practices_needed = {claim.practice_id for claim in claims}
        allowed = set(
            Practice.objects.visible_to(owner, perms.WORK_CLAIMS).values_list("pk", flat=True)
        )
        if not practices_needed <= allowed:
            raise ValidationError(
                {"owner": f"{owner} cannot work claims of every selected practice."}
            )
    for claim in claims:
        parts = []
        if owner is not None and owner.pk != claim.owner_id:
            parts.append(f"Owner: {claim.owner} → {owner}")
            claim.owner = owner
        if next_action is not None:
            claim.next_action = next_action
            claim.next_action_due = next_action_due
            claim.wait_reason = wait_reason if next_action == NextAction.WAIT else ""
            parts.append(f"Next: {NextAction(next_action).label}, due {next_action_due:%m/%d/%Y}")
        services.save_checked(claim, actor)
        ClaimActivity.objects.create(
            claim=claim,
            actor=actor,
            kind=ActivityKind.OWNER if owner else ActivityKind.NEXT_ACTION,
            text="Bulk: " + "; ".join(parts),
        )
    return len(claims)
