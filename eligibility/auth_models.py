"""Prior authorizations: a payer's advance approval of procedures for one patient.

An authorization is a work item (``docs/work-items.md``) from the moment somebody must act:
needed -> request it, requested -> follow up with the payer, approved -> renew it before it
runs out (due ``alert_days`` before ``valid_to``). Denied, expired and renewed ones are
closed. Writes go through ``eligibility.authorizations``.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from billing_ops.append_only import append_only
from work.models import Priority, WorkItem


class AuthStatus(models.TextChoices):
    NEEDED = "needed", "Needed"
    REQUESTED = "requested", "Requested"
    APPROVED = "approved", "Approved"
    DENIED = "denied", "Denied"
    EXPIRED = "expired", "Expired"


class AuthNextAction(models.TextChoices):
    WAIT = "wait", "Wait"
    REQUEST = "request", "Request authorization"
    FOLLOW_UP = "follow_up", "Follow up with payer"
    RENEW = "renew", "Renew authorization"


class AuthClosedReason(models.TextChoices):
    DENIED = "denied", "Denied"
    EXPIRED = "expired", "Expired"
    RENEWED = "renewed", "Renewed"
    USED_UP = "used_up", "All units used"
    WITHDRAWN = "withdrawn", "No longer needed"


class AuthActivityKind(models.TextChoices):
    CREATED = "created", "Created"
    STATUS = "status", "Status"
    UNITS = "units", "Units used"
    NEXT_ACTION = "next_action", "Next action"
    OWNER = "owner", "Owner"
    CLOSED = "closed", "Closed"
    EDIT = "edit", "Edit"


class PriorAuthorization(WorkItem):
    """One authorization (or the need for one) per patient, payer and set of procedures."""

    patient = models.ForeignKey(
        "practices.Patient", on_delete=models.PROTECT, related_name="prior_authorizations"
    )
    payer = models.ForeignKey("practices.Payer", on_delete=models.PROTECT, related_name="+")
    # The visit it was asked for, if any (the day sheet shows its status there).
    appointment = models.ForeignKey(
        "practices.Appointment",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="prior_authorizations",
    )
    procedure_codes = models.JSONField(default=list)
    status = models.CharField(max_length=10, choices=AuthStatus.choices, default=AuthStatus.NEEDED)
    number = models.CharField("authorization number", max_length=50, blank=True)
    valid_from = models.DateField(null=True, blank=True)
    valid_to = models.DateField(null=True, blank=True)
    units_approved = models.PositiveIntegerField(default=0)
    units_used = models.PositiveIntegerField(default=0)
    next_action = models.CharField(max_length=30, choices=AuthNextAction.choices, blank=True)
    renews = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="renewals"
    )
    requested_on = models.DateField(null=True, blank=True)
    decided_on = models.DateField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=10, choices=AuthClosedReason.choices, blank=True)
    history = HistoricalRecords(excluded_fields=["locked_by", "locked_until", "priority_reasons"])

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(units_used__lte=models.F("units_approved"))
                | ~models.Q(status="approved"),
                name="prior_auth_units_within_approved",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_from__lte=models.F("valid_to")),
                name="prior_auth_valid_range",
            ),
        ]
        indexes = [
            models.Index(fields=["patient", "payer"]),
            models.Index(fields=["practice", "closed_at"]),
            models.Index(fields=["owner", "next_action_due"]),
            models.Index(fields=["practice", "-priority", "-id"], name="prior_auth_queue_rank"),
        ]

    def __str__(self) -> str:
        return f"Prior authorization PA-{self.pk}"

    @property
    def label(self) -> str:
        return f"PA-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def units_left(self) -> int:
        return max(self.units_approved - self.units_used, 0)

    def covers(self, code: str) -> bool:
        return code.upper() in {c.upper() for c in self.procedure_codes}

    def valid_on(self, day: dt.date) -> bool:
        """Approved, in its date range on ``day``, with units left."""
        return (
            self.status == AuthStatus.APPROVED
            and (self.valid_from is None or self.valid_from <= day)
            and (self.valid_to is None or day <= self.valid_to)
            and self.units_left > 0
        )

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        """Needed before requested before approved; the sooner the end, the higher."""
        if not self.is_open:
            return Priority(0, ())
        today = today or timezone.localdate()
        reasons: list[str] = []
        score = 60 if self.status == AuthStatus.NEEDED else 10
        score = 40 if self.status == AuthStatus.REQUESTED else score
        reasons.append(self.get_status_display().lower())
        if self.status == AuthStatus.APPROVED and self.valid_to is not None:
            left = (self.valid_to - today).days
            if left <= 14:
                score += 50 - max(left, 0) * 2
                reasons.append("expires today" if left <= 0 else f"expires in {left} days")
            if self.units_approved and self.units_left <= 1:
                score += 30
                reasons.append(f"{self.units_left} unit(s) left")
        if self.next_action_due is not None and self.next_action_due < today:
            late = (today - self.next_action_due).days
            score += min(late, 30)
            reasons.append(f"{late} days overdue")
        return Priority(score, tuple(reasons))


class AuthorizationActivity(models.Model):
    """One entry of an authorization's timeline (append-only)."""

    authorization = models.ForeignKey(
        PriorAuthorization, on_delete=models.CASCADE, related_name="activities"
    )
    kind = models.CharField(max_length=20, choices=AuthActivityKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "authorization activities"
        triggers = [append_only()]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.authorization}"
