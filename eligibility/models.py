"""Eligibility checks: one per appointment and coverage, verified before the visit.

A check is a work item (``docs/work-items.md``): created at T-72 h by the beat job
(``eligibility.services.checks_for_upcoming``), due then, with its target at T-24 h. Its
result (``eligibility.results.CheckResult``, from the check page or a 271) is recorded by
``eligibility.services.check_record_result``: active closes it; inactive or needs info sets
the next action "request info from patient" and flags the appointment.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from billing_ops.append_only import append_only
from eligibility import priority
from eligibility.choices import (
    PROBLEM_OUTCOMES,
    ActivityKind,
    CheckMethod,
    CheckOutcome,
    ClosedReason,
    NextAction,
)
from work.models import Priority, WorkItem

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2, "null": True, "blank": True}


class EligibilityCheck(WorkItem):
    """The verification of one coverage for one appointment, worked to a result."""

    appointment = models.ForeignKey(
        "practices.Appointment", on_delete=models.CASCADE, related_name="eligibility_checks"
    )
    coverage = models.ForeignKey(
        "practices.Coverage", on_delete=models.PROTECT, related_name="eligibility_checks"
    )
    payer = models.ForeignKey("practices.Payer", on_delete=models.PROTECT, related_name="+")
    due_at = models.DateTimeField(help_text="T-72 h: when the check should be started.")
    target_at = models.DateTimeField(help_text="T-24 h: when it should be done.")
    next_action = models.CharField(max_length=30, choices=NextAction.choices, blank=True)

    # The result (eligibility.results.CheckResult).
    status = models.CharField(
        max_length=12, choices=CheckOutcome.choices, default=CheckOutcome.NOT_DONE
    )
    method = models.CharField(max_length=10, choices=CheckMethod.choices, blank=True)
    plan_name = models.CharField(max_length=200, blank=True)
    group_number = models.CharField(max_length=40, blank=True)
    member_id = models.CharField(max_length=40, blank=True)
    reference = models.CharField("reference number", max_length=80, blank=True)
    copay = models.DecimalField(**MONEY)
    coinsurance_percent = models.DecimalField(max_digits=5, decimal_places=2, null=True, blank=True)
    deductible = models.DecimalField(**MONEY)
    deductible_remaining = models.DecimalField(**MONEY)
    annual_max_remaining = models.DecimalField(**MONEY)
    # [{"description": "Prophylaxis D1110: 2 per calendar year", "last_done": "2026-05-14"}]
    frequency_limits = models.JSONField(default=list, blank=True)
    problems = models.JSONField(default=list, blank=True)
    note = models.TextField(blank=True)
    raw = models.JSONField(default=dict, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closed_reason = models.CharField(max_length=10, choices=ClosedReason.choices, blank=True)
    history = HistoricalRecords(excluded_fields=["locked_by", "locked_until", "priority_reasons"])

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["appointment", "coverage"], name="one_check_per_appointment_coverage"
            )
        ]
        indexes = [
            models.Index(fields=["practice", "closed_at"]),
            models.Index(fields=["owner", "next_action_due"]),
            models.Index(fields=["practice", "-priority", "-id"], name="eligibility_queue_rank"),
        ]

    def __str__(self) -> str:
        return f"Eligibility check E-{self.pk}"

    @property
    def number(self) -> str:
        return f"E-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def flags_appointment(self) -> bool:
        """Inactive or needs info: the appointment row shows a flag until it is resolved."""
        return self.status in PROBLEM_OUTCOMES

    def appointment_starts_at(self) -> dt.datetime:
        return self.appointment.starts_at

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        return priority.compute(self, today)


class CheckActivity(models.Model):
    """One entry of a check's timeline (append-only)."""

    check_item = models.ForeignKey(
        EligibilityCheck, on_delete=models.CASCADE, related_name="activities"
    )
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "check activities"
        triggers = [append_only()]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.check_item}"


from eligibility.auth_models import AuthorizationActivity, PriorAuthorization  # noqa: E402, F401
from eligibility.recare_models import RecareActivity, RecareItem  # noqa: E402, F401
from eligibility.response_models import (  # noqa: E402, F401
    Eligibility270Export,
    EligibilityResponseImport,
    EligibilityResponseMember,
)
