"""Escalations: one short question the practice must answer, with a deadline or a patient
impact, routed to the owner of the billing function it concerns (the backup when the owner
is away), about any registered work item (a claim, a denial, an eligibility check, a
patient balance...), named by its item type key and id.

Routine questions are the same record with ``is_routine``: no deadline, their own list.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from sops.choices import EscalationAction, EscalationStage, EscalationStatus
from work.models import Priority, WorkItem

QUESTION_MAX = 200


class Escalation(WorkItem):
    """A question for the practice; its owner is who must answer it now."""

    function = models.ForeignKey(
        "sops.BillingFunction", on_delete=models.PROTECT, related_name="escalations"
    )
    question = models.CharField(max_length=QUESTION_MAX)
    is_routine = models.BooleanField(default=False)
    deadline = models.DateField(null=True, blank=True)
    patient_impact = models.CharField(max_length=300, blank=True)
    # What it is about: a registered work item type and the item's id, and its label then.
    subject_type = models.CharField(max_length=30)
    subject_id = models.PositiveBigIntegerField()
    subject_label = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=EscalationStatus.choices, default=EscalationStatus.OPEN
    )
    stage = models.PositiveSmallIntegerField(
        choices=EscalationStage.choices, default=EscalationStage.FIRST
    )
    next_action = models.CharField(max_length=30, choices=EscalationAction.choices, blank=True)
    answer = models.TextField(blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answered_at = models.DateTimeField(null=True, blank=True)
    raised_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    raised_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["locked_by", "locked_until", "priority_reasons"])

    class Meta:
        ordering = ["-raised_at", "-pk"]
        indexes = [
            models.Index(fields=["subject_type", "subject_id"]),
            models.Index(fields=["practice", "status"]),
            models.Index(fields=["owner", "next_action_due"]),
        ]

    def __str__(self) -> str:
        return f"Escalation E-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == EscalationStatus.OPEN

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        today = today or timezone.localdate()
        if not self.is_open or self.next_action_due is None:
            return Priority(0, ())
        if self.is_routine:
            return Priority(10, ("Routine question",))
        reasons = []
        score = 500
        if self.patient_impact:
            score += 300
            reasons.append("Patient impact")
        late = (today - self.next_action_due).days
        if late > 0:
            score += late * 50
            reasons.append(f"Answer {late} days overdue")
        elif self.deadline is not None:
            reasons.append(f"Answer by {self.deadline:%m/%d}")
        return Priority(score, tuple(reasons) or ("Escalation",))
