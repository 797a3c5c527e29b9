"""QA: the weekly sample of submitted claims and recording a review.

``sample_week`` (weekly beat job) picks, per active practice, up to its plan's number of
claims first submitted in the seven days before ``today`` (a seeded random choice, so a
rerun picks the same ones) and opens a ``QaReview`` for each; a second run the same week
opens nothing. ``qa_review_record`` stores pass or fail and a finding per check, and the
review's result (fail when any check fails).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from billing_ops.access import has_perm, holders_by_practice
from claims.models import Claim
from practices import permissions as perms
from practices.choices import Role
from practices.models import Membership, Practice
from sops.choices import BillingFunctionKind, QaAction, QaResult, QaStatus
from sops.models import BillingFunction
from sops.qa_models import CHECKLIST, DEFAULT_SAMPLE, QaPlan, QaReview
from work.services import lock_for_update, save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor

REVIEW_DAYS = 5


def week_of(day: dt.date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _reviewer(practice_id: int) -> int | None:
    """The coding review function's owner, else the first active manager."""
    owner = (
        BillingFunction.objects.filter(
            practice_id=practice_id, kind=BillingFunctionKind.CODING_REVIEW
        )
        .values_list("owner_id", flat=True)
        .first()
    )
    if owner is not None and owner in holders_by_practice(
        perms.WORK_CLAIMS, [practice_id], [owner]
    ).get(practice_id, set()):
        return owner
    return (
        Membership.objects.filter(
            practice_id=practice_id, role=Role.PRACTICE_MANAGER, is_active=True
        )
        .order_by("pk")
        .values_list("user_id", flat=True)
        .first()
    )


def _candidates(practice: Practice, today: dt.date, window_days: int) -> QuerySet[Claim]:
    start = today - dt.timedelta(days=window_days)
    return Claim.objects.filter(
        practice=practice,
        first_submitted_at__date__gte=start,
        first_submitted_at__date__lt=today,
    ).order_by("pk")


def sample_week(today: dt.date, window_days: int = 7) -> int:
    """Open this week's QA reviews at every active practice (claims first submitted in the
    ``window_days`` before today); how many it opened."""
    week = week_of(today)
    plans = dict(QaPlan.objects.values_list("practice_id", "sample_size"))
    opened = 0
    for practice in Practice.objects.filter(is_active=True).order_by("pk"):
        size = plans.get(practice.pk, DEFAULT_SAMPLE)
        if size == 0 or QaReview.objects.filter(practice=practice, week=week).exists():
            continue
        ids = list(_candidates(practice, today, window_days).values_list("pk", flat=True))
        if not ids:
            continue
        reviewer = _reviewer(practice.pk)
        if reviewer is None:
            continue
        chosen = random.Random(f"qa-{practice.pk}-{week}").sample(ids, min(size, len(ids)))
        function = BillingFunction.objects.filter(
            practice=practice, kind=BillingFunctionKind.CLAIM_SUBMISSION
        ).first()
        with transaction.atomic():
            for claim_id in sorted(chosen):
                review = QaReview(
                    practice=practice,
                    claim_id=claim_id,
                    week=week,
                    function=function,
                    function_owner_id=function.owner_id if function else None,
                    owner_id=reviewer,
                    next_action=QaAction.REVIEW,
                    next_action_due=today + dt.timedelta(days=REVIEW_DAYS),
                )
                save_checked(review, None, today)
                opened += 1
    return opened


def may_review(actor: Any, review: QaReview) -> bool:
    return actor is not None and (
        actor.pk == review.owner_id or has_perm(actor, perms.MANAGE_SOPS, review.practice_id)
    )


@transaction.atomic
def qa_review_record(
    *,
    actor: Actor,
    review: QaReview,
    checks: dict[str, dict[str, Any]],
    expected_version: int | None = None,
) -> QaReview:
    """Pass or fail per check (a failed check needs its finding); closes the review."""
    if not may_review(actor, review):
        raise PermissionDenied("Only the QA reviewer or a manager records this review.")
    review = lock_for_update(review, expected_version)
    if not review.is_open:
        raise ValidationError("This QA review is already recorded.")
    errors: dict[str, str] = {}
    stored: dict[str, dict[str, Any]] = {}
    for key, label in CHECKLIST:
        entry = checks.get(key)
        if not isinstance(entry, dict) or not isinstance(entry.get("passed"), bool):
            errors[key] = f"Pass or fail: {label}."
            continue
        finding = str(entry.get("finding", "")).strip()[:500]
        if not entry["passed"] and not finding:
            errors[key] = "Say what was wrong."
        stored[key] = {"passed": entry["passed"], "finding": finding}
    if errors:
        raise ValidationError(errors)
    review.checks = stored
    review.result = QaResult.PASS if all(e["passed"] for e in stored.values()) else QaResult.FAIL
    review.status = QaStatus.DONE
    review.completed_by = actor
    review.completed_at = timezone.now()
    review.next_action, review.next_action_due, review.wait_reason = "", None, ""
    save_checked(review, actor)
    return review
