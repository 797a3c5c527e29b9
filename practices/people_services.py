"""Account administration: change a role or areas, end an assignment on a date, and
revoke with a handover of the person's open work. Every write names its actor and goes
through the access services (``practices.services``), which re-derive access.

Managers (``manage_access``) act on everybody at their practice. Vendor leads act on
their own vendor's staff (not other leads, not themselves) on the engagements they work
themselves, within the areas each engagement grants (``services.require_staff_manager``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing_ops.access import grants_for
from practices import handover, services
from practices import permissions as perms
from practices.models import Assignment, Engagement, Membership


def _refuse_self(actor: Any, user: Any, what: str) -> None:
    if actor is not None and actor.pk == user.pk:
        raise ValidationError(f"You cannot change your own {what}.", code="self_change")


@transaction.atomic
def membership_change_role(*, actor: Any, membership: Membership, role: str) -> Membership:
    """Give an in-house member another role at their practice (not one's own)."""
    services.require_practice_perm(actor, perms.MANAGE_ACCESS, membership.practice)
    _refuse_self(actor, membership.user, "role")
    if not membership.is_active:
        raise ValidationError("This membership has been revoked; invite the person again.")
    return services.membership_set(
        actor=actor, user=membership.user, practice=membership.practice, role=role
    )


def _successor_at_end(user: Any, practice_id: int, ends_on: dt.date | None, successor: Any) -> Any:
    """Who takes the person's open work over when an end date arrives: required (and
    able to work every type of it) while they own open items; kept only with an end date."""
    if ends_on is None:
        return None
    if successor is not None and successor.pk == user.pk:
        raise ValidationError({"successor": "Choose somebody else to take the work over."})
    counts = handover.open_work(user, practice_id)
    if not counts:
        return successor
    if successor is None:
        total = sum(counts.values())
        raise ValidationError(
            {
                "successor": f"{user} owns {total} open item(s): choose who takes them over "
                "when the assignment ends."
            }
        )
    if successor.pk not in {u.pk for u in handover.successor_candidates(user, practice_id)}:
        raise ValidationError({"successor": f"{successor} cannot take all of that work over."})
    return successor


@transaction.atomic
def assignment_change(
    *,
    actor: Any,
    assignment: Assignment,
    service_areas: Iterable[str],
    ends_on: dt.date | None,
    successor: Any = None,
) -> Assignment:
    """Change a vendor staff member's areas and end date (the engagement's areas bound
    them; an end date ends the assignment after that day, in force on the next request).
    With an end date, a person who owns open items needs a successor: the 15-minute job
    hands the items over when the end takes effect (``hand_over_ended_assignments``)."""
    if assignment.revoked_at is not None:
        raise ValidationError("This assignment has been revoked; invite the person again.")
    services.require_staff_manager(actor, assignment.staff, assignment.engagement)
    successor = _successor_at_end(
        assignment.staff.user, assignment.engagement.practice_id, ends_on, successor
    )
    changed = services.assignment_set(
        actor=actor,
        staff=assignment.staff,
        engagement=assignment.engagement,
        service_areas=service_areas,
        ends_on=ends_on,
    )
    if changed.successor_id != (successor.pk if successor else None):
        changed.successor = successor
        changed._history_user = actor  # type: ignore[attr-defined]
        changed.save(update_fields=["successor"])
    return changed


@transaction.atomic
def assignment_end_on(
    *, actor: Any, assignment: Assignment, ends_on: dt.date, successor: Any = None
) -> Assignment:
    """End an assignment on a date (today or later), keeping its areas."""
    return assignment_change(
        actor=actor,
        assignment=assignment,
        service_areas=assignment.service_areas,
        ends_on=ends_on,
        successor=successor,
    )


def ended_assignments(today: dt.date) -> QuerySet[Assignment]:
    """Assignments out of force by date (theirs or their engagement's), not revoked."""
    return (
        Assignment.objects.filter(revoked_at__isnull=True)
        .filter(Q(ends_on__lt=today) | Q(engagement__ends_on__lt=today))
        .select_related("staff__user", "engagement__practice", "successor")
        .order_by("pk")
    )


def hand_over_ended_assignments(today: dt.date | None = None) -> int:
    """The 15-minute job's first step: the open work of everybody whose assignment has
    ended by date moves on (to the successor named with the end date, else to the billing
    functions' owners, the managers told), before their permission rows are deleted.
    A second run finds nothing left to move. Returns the items moved."""
    today = today or timezone.localdate()
    moved = 0
    for assignment in ended_assignments(today):
        user, practice = assignment.staff.user, assignment.engagement.practice
        last_day = min(d for d in (assignment.ends_on, assignment.engagement.ends_on) if d)
        ended = f"{user}'s assignment at {practice} ended on {last_day.isoformat()}"
        moved += handover.hand_over_at_end(
            from_user=user,
            successor=assignment.successor,
            practice_id=practice.pk,
            ended=ended,
        )
    return moved


def _hand_over(actor: Any, user: Any, practice_id: int, new_owner: Any) -> int:
    counts = handover.open_work(user, practice_id)
    if not counts:
        return 0
    if new_owner is None:
        total = sum(counts.values())
        raise ValidationError(
            {"new_owner": f"{user} owns {total} open item(s): choose who takes them over."}
        )
    return handover.hand_over(
        actor=actor, from_user=user, to_user=new_owner, practice_id=practice_id
    )


@transaction.atomic
def membership_revoke_with_handover(
    *, actor: Any, membership: Membership, new_owner: Any = None
) -> int:
    """Revoke a membership; the person's open items there move to ``new_owner`` first, in
    the same transaction (refused when they own any and nobody is named; a refused revoke
    undoes the handover). Returns the number of items moved."""
    services.require_practice_perm(actor, perms.MANAGE_ACCESS, membership.practice)
    moved = _hand_over(actor, membership.user, membership.practice_id, new_owner)
    services.membership_revoke(actor=actor, membership=membership)
    return moved


@transaction.atomic
def assignment_revoke_with_handover(
    *, actor: Any, assignment: Assignment, new_owner: Any = None
) -> int:
    """Revoke an assignment, handing the person's open items at that practice over first."""
    services.require_staff_manager(actor, assignment.staff, assignment.engagement)
    moved = _hand_over(actor, assignment.staff.user, assignment.engagement.practice_id, new_owner)
    services.assignment_revoke(actor=actor, assignment=assignment)
    return moved


# --- who an actor may manage (reads for the pages) -----------------------------------------


def manages_practice(user: Any, practice_id: int) -> bool:
    """Managers (``manage_access``) of the practice."""
    return grants_for(user).has(perms.MANAGE_ACCESS, practice_id)


def lead_engagements(user: Any, practice_id: int | None = None) -> QuerySet[Engagement]:
    """The engagements a vendor lead works on and so manages staff for (none otherwise)."""
    staff = getattr(user, "vendor_staff", None)
    if staff is None or not staff.is_lead:
        return Engagement.objects.none()
    today = timezone.localdate()
    live = Assignment.objects.filter(staff=staff).in_force(today).values("engagement_id")
    in_force = grants_for(user).practice_ids(perms.VIEW_PRACTICE)
    engagements = Engagement.objects.filter(
        vendor_id=staff.vendor_id, pk__in=live, practice_id__in=in_force
    ).select_related("practice", "vendor")
    if practice_id is not None:
        engagements = engagements.filter(practice_id=practice_id)
    return engagements


def manageable_assignments(user: Any, practice_id: int) -> QuerySet[Assignment]:
    """Live assignments at a practice the user may change: all of them for a manager,
    their own vendor's non-lead staff (not themselves) for a lead, none otherwise."""
    rows = Assignment.objects.filter(
        engagement__practice_id=practice_id, revoked_at__isnull=True
    ).select_related("staff__user", "staff__vendor", "engagement__practice", "engagement__vendor")
    if user.is_superuser or manages_practice(user, practice_id):
        return rows.order_by("staff__vendor__name", "staff__user__username")
    engagements = lead_engagements(user, practice_id)
    return (
        rows.filter(
            engagement__in=engagements, staff__is_lead=False, staff__vendor=user.vendor_staff.vendor
        ).exclude(staff__user=user)
        if engagements.exists()
        else rows.none()
    )


def require_people_admin(user: Any, practice_id: int) -> None:
    """Refuse unless the user manages the practice or leads a vendor engaged there."""
    if user.is_superuser or manages_practice(user, practice_id):
        return
    if not lead_engagements(user, practice_id).exists():
        raise PermissionDenied("You do not manage people here.")
