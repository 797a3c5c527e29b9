"""Reads for notifications and the reminder jobs.

The jobs run without a signed-in user, so "who may hear about this claim" is the same rule
as ``Claim.objects.visible_to(owner, "work_claims")``, applied to each claim's owner inside
the one query that loads the claims (an active owner who is a superuser or holds the
permission row on the claim's practice).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When

from ar.models import Notification
from claims.choices import OPEN_STATUSES, ClaimStatus
from claims.models import Claim
from practices import permissions as perms
from practices.models import PracticeUserPermission

# Not yet sent to the payer: the claims a timely-filing deadline can still be lost on.
UNSUBMITTED_STATUSES = frozenset({ClaimStatus.DRAFT, ClaimStatus.READY, ClaimStatus.REJECTED})


def notifications_for(user: Any) -> QuerySet[Notification]:
    """The user's own notifications, only for practices they can still see; unread first."""
    return (
        Notification.objects.visible_to(user, perms.VIEW_PRACTICE)
        .filter(user_id=user.pk)
        .select_related("practice")
        .order_by(
            Case(When(read_at__isnull=True, then=Value(0)), default=Value(1)),
            "-created_at",
            "-pk",
        )
    )


def owner_may_work_claims() -> Q:
    """Rows whose owner is active and holds ``work_claims`` on the claim's practice."""
    granted = PracticeUserPermission.objects.filter(
        user_id=OuterRef("owner_id"),
        content_object_id=OuterRef("practice_id"),
        permission__codename=perms.WORK_CLAIMS,
        permission__content_type__app_label="practices",
    )
    return Q(owner__is_active=True) & (Q(owner__is_superuser=True) | Exists(granted))


def _open_claims() -> QuerySet[Claim]:
    return Claim.objects.filter(status__in=OPEN_STATUSES, practice__is_active=True)


def claims_due_for_owners(today: dt.date) -> QuerySet[Claim]:
    """Open claims whose next action is due today or overdue, for owners who may work them."""
    return (
        _open_claims()
        .filter(next_action_due__lte=today, owner__isnull=False)
        .filter(owner_may_work_claims())
        .select_related("payer", "practice", "owner")
        .order_by("owner_id", "practice__name", "next_action_due", "pk")
    )


def claims_overdue_since(due_before: Q) -> QuerySet[Claim]:
    """Open claims matching ``due_before`` (a condition on next_action_due per practice)."""
    return (
        _open_claims()
        .filter(next_action_due__isnull=False)
        .filter(due_before)
        .select_related("payer", "owner")
        .order_by("practice_id", "next_action_due", "pk")
    )


def claims_near_filing_deadline(today: dt.date, horizon_days: int) -> QuerySet[Claim]:
    """Unsubmitted open claims whose timely-filing deadline is at most ``horizon_days`` away."""
    return (
        _open_claims()
        .filter(
            status__in=UNSUBMITTED_STATUSES,
            timely_filing_deadline__lte=today + dt.timedelta(days=horizon_days),
            owner__isnull=False,
        )
        .filter(owner_may_work_claims())
        .select_related("payer")
        .order_by("timely_filing_deadline", "pk")
    )
