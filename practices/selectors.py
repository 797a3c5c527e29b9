"""Reads about practices and people, always starting from what the user may see."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from billing_ops.access import grants_for, request_access
from practices import permissions as perms
from practices.models import (
    ADJUSTMENT_APPROVAL_THRESHOLD,
    REFUND_APPROVAL_THRESHOLD,
    Assignment,
    Engagement,
    Membership,
    Practice,
)


def practices_for(user: Any) -> QuerySet[Practice]:
    """The practices a user may open at all."""
    return Practice.objects.visible_to(user, perms.VIEW_PRACTICE).filter(is_active=True)


def current_practice(request: Any) -> Practice | None:
    """The practice chosen in the switcher, if still visible; else the user's first one."""
    return request_access(request).practice


def mfa_required(user: Any) -> bool:
    """Vendor staff, practice managers and administrators must use a second factor."""
    if not user.is_authenticated:
        return False
    if user.is_superuser or user.is_staff or hasattr(user, "vendor_staff"):
        return True
    # Only the practice-manager role grants manage_access (vendors never hold it), so the
    # request's grants, already loaded, answer "manages a practice" without a query.
    return bool(grants_for(user).practice_ids(perms.MANAGE_ACCESS))


def access_rows(practice: Practice) -> dict[str, Any]:
    """Who can reach a practice: in-house members and vendor staff with their areas."""
    memberships = (
        Membership.objects.filter(practice=practice, is_active=True)
        .select_related("user")
        .order_by("role", "user__username")
    )
    assignments = (
        Assignment.objects.filter(engagement__practice=practice, revoked_at__isnull=True)
        .select_related("staff__user", "staff__vendor", "engagement")
        .order_by("staff__vendor__name", "staff__user__username")
    )
    return {"memberships": memberships, "assignments": assignments}


def live_engagement(practice_id: int, day: dt.date | None = None) -> Engagement | None:
    """The vendor engagement in force at a practice on ``day`` (today), the earliest
    started if several: whose thresholds decide which adjustments and write-offs wait for
    a manager. A rule's input, not a page's read, so not scoped to a user."""
    day = day or timezone.localdate()
    return (
        Engagement.objects.filter(practice_id=practice_id)
        .in_force(day)
        .order_by("starts_on", "pk")
        .first()
    )


def approval_thresholds(practice_id: int) -> tuple[Decimal, Decimal]:
    """(adjustments and write-offs, refunds): above these a manager approves. The live
    engagement's thresholds, else the practice's defaults (``ADJUSTMENT_APPROVAL_THRESHOLD``,
    ``REFUND_APPROVAL_THRESHOLD``); one rule for ar's adjustments and denials' write-offs."""
    engagement = live_engagement(practice_id)
    if engagement is None:
        return ADJUSTMENT_APPROVAL_THRESHOLD, REFUND_APPROVAL_THRESHOLD
    return engagement.adjustment_approval_threshold, engagement.refund_approval_threshold
