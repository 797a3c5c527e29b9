"""Billing functions and their owners (SOPs, payer rules and escalations come later)."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from billing_ops.scoping import PracticeScopedQuerySet
from sops.choices import BillingFunctionKind


class BillingFunction(models.Model):
    """A billing function of a practice: owner, backup, turnaround and escalation contact."""

    practice_lookup = "practice"

    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.CASCADE, related_name="billing_functions"
    )
    kind = models.CharField(max_length=30, choices=BillingFunctionKind.choices)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    backup = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    turnaround_days = models.PositiveSmallIntegerField(default=2)
    escalation_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "kind"], name="one_function_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.practice}"
