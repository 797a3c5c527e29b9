"""The monthly mini-audit: ten denied or delayed claims of last month, the root cause of each.

A ``MiniAudit`` is one practice's audit of one month, a work item for its reviewer (the
denial follow-up function's owner, else coding review's, else a manager) until every
sampled claim (``MiniAuditClaim``) has a root cause. Each root cause belongs to a billing
function (``ROOT_CAUSE_FUNCTION``): the entry keeps that function and its owner at the
time of recording, so the results add up per function and owner (as QA reviews do).

The root causes are defined here, not taken from ``denials`` (sops sits beside denials
and may not import it); they name what went wrong in the practice's work, not the
payer's code.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from billing_ops.scoping import PracticeScopedQuerySet
from sops.choices import BillingFunctionKind, QaStatus
from work.models import Priority, WorkItem

SAMPLE_SIZE = 10
DELAYED_AFTER_DAYS = 30  # submitted and unpaid longer than this at the month's end


class AuditReason(models.TextChoices):
    DENIED = "denied", "Denied"
    DELAYED = "delayed", "Delayed (unpaid)"


class RootCause(models.TextChoices):
    REGISTRATION = "registration", "Patient or subscriber data wrong"
    ELIGIBILITY = "eligibility", "Coverage not verified or inactive"
    AUTHORIZATION = "authorization", "Prior authorization missing"
    CODING = "coding", "Coding (procedure, diagnosis, modifier)"
    DOCUMENTATION = "documentation", "Attachment or documentation missing"
    PAYER_RULE = "payer_rule", "Payer house rule not followed"
    LATE_FILING = "late_filing", "Submitted late"
    NO_FOLLOW_UP = "no_follow_up", "No follow-up in time"
    POSTING = "posting", "Payment posted wrong or not at all"
    PAYER_ERROR = "payer_error", "Payer error"
    OTHER = "other", "Other (say what)"


# Which billing function a root cause belongs to (None: nobody at the practice).
ROOT_CAUSE_FUNCTION: dict[str, str | None] = {
    RootCause.REGISTRATION: BillingFunctionKind.CHARGE_CAPTURE,
    RootCause.ELIGIBILITY: BillingFunctionKind.ELIGIBILITY,
    RootCause.AUTHORIZATION: BillingFunctionKind.ELIGIBILITY,
    RootCause.CODING: BillingFunctionKind.CODING_REVIEW,
    RootCause.DOCUMENTATION: BillingFunctionKind.CLAIM_SUBMISSION,
    RootCause.PAYER_RULE: BillingFunctionKind.CLAIM_SUBMISSION,
    RootCause.LATE_FILING: BillingFunctionKind.CLAIM_SUBMISSION,
    RootCause.NO_FOLLOW_UP: BillingFunctionKind.CLAIM_FOLLOW_UP,
    RootCause.POSTING: BillingFunctionKind.PAYMENT_POSTING,
    RootCause.PAYER_ERROR: None,
    RootCause.OTHER: None,
}


class MiniAuditAction(models.TextChoices):
    WAIT = "wait", "Wait"
    AUDIT = "audit", "Record the root causes"


class MiniAudit(WorkItem):
    """One practice's mini-audit of one month."""

    month = models.CharField(max_length=7)  # "2026-11": the month audited
    function = models.ForeignKey(
        "sops.BillingFunction", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=QaStatus.choices, default=QaStatus.OPEN)
    next_action = models.CharField(max_length=30, choices=MiniAuditAction.choices, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords(excluded_fields=["locked_by", "locked_until", "priority_reasons"])

    class Meta:
        ordering = ["-month", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "month"], name="one_mini_audit_per_practice_month"
            )
        ]

    def __str__(self) -> str:
        return f"Mini-audit A-{self.pk} of {self.month}"

    @property
    def is_open(self) -> bool:
        return self.status == QaStatus.OPEN

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        today = today or timezone.localdate()
        if not self.is_open or self.next_action_due is None:
            return Priority(0, ())
        late = max((today - self.next_action_due).days, 0)
        return Priority(40 + late * 5, (f"Mini-audit of {self.month}",))


class MiniAuditClaim(models.Model):
    """One sampled claim of a mini-audit and its root cause once recorded."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    audit = models.ForeignKey(MiniAudit, on_delete=models.CASCADE, related_name="entries")
    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="+")
    reason = models.CharField(max_length=10, choices=AuditReason.choices)
    root_cause = models.CharField(max_length=20, choices=RootCause.choices, blank=True)
    note = models.CharField(max_length=500, blank=True)
    # The function the root cause belongs to and its owner when it was recorded.
    function = models.ForeignKey(
        "sops.BillingFunction", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    function_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    recorded_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["audit", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["audit", "claim"], name="one_entry_per_audit_claim")
        ]

    def __str__(self) -> str:
        return f"{self.audit}: claim {self.claim_id}"
