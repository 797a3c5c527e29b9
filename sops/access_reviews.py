"""The quarterly access review and the deactivation of idle vendor accounts (issue 14).

``open_quarterly_reviews`` (daily beat job) opens, per active practice with vendor
accounts, one ``AccessReview`` a quarter: one line per vendor account with live access
(areas, lead or not, last login, end date), owned by a manager of the practice (a work
item for its managers until done). A second run in the same quarter opens nothing.

``access_review_decide``: a manager confirms or revokes a line. A revoke goes through
``practices.services.assignment_revoke`` (history with the manager as actor, access
re-derived: the user loses the practice on their next request); before it, the person's
open work there falls back as when an assignment ends by date (``practices.handover``:
the billing functions' owners, the managers told, else Unassigned). The review is done
when every line is decided; past reviews stay with their lines.

``deactivate_idle_vendor_accounts`` (daily beat job): vendor-only accounts idle for
``VENDOR_IDLE_DEACTIVATE_DAYS`` are deactivated by the system (``user_set_active``,
which re-derives access), their open work handed over as above, and the practices'
managers and the vendor's leads told, without patient data. A second run finds nobody.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing_ops.access import has_perm, holders, visible_practice_ids
from practices import handover, idle, services
from practices import permissions as perms
from practices.models import Assignment, Engagement, Practice
from sops.access_review_models import (
    AccessDecision,
    AccessReview,
    AccessReviewAction,
    AccessReviewLine,
    AccessReviewStatus,
)
from work.choices import NotificationKind
from work.models import Notification
from work.notifications import clip, insert_new
from work.registry import ItemType, Queue, registry
from work.services import lock_for_update, save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor

DEFAULT_IDLE_DAYS = 90
logger = logging.getLogger(__name__)


def quarter_of(day: dt.date) -> str:
    """``2026-Q4``."""
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def live_vendor_assignments(practice_id: int, today: dt.date) -> QuerySet[Assignment]:
    """Vendor accounts' assignments in force at a practice today (active users only)."""
    return (
        Assignment.objects.in_force(today)
        .filter(
            engagement__in=Engagement.objects.filter(practice_id=practice_id).in_force(today),
            staff__user__is_active=True,
        )
        .select_related("staff__user", "staff__vendor", "engagement")
        .order_by("staff__vendor__name", "staff__user__username", "pk")
    )


def _reviewer(practice_id: int) -> int | None:
    """The practice's first manager (``manage_access``, not an administrator)."""
    return (
        holders(perms.MANAGE_ACCESS, practice_id)
        .filter(is_superuser=False)
        .order_by("pk")
        .values_list("pk", flat=True)
        .first()
    )


def _line(review: AccessReview, assignment: Assignment) -> AccessReviewLine:
    engagement, staff = assignment.engagement, assignment.staff
    areas = [a for a in assignment.service_areas if a in engagement.service_areas]
    ends = [d for d in (assignment.ends_on, engagement.ends_on) if d is not None]
    return AccessReviewLine(
        review=review,
        user=staff.user,
        assignment=assignment,
        vendor_name=staff.vendor.name,
        is_lead=staff.is_lead,
        service_areas=areas,
        last_login=idle.last_seen(staff.user),
        ends_on=min(ends, default=None),
    )


def open_review(practice: Practice, today: dt.date) -> AccessReview | None:
    """This quarter's review of one practice (None: it has one, no vendor account or no
    manager). Idempotent."""
    quarter = quarter_of(today)
    if AccessReview.objects.filter(practice=practice, quarter=quarter).exists():
        return None
    assignments = list(live_vendor_assignments(practice.pk, today))
    owner = _reviewer(practice.pk)
    if not assignments or owner is None:
        return None
    with transaction.atomic():
        review = AccessReview(
            practice=practice,
            quarter=quarter,
            owner_id=owner,
            next_action=AccessReviewAction.REVIEW,
            next_action_due=today,  # in the managers' My day from the day it opens
        )
        save_checked(review, None, today)
        for assignment in assignments:
            line = _line(review, assignment)
            line._history_user = None  # type: ignore[attr-defined]
            line.save()
    return review


def open_quarterly_reviews(today: dt.date) -> int:
    """Open this quarter's review at every active practice that has none; how many."""
    opened = 0
    for practice in Practice.objects.filter(is_active=True).order_by("pk"):
        opened += open_review(practice, today) is not None
    return opened


def may_decide(actor: Any, review: AccessReview) -> bool:
    return actor is not None and has_perm(actor, perms.MANAGE_ACCESS, review.practice_id)


def _hand_over(user: Any, successor: Any, practice_id: int, ended: str) -> None:
    """The open work falls back as at an end date; a handover that fails (e.g. a sign-off
    request the function owner already has for the same version) must not keep the
    access: it is logged and the items stay for the Unassigned queue."""
    try:
        with transaction.atomic():
            handover.hand_over_at_end(
                from_user=user, successor=successor, practice_id=practice_id, ended=ended
            )
    except (IntegrityError, ValidationError, PermissionDenied):
        logger.exception("Handover of %s's work at practice %s failed", user.pk, practice_id)


def _revoke(actor: Actor, line: AccessReviewLine, review: AccessReview) -> None:
    assignment = line.assignment
    if assignment is None or assignment.revoked_at is not None:
        return  # already revoked elsewhere (people page): the decision is recorded only
    practice = review.practice
    _hand_over(
        line.user,
        assignment.successor,
        practice.pk,
        f"{line.user}'s access at {practice} was revoked in the {review.quarter} access review",
    )
    services.assignment_revoke(actor=actor, assignment=assignment)


@transaction.atomic
def access_review_decide(
    *,
    actor: Actor,
    line: AccessReviewLine,
    decision: str,
    note: str = "",
    expected_version: int | None = None,
) -> AccessReview:
    """Confirm or revoke one vendor account's access; the review is done when every line
    is decided. Only the practice's managers decide."""
    review = line.review
    if not may_decide(actor, review):
        raise PermissionDenied("Only the practice's managers review access.")
    review = lock_for_update(review, expected_version)
    if not review.is_open:
        raise ValidationError("This access review is already done.")
    line = (
        AccessReviewLine.objects.select_for_update(of=("self",))
        .select_related("user", "assignment")
        .get(pk=line.pk, review=review)
    )
    if line.decision:
        raise ValidationError(f"{line.user}'s access is already {line.get_decision_display()}.")
    if decision not in AccessDecision.values:
        raise ValidationError({"decision": "Confirm or revoke."})
    if decision == AccessDecision.CONFIRMED:
        live = (
            line.assignment is not None
            and live_vendor_assignments(review.practice_id, timezone.localdate())
            .filter(pk=line.assignment.pk)
            .exists()
        )
        if not live:
            raise ValidationError(f"{line.user}'s access here has already ended: revoke it.")
    else:
        _revoke(actor, line, review)
    line.decision = decision
    line.decided_by = actor
    line.decided_at = timezone.now()
    line.note = note.strip()[:300]
    line._history_user = actor  # type: ignore[attr-defined]
    line.save()
    if not review.lines.filter(decision="").exists():
        review.status = AccessReviewStatus.DONE
        review.completed_by = actor
        review.completed_at = timezone.now()
        review.next_action, review.next_action_due, review.wait_reason = "", None, ""
    save_checked(review, actor)
    return review


# --- idle vendor accounts ------------------------------------------------------------------


def idle_days() -> int:
    return int(getattr(settings, "VENDOR_IDLE_DEACTIVATE_DAYS", DEFAULT_IDLE_DAYS))


def _since(user: Any, seen: dt.datetime | None) -> str:
    if seen is None:
        made = timezone.localdate(user.date_joined)
        return f"never signed in since the account was made on {made:%m/%d/%Y}"
    return f"last seen {timezone.localdate(seen):%m/%d/%Y}"


def _tell(user: Any, practice: Practice, days: int, since: str, today: dt.date) -> int:
    staff = user.vendor_staff
    message = clip(
        f"Vendor account {user.get_username()} ({staff.vendor.name}) was deactivated after "
        f"{days} days without use ({since}): it no longer has access to {practice.name}. "
        "An administrator can reactivate it."
    )
    managers = holders(perms.MANAGE_ACCESS, practice.pk).filter(is_superuser=False)
    leads = holders(perms.VIEW_PRACTICE, practice.pk).filter(
        is_superuser=False, vendor_staff__vendor_id=staff.vendor_id, vendor_staff__is_lead=True
    )
    recipients = {u.pk for u in managers} | {u.pk for u in leads}
    recipients.discard(user.pk)
    return insert_new(
        Notification(
            user_id=pk,
            practice_id=practice.pk,
            kind=NotificationKind.VENDOR_IDLE,
            message=message,
            for_date=today,
            dedupe_key=f"vendor-idle:{user.pk}:{practice.pk}:{pk}:{today.isoformat()}",
        )
        for pk in sorted(recipients)
    )


@transaction.atomic
def deactivate_idle_account(user: Any, days: int, now: dt.datetime) -> int:
    """Deactivate one idle vendor account (the system as actor), hand its open work over
    and tell each practice's managers and the vendor's leads; notifications sent."""
    today = timezone.localdate(now)
    since = _since(user, idle.last_seen(user))
    assignments = list(
        Assignment.objects.filter(staff__user=user, revoked_at__isnull=True)
        .select_related("engagement__practice")
        .order_by("pk")
    )
    for assignment in assignments:
        _hand_over(
            user,
            assignment.successor,
            assignment.engagement.practice_id,
            f"{user}'s account was deactivated after {days} idle days",
        )
    services.user_set_active(actor=None, user=user, is_active=False)
    practices = {a.engagement.practice_id: a.engagement.practice for a in assignments}
    return sum(
        _tell(user, practice, days, since, today)
        for practice in practices.values()
        if practice.is_active
    )


def deactivate_idle_vendor_accounts(now: dt.datetime | None = None) -> int:
    """Deactivate every vendor account idle for ``VENDOR_IDLE_DEACTIVATE_DAYS``; how many."""
    now = now or timezone.now()
    days = idle_days()
    done = 0
    for user in idle.idle_vendor_accounts(now, days):
        deactivate_idle_account(user, days, now)
        done += 1
    return done


# --- the item type and its queue -------------------------------------------------------------


def describe(review: AccessReview) -> str:
    return f"Access review {review.quarter}: confirm or revoke each vendor account"


def log_activity(item: Any, actor: Any, kind: str, text: str) -> None:
    """Access reviews keep no timeline: their history and their lines' record every change."""


ACCESS_REVIEW = ItemType(
    key="access_review",
    model=AccessReview,
    label="Access review",
    permission=perms.MANAGE_ACCESS,
    open_condition=Q(status=AccessReviewStatus.OPEN),
    detail_url_name="access-review",
    describe=describe,
    log_activity=log_activity,
    select_related=("practice", "owner"),
    # Its own follow-up (the managers' My day and queue): the vendor's primary contact is
    # not the one to chase a practice's access review.
    escalate_when_overdue=False,
)


def _managed(items: QuerySet[Any], user: Any, today: dt.date) -> QuerySet[Any]:
    return items.filter(practice_id__in=visible_practice_ids(user, perms.MANAGE_ACCESS))


ACCESS_REVIEW_QUEUE = Queue(
    "access-reviews",
    "Access reviews",
    "Each quarter: confirm or revoke every vendor account with access to the practice.",
    "access_review",
    _managed,
    order=70,
)


def register() -> None:
    """Called from ``SopsConfig.ready``."""
    registry.register_type(ACCESS_REVIEW)
    registry.register_queue(ACCESS_REVIEW_QUEUE)
