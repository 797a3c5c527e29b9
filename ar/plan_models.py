"""Payment plans: a patient agrees to pay (part of) their balance in installments.

A ``PaymentPlan`` is one agreement on one account (one active plan per account): the
total, the terms in words, the grace period after a due date before a missed installment
breaks the plan, and its status. Each ``Installment`` is an amount due on a date with what
has been paid toward it (patient payments posted on the ledger are applied oldest first by
``ar.plans``). A missed installment (past due, not fully paid) is a work item ("Missed
installment") until it is paid or the plan ends.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from billing_ops.scoping import PracticeScopedQuerySet
from work.choices import WAIT
from work.models import Priority, WorkItem

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")
DEFAULT_GRACE_DAYS = 10
MAX_SCORE = 2_000_000_000


class PlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    COMPLETED = "completed", "Completed"
    BROKEN = "broken", "Broken"
    CANCELLED = "cancelled", "Cancelled"


class InstallmentStatus(models.TextChoices):
    PENDING = "pending", "Scheduled"
    LATE = "late", "Missed (to work)"
    PAID = "paid", "Paid"
    MISSED = "missed", "Missed (plan broken)"
    VOID = "void", "Not due (plan ended)"


class InstallmentAction(models.TextChoices):
    CALL_PATIENT = "call_patient", "Call the patient about the missed installment"
    WAIT_ = WAIT, "Wait"


class PaymentPlan(models.Model):
    """One payment plan on one patient account."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(
        "ar.PatientAccount", on_delete=models.PROTECT, related_name="payment_plans"
    )
    total = models.DecimalField(**MONEY)
    status = models.CharField(max_length=10, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    terms = models.CharField(max_length=500, blank=True)  # what was agreed, in words
    grace_days = models.PositiveSmallIntegerField(default=DEFAULT_GRACE_DAYS)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    ended_at = models.DateTimeField(null=True, blank=True)
    end_reason = models.CharField(max_length=500, blank=True)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status="active"),
                name="one_active_plan_per_account",
            ),
            models.CheckConstraint(condition=models.Q(total__gt=0), name="plan_total_positive"),
        ]

    def __str__(self) -> str:
        return f"Plan PP-{self.pk}"

    @property
    def is_active(self) -> bool:
        return self.status == PlanStatus.ACTIVE


class Installment(WorkItem):
    """One installment of a plan; a work item while it is missed and the plan is active."""

    plan = models.ForeignKey(PaymentPlan, on_delete=models.PROTECT, related_name="installments")
    number = models.PositiveSmallIntegerField()
    amount = models.DecimalField(**MONEY)
    due_date = models.DateField()
    paid_amount = models.DecimalField(**MONEY, default=ZERO)
    status = models.CharField(
        max_length=10, choices=InstallmentStatus.choices, default=InstallmentStatus.PENDING
    )
    next_action = models.CharField(max_length=30, choices=InstallmentAction.choices, blank=True)
    missed_on = models.DateField(null=True, blank=True)  # when the daily job found it missed
    history = HistoricalRecords(excluded_fields=["locked_by", "locked_until", "priority_reasons"])

    class Meta:
        ordering = ["plan", "number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="installment_number_once"),
            models.CheckConstraint(
                condition=models.Q(amount__gt=0), name="installment_amount_positive"
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="installment_due")]

    def __str__(self) -> str:
        return f"Installment {self.number} of PP-{self.plan_id}"

    @property
    def is_open(self) -> bool:
        return self.status == InstallmentStatus.LATE

    @property
    def remaining(self) -> Decimal:
        return max(self.amount - self.paid_amount, ZERO)

    def days_late(self, today: dt.date | None = None) -> int:
        return max(((today or timezone.localdate()) - self.due_date).days, 0)

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        """Amount x days late: a large installment missed long ago comes first."""
        if not self.is_open:
            return Priority(0, ())
        days = self.days_late(today)
        score = min(int(self.remaining * max(days, 1)), MAX_SCORE)
        return Priority(score, (f"${self.remaining:,.2f} installment", f"{days} day(s) late"))
