"""Patient statements: each practice's cycle (day of month, minimum balance) and the
statements a cycle produced, each an immutable record of what was on it."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from simple_history.models import HistoricalRecords

from ar.account_choices import DisputeStatus, DunningStage
from billing_ops.append_only import append_only
from billing_ops.scoping import PracticeScopedQuerySet

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}
DEFAULT_CYCLE_DAY = 1
DEFAULT_MINIMUM = Decimal("5.00")


class StatementCycle(models.Model):
    """A practice's statement run: on which day of the month, over which balance."""

    practice_lookup = "practice"

    practice = models.OneToOneField(
        "practices.Practice", on_delete=models.CASCADE, related_name="statement_cycle"
    )
    day_of_month = models.PositiveSmallIntegerField(
        default=DEFAULT_CYCLE_DAY, validators=[MinValueValidator(1), MaxValueValidator(28)]
    )
    minimum_balance = models.DecimalField(
        **MONEY, default=DEFAULT_MINIMUM, validators=[MinValueValidator(Decimal("0.01"))]
    )
    history = HistoricalRecords()  # who changed the cycle, when, from what

    objects = PracticeScopedQuerySet.as_manager()

    def __str__(self) -> str:
        return f"Statements on day {self.day_of_month} over ${self.minimum_balance}"


class Statement(models.Model):
    """One statement of one account in one cycle: the balance, stage, wording, address and
    lines as they were printed. Never changed (a trigger refuses UPDATE and DELETE)."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(
        "ar.PatientAccount", on_delete=models.PROTECT, related_name="statements"
    )
    cycle_date = models.DateField()
    due_date = models.DateField()
    stage = models.CharField(max_length=10, choices=DunningStage.choices)
    balance = models.DecimalField(**MONEY)
    oldest_unpaid_on = models.DateField(null=True, blank=True)
    wording = models.TextField()
    # {"name", "account_number", "address": [...]} and [{"date", "kind", "memo", "amount"}]
    recipient = models.JSONField(default=dict)
    lines = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-cycle_date", "-pk"]
        triggers = [append_only()]
        constraints = [
            # The same cycle twice makes no second statement.
            models.UniqueConstraint(
                fields=["account", "cycle_date"], name="statement_once_per_cycle"
            )
        ]

    def __str__(self) -> str:
        return f"Statement {self.cycle_date:%m/%d/%Y} (${self.balance:,.2f})"


class Dispute(models.Model):
    """A patient disputes their balance: statements hold until it is resolved."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(
        "ar.PatientAccount", on_delete=models.PROTECT, related_name="disputes"
    )
    reason = models.CharField(max_length=500)
    status = models.CharField(
        max_length=10, choices=DisputeStatus.choices, default=DisputeStatus.OPEN
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    opened_at = models.DateTimeField(auto_now_add=True)
    resolution = models.CharField(max_length=500, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["account"],
                condition=models.Q(status="open"),
                name="one_open_dispute_per_account",
            )
        ]

    def __str__(self) -> str:
        return f"Dispute: {self.reason[:60]}"
