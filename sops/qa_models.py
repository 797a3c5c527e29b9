"""QA reviews: a weekly sample of submitted claims, each checked against a short list.

``QaPlan`` sets how many claims a practice samples a week (``DEFAULT_SAMPLE`` without
one). A ``QaReview`` is a work item for the practice's coding reviewer (the coding review
function's owner, else a manager) until every check has pass or fail; its result is kept
with the billing function (claim submission) and that function's owner at sampling time,
for the dashboard.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from billing_ops.scoping import PracticeScopedQuerySet
from sops.choices import QaAction, QaResult, QaStatus
from work.models import Priority, WorkItem

DEFAULT_SAMPLE = 5
CHECKLIST = (
    ("patient", "Patient, subscriber and coverage match the card"),
    ("codes", "Procedure and diagnosis codes match the chart"),
    ("payer_rules", "Modifiers and attachments follow the payer's house rules"),
    ("timely", "Submitted within the claim submission turnaround"),
)


class QaPlan(models.Model):
    """How many submitted claims a practice samples for QA each week."""

    practice_lookup = "practice"

    practice = models.OneToOneField(
        "practices.Practice", on_delete=models.CASCADE, related_name="qa_plan"
    )
    sample_size = models.PositiveSmallIntegerField(default=DEFAULT_SAMPLE)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"QA plan of {self.practice}: {self.sample_size} a week"


class QaReview(WorkItem):
    """One sampled claim's QA check."""

    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="+")
    week = models.CharField(max_length=8)  # ISO year and week: "2026-W49"
    function = models.ForeignKey(
        "sops.BillingFunction", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    function_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # check key -> {"passed": bool, "finding": str}
    checks = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=QaStatus.choices, default=QaStatus.OPEN)
    result = models.CharField(max_length=10, choices=QaResult.choices, blank=True)
    next_action = models.CharField(max_length=30, choices=QaAction.choices, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["locked_by", "locked_until", "priority_reasons"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "week"], name="one_qa_review_per_claim_week")
        ]
        indexes = [models.Index(fields=["practice", "week"])]

    def __str__(self) -> str:
        return f"QA Q-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == QaStatus.OPEN

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        today = today or timezone.localdate()
        if not self.is_open or self.next_action_due is None:
            return Priority(0, ())
        late = max((today - self.next_action_due).days, 0)
        return Priority(40 + late * 5, (f"QA sample of week {self.week}",))
