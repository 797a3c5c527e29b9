"""277CA acknowledgements: one imported file and, per claim in it, what it said and did.

A claim's acknowledgement is applied at most once: applied rows are unique per (claim,
payer claim number, status codes, status date) in the database, so the same file again
(or two imports at once) changes nothing.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from billing_ops.scoping import PracticeScopedQuerySet

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}


class AckStatus(models.TextChoices):
    PENDING = "pending", "Queued"
    APPLIED = "applied", "Applied"
    PREVIEWED = "previewed", "Previewed (nothing applied)"
    REFUSED = "refused", "Refused"


class AckOutcome(models.TextChoices):
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    UNMATCHED = "unmatched", "Unmatched (not our claim)"
    ALREADY = "already", "Already applied"
    NOT_APPLIED = "not_applied", "Not applied (claim not awaiting an answer)"


class Acknowledgement(models.Model):
    """One 277CA file imported into a practice and what importing it did."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=AckStatus.choices)
    dry_run = models.BooleanField(default=False)
    filename = models.CharField(max_length=255, blank=True)
    file_hash = models.CharField(max_length=64, blank=True)
    payer_name = models.CharField(max_length=200, blank=True)
    trace = models.CharField(max_length=50, blank=True)
    accepted_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    unmatched_count = models.PositiveIntegerField(default=0)
    already_count = models.PositiveIntegerField(default=0)
    not_applied_count = models.PositiveIntegerField(default=0)
    # [{"level": "error", "segment": 21, "segment_id": "STC", "message": "..."}]
    entries = models.JSONField(default=list, blank=True)
    # The file's text while it waits for the task (``ar.tasks.run_acknowledgement``).
    content = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Acknowledgement {self.filename or self.pk}"


class ClaimAcknowledgement(models.Model):
    """One claim's status in a 277CA (HL*PT), the claim it matched, and the outcome."""

    practice_lookup = "practice"

    acknowledgement = models.ForeignKey(
        Acknowledgement, on_delete=models.CASCADE, related_name="claims"
    )
    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    claim = models.ForeignKey(
        "claims.Claim", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    segment = models.PositiveIntegerField()
    patient_control_number = models.CharField(max_length=50)
    payer_claim_number = models.CharField(max_length=50, blank=True)
    status_codes = models.CharField(max_length=100)  # "A7:562:85" (several: ", ")
    reason = models.CharField(max_length=300, blank=True)
    status_date = models.DateField(null=True, blank=True)
    amount = models.DecimalField(**MONEY, null=True, blank=True)
    outcome = models.CharField(max_length=12, choices=AckOutcome.choices)
    applied = models.BooleanField(default=False)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["acknowledgement", "segment"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "payer_claim_number", "status_codes", "status_date"],
                condition=models.Q(applied=True),
                name="unique_applied_claim_ack",
            )
        ]

    def __str__(self) -> str:
        return f"{self.patient_control_number} {self.status_codes}"
