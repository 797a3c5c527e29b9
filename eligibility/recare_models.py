"""The recare list: patients to call back, for a recall that is due or for planned
treatment that was never booked.

A recare item is a work item (``docs/work-items.md``): its next action is the next call,
due on the next call date; each call is logged with its outcome and counts as an attempt.
Booking closes it. Non-clinical only: the list holds dates, codes and call outcomes, never
clinical notes. Writes go through ``eligibility.recare``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from billing_ops.append_only import append_only
from work.models import Priority, WorkItem


class RecareKind(models.TextChoices):
    RECALL = "recall", "Recall due"
    PLANNED = "planned", "Planned treatment not booked"


class CallOutcome(models.TextChoices):
    REACHED = "reached", "Reached"
    LEFT_MESSAGE = "left_message", "Left message"
    BOOKED = "booked", "Booked"
    DECLINED = "declined", "Declined"
    WRONG_NUMBER = "wrong_number", "Wrong number"


class RecareNextAction(models.TextChoices):
    WAIT = "wait", "Wait"
    CALL = "call", "Call the patient"
    FIND_NUMBER = "find_number", "Find a working phone number"


class RecareClosedReason(models.TextChoices):
    BOOKED = "booked", "Booked"
    DECLINED = "declined", "Declined"
    REMOVED = "removed", "Removed from the list"


class RecareActivityKind(models.TextChoices):
    CREATED = "created", "Created"
    CALL = "call", "Call"
    NEXT_ACTION = "next_action", "Next action"
    OWNER = "owner", "Owner"
    CLOSED = "closed", "Closed"
    EDIT = "edit", "Edit"


class RecareItem(WorkItem):
    """One patient to call back: a recall due on ``due_on`` or planned treatment."""

    patient = models.ForeignKey(
        "practices.Patient", on_delete=models.PROTECT, related_name="recare_items"
    )
    kind = models.CharField(max_length=10, choices=RecareKind.choices)
    due_on = models.DateField(help_text="Recall due date, or the date of the missed visit.")
    recall_type = models.CharField(max_length=60, blank=True, help_text="e.g. 6-month hygiene")
    # Planned treatment: the appointment whose planned procedures were not booked again.
    source_appointment = models.ForeignKey(
        "practices.Appointment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    procedure_codes = models.JSONField(default=list, blank=True)
    next_action = models.CharField(max_length=30, choices=RecareNextAction.choices, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_outcome = models.CharField(max_length=15, choices=CallOutcome.choices, blank=True)
    last_called_at = models.DateTimeField(null=True, blank=True)
    booked_appointment = models.ForeignKey(
        "practices.Appointment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=10, choices=RecareClosedReason.choices, blank=True)
    history = HistoricalRecords(excluded_fields=["locked_by", "locked_until", "priority_reasons"])

    class Meta:
        ordering = ["due_on", "pk"]
        constraints = [
            # An import run twice updates the patient's open recall instead of adding one.
            models.UniqueConstraint(
                fields=["patient"],
                condition=models.Q(kind="recall", closed_at__isnull=True),
                name="one_open_recall_per_patient",
            ),
            models.UniqueConstraint(
                fields=["source_appointment"],
                condition=models.Q(kind="planned"),
                name="one_recare_per_missed_appointment",
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "closed_at"]),
            models.Index(fields=["owner", "next_action_due"]),
            models.Index(fields=["practice", "-priority", "-id"], name="recare_queue_rank"),
        ]

    def __str__(self) -> str:
        return f"Recare R-{self.pk}"

    @property
    def label(self) -> str:
        return f"R-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        """The longer past due, the higher; planned treatment above a recall; fewer
        attempts first (a patient called five times waits behind one never called)."""
        if not self.is_open:
            return Priority(0, ())
        today = today or timezone.localdate()
        reasons: list[str] = []
        score = 30 if self.kind == RecareKind.PLANNED else 10
        reasons.append(self.get_kind_display().lower())
        late = (today - self.due_on).days
        if late > 0:
            score += min(late, 90) // 3
            reasons.append(f"due {late} days ago")
        else:
            reasons.append("due today" if late == 0 else f"due in {-late} days")
        if self.attempts:
            score = max(score - 5 * self.attempts, 1)
            reasons.append(f"{self.attempts} attempt(s)")
        return Priority(score, tuple(reasons))


class RecareActivity(models.Model):
    """One entry of a recare item's timeline: calls with their outcome, and changes."""

    item = models.ForeignKey(RecareItem, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=20, choices=RecareActivityKind.choices)
    outcome = models.CharField(max_length=15, choices=CallOutcome.choices, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    text = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "recare activities"
        triggers = [append_only()]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.item}"
