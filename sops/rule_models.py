"""Payer house rules: the practice's library of decisions per payer, written down.

A ``HouseRule`` says what it applies to (a procedure pattern, a service area), the decision
in words, whether it is confirmed (who, when, from what source) or still unconfirmed, when
it was last reviewed and when the next review is due (quarterly by default). It may carry
a structured scrubber rule (``claims.PayerRule``), which stays where it is. A rule due for
review is a ``HouseRuleReview`` work item (``sops.rule_services.open_due_reviews``, daily).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from billing_ops.scoping import PracticeScopedQuerySet
from sops.choices import ReviewAction, ReviewStatus, RuleStatus
from work.models import Priority, WorkItem

REVIEW_EVERY_DAYS = 91  # quarterly


class HouseRule(models.Model):
    """One payer decision of one practice."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    payer = models.ForeignKey("practices.Payer", on_delete=models.PROTECT, related_name="+")
    procedure_pattern = models.CharField(
        max_length=20, blank=True, help_text="A code or a prefix ending in *, e.g. D27*."
    )
    service_area = models.CharField(max_length=30, blank=True)
    decision = models.TextField()
    status = models.CharField(
        max_length=12, choices=RuleStatus.choices, default=RuleStatus.UNCONFIRMED
    )
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    confirmed_at = models.DateTimeField(null=True, blank=True)
    source = models.CharField(max_length=300, blank=True)
    last_reviewed = models.DateField(null=True, blank=True)
    review_due = models.DateField()
    review_every_days = models.PositiveSmallIntegerField(default=REVIEW_EVERY_DAYS)
    payer_rule = models.OneToOneField(
        "claims.PayerRule",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="house_rule",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["payer__name", "procedure_pattern", "pk"]
        indexes = [models.Index(fields=["practice", "review_due"])]

    def __str__(self) -> str:
        what = self.procedure_pattern or self.service_area or "every claim"
        return f"{self.payer}: {what}"


class HouseRuleReview(WorkItem):
    """A work item: a house rule is due for its periodic review."""

    rule = models.ForeignKey(HouseRule, on_delete=models.CASCADE, related_name="reviews")
    due_on = models.DateField()
    status = models.CharField(
        max_length=10, choices=ReviewStatus.choices, default=ReviewStatus.OPEN
    )
    next_action = models.CharField(max_length=30, choices=ReviewAction.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["locked_by", "locked_until", "priority_reasons"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["rule", "due_on"], name="one_review_per_due_date")
        ]

    def __str__(self) -> str:
        return f"Review {self.rule}"

    @property
    def is_open(self) -> bool:
        return self.status == ReviewStatus.OPEN

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        today = today or timezone.localdate()
        if not self.is_open or self.next_action_due is None:
            return Priority(0, ())
        late = (today - self.due_on).days
        return Priority(50 + max(late, 0), (f"Payer rule review due {self.due_on:%m/%d}",))
