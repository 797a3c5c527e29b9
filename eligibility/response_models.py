"""271 imports and 270 exports: what each file did, member by member.

A member's answer is applied to a check at most once: applied rows are unique per (check,
fingerprint of the answer) in the database, so the same file again (or two imports at
once) changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from billing_ops.scoping import PracticeScopedQuerySet


class ResponseStatus(models.TextChoices):
    APPLIED = "applied", "Applied"
    REFUSED = "refused", "Refused"


class MemberOutcome(models.TextChoices):
    APPLIED = "applied", "Applied"
    ALREADY = "already", "Already applied"
    UNMATCHED = "unmatched", "Unmatched (no open check)"
    AMBIGUOUS = "ambiguous", "Several patients match"
    NO_INFO = "no_info", "No answer about this member"
    NOT_APPLIED = "not_applied", "Not applied"


class EligibilityResponseImport(models.Model):
    """One 271 file imported into a practice and what importing it did."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=10, choices=ResponseStatus.choices)
    filename = models.CharField(max_length=255, blank=True)
    file_hash = models.CharField(max_length=64, blank=True)
    payer_name = models.CharField(max_length=200, blank=True)
    member_count = models.PositiveIntegerField(default=0)
    applied_count = models.PositiveIntegerField(default=0)
    already_count = models.PositiveIntegerField(default=0)
    unmatched_count = models.PositiveIntegerField(default=0)
    # Members the payer rejected (AAA) or answered with inactive coverage.
    problem_count = models.PositiveIntegerField(default=0)
    other_count = models.PositiveIntegerField(default=0)  # ambiguous, no answer, not applied
    # [{"level": "error", "segment": 21, "segment_id": "EB", "message": "..."}]
    entries = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"271 import {self.filename or self.pk}"


class EligibilityResponseMember(models.Model):
    """One member (HL 22/23) of a 271, the check it matched and the outcome."""

    practice_lookup = "practice"

    response = models.ForeignKey(
        EligibilityResponseImport, on_delete=models.CASCADE, related_name="members"
    )
    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    check_item = models.ForeignKey(
        "eligibility.EligibilityCheck",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    segment = models.PositiveIntegerField()
    level = models.CharField(max_length=10)  # subscriber / dependent
    last_name = models.CharField(max_length=100, blank=True)
    first_name = models.CharField(max_length=100, blank=True)
    date_of_birth = models.DateField(null=True, blank=True)
    member_id = models.CharField(max_length=80, blank=True)
    trace = models.CharField(max_length=80, blank=True)
    result_status = models.CharField(max_length=12)  # active / inactive / needs_info
    problems = models.JSONField(default=list, blank=True)
    outcome = models.CharField(max_length=12, choices=MemberOutcome.choices)
    message = models.CharField(max_length=300, blank=True)
    fingerprint = models.CharField(max_length=64)
    applied = models.BooleanField(default=False)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["response", "segment", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["check_item", "fingerprint"],
                condition=models.Q(applied=True),
                name="unique_applied_271_member",
            )
        ]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name} ({self.outcome})"


class Eligibility270Export(models.Model):
    """One 270 batch written for a practice's day; its id is the interchange control
    number (ISA13, GS06), so no two batches share one."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    service_date = models.DateField()
    inquiry_count = models.PositiveIntegerField(default=0)
    check_ids = models.JSONField(default=list, blank=True)
    content = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"270 batch {self.pk} for {self.service_date}"

    @property
    def control_number(self) -> int:
        return int(self.pk)
