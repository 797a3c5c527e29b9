"""The quarterly access review: every vendor account with access to a practice, each line
confirmed or revoked by a manager (``sops.access_reviews``).

An ``AccessReview`` is a work item for the practice's managers (``manage_access``) until
every line is decided. A line keeps what the manager saw when the review was opened (the
account's areas, lead or not, last login and end date), so a past review still reads as
it was decided; the history of both models records who changed what.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from work.models import Priority, WorkItem

REVIEW_GRACE_DAYS = 14


class AccessReviewStatus(models.TextChoices):
    OPEN = "open", "To review"
    DONE = "done", "Done"


class AccessReviewAction(models.TextChoices):
    WAIT = "wait", "Wait"
    REVIEW = "review", "Confirm or revoke each vendor account"


class AccessDecision(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed"
    REVOKED = "revoked", "Revoked"


class AccessReview(WorkItem):
    """One practice's access review of one quarter."""

    quarter = models.CharField(max_length=7)  # "2026-Q4"
    status = models.CharField(
        max_length=10, choices=AccessReviewStatus.choices, default=AccessReviewStatus.OPEN
    )
    next_action = models.CharField(max_length=30, choices=AccessReviewAction.choices, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["locked_by", "locked_until", "priority_reasons"])

    class Meta:
        ordering = ["-quarter", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "quarter"], name="one_access_review_per_quarter"
            )
        ]

    def __str__(self) -> str:
        return f"Access review {self.quarter}"

    @property
    def is_open(self) -> bool:
        return self.status == AccessReviewStatus.OPEN

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        today = today or timezone.localdate()
        if not self.is_open or self.next_action_due is None:
            return Priority(0, ())
        # Opened due the same day; it weighs more after two weeks without a decision.
        late = max((today - self.next_action_due).days - REVIEW_GRACE_DAYS, 0)
        return Priority(60 + late * 5, (f"Access review {self.quarter}",))


class AccessReviewLine(models.Model):
    """One vendor account's access to the practice, as the review found it, and the
    manager's decision."""

    practice_lookup = "review__practice"

    review = models.ForeignKey(AccessReview, on_delete=models.CASCADE, related_name="lines")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    assignment = models.ForeignKey(
        "practices.Assignment", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    vendor_name = models.CharField(max_length=200)
    is_lead = models.BooleanField(default=False)
    service_areas = models.JSONField(default=list)
    last_login = models.DateTimeField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    decision = models.CharField(max_length=10, choices=AccessDecision.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    note = models.CharField(max_length=300, blank=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["vendor_name", "user__username", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["review", "user"], name="one_line_per_account")
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.review}"

    def area_labels(self) -> list[str]:
        from practices.choices import ServiceArea

        return [ServiceArea(a).label if a in ServiceArea.values else a for a in self.service_areas]
