"""Payer house rule writes: add or change a rule, confirm it, mark it reviewed, and the
daily job that opens a review work item for each rule whose review is due.

Managers (``manage_sops``) write the library; everybody who works claims reads it. A
review item goes to the practice's first active manager; the job runs any number of times
a day and opens one item per rule and due date.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from practices.choices import Role, ServiceArea
from practices.models import Membership, Payer
from sops.choices import ReviewAction, ReviewStatus, RuleStatus
from sops.function_services import require_manager
from sops.rule_models import HouseRule, HouseRuleReview
from work.services import save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor

REVIEW_DAYS_TO_ACT = 7


def _pattern(value: str) -> str:
    value = value.strip().upper()
    body = value[:-1] if value.endswith("*") else value
    if value and (not body.isalnum() or len(value) > 20):
        raise ValidationError({"procedure_pattern": "A code or a prefix ending in *."})
    return value


@transaction.atomic
def house_rule_save(
    *,
    actor: Actor,
    practice: Any,
    payer: Payer,
    decision: str,
    procedure_pattern: str = "",
    service_area: str = "",
    source: str = "",
    payer_rule: Any = None,
    review_every_days: int = 91,
    rule: HouseRule | None = None,
    today: dt.date | None = None,
) -> HouseRule:
    """Add a rule to the library (unconfirmed) or change one (a change to the decision
    makes it unconfirmed again: somebody must confirm the new words)."""
    require_manager(actor, practice.pk)
    today = today or timezone.localdate()
    errors: dict[str, str] = {}
    if payer.practice_id != practice.pk:
        errors["payer"] = "Not a payer of this practice."
    if not decision.strip():
        errors["decision"] = "Write the decision in words."
    if service_area and service_area not in ServiceArea.values:
        errors["service_area"] = "Unknown service area."
    if payer_rule is not None and (
        payer_rule.practice_id != practice.pk or payer_rule.payer_id != payer.pk
    ):
        errors["payer_rule"] = "The structured rule must be this payer's, at this practice."
    if not 7 <= review_every_days <= 366:
        errors["review_every_days"] = "Review every 7 to 366 days."
    try:
        pattern = _pattern(procedure_pattern)
    except ValidationError as exc:
        errors.update({k: v[0] for k, v in exc.message_dict.items()})
        pattern = ""
    if errors:
        raise ValidationError(errors)
    if rule is None:
        rule = HouseRule(practice=practice, created_by=actor, review_due=today)
        rule.review_due = today + dt.timedelta(days=review_every_days)
    else:
        rule = HouseRule.objects.select_for_update().get(pk=rule.pk, practice=practice)
        if rule.decision != decision.strip():
            rule.status = RuleStatus.UNCONFIRMED
            rule.confirmed_by, rule.confirmed_at = None, None
    rule.payer = payer
    rule.decision = decision.strip()
    rule.procedure_pattern = pattern
    rule.service_area = service_area
    rule.source = source.strip()
    rule.payer_rule = payer_rule
    rule.review_every_days = review_every_days
    rule._history_user = actor  # type: ignore[attr-defined]
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError:
        raise ValidationError({"payer_rule": "That structured rule is in another entry."}) from None
    return rule


@transaction.atomic
def house_rule_confirm(
    *, actor: Actor, rule: HouseRule, source: str, today: dt.date | None = None
) -> HouseRule:
    """Somebody confirmed the decision with the payer (or its manual): who, when, source.
    A confirmation is a review too."""
    require_manager(actor, rule.practice_id)
    if not source.strip():
        raise ValidationError(
            {"source": "Say where it was confirmed (call reference, manual page)."}
        )
    today = today or timezone.localdate()
    rule = HouseRule.objects.select_for_update().get(pk=rule.pk)
    rule.status = RuleStatus.CONFIRMED
    rule.confirmed_by = actor
    rule.confirmed_at = timezone.now()
    rule.source = source.strip()
    return _reviewed(rule, actor, today)


@transaction.atomic
def house_rule_reviewed(
    *, actor: Actor, rule: HouseRule, today: dt.date | None = None
) -> HouseRule:
    """The rule still holds: last reviewed today, the next review a period from now."""
    require_manager(actor, rule.practice_id)
    today = today or timezone.localdate()
    rule = HouseRule.objects.select_for_update().get(pk=rule.pk)
    return _reviewed(rule, actor, today)


def _reviewed(rule: HouseRule, actor: Actor, today: dt.date) -> HouseRule:
    rule.last_reviewed = today
    rule.review_due = today + dt.timedelta(days=rule.review_every_days)
    rule._history_user = actor  # type: ignore[attr-defined]
    rule.save()
    for review in rule.reviews.filter(status=ReviewStatus.OPEN).select_for_update():
        review.status = ReviewStatus.DONE
        review.next_action, review.next_action_due, review.wait_reason = "", None, ""
        review.closed_at = timezone.now()
        save_checked(review, actor, today)
    return rule


def _reviewer(practice_id: int) -> int | None:
    """The practice's first active manager (managers keep the library)."""
    return (
        Membership.objects.filter(
            practice_id=practice_id, role=Role.PRACTICE_MANAGER, is_active=True
        )
        .order_by("pk")
        .values_list("user_id", flat=True)
        .first()
    )


def open_due_reviews(today: dt.date) -> int:
    """One review item per rule whose review is due (and has none open for that date).
    Idempotent: a second run the same day (or any day before the rule is reviewed) opens
    nothing new. Returns how many it opened."""
    opened = 0
    due = HouseRule.objects.filter(review_due__lte=today, practice__is_active=True).exclude(
        reviews__status=ReviewStatus.OPEN
    )
    for rule in due.order_by("pk"):
        reviewer = _reviewer(rule.practice_id)
        if reviewer is None:
            continue
        with transaction.atomic():
            if HouseRuleReview.objects.filter(rule=rule, due_on=rule.review_due).exists():
                continue
            review = HouseRuleReview(
                practice_id=rule.practice_id,
                rule=rule,
                due_on=rule.review_due,
                owner_id=reviewer,
                next_action=ReviewAction.REVIEW,
                next_action_due=max(rule.review_due, today),
            )
            save_checked(review, None, today)
            opened += 1
    return opened
