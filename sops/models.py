"""Billing functions and their owners; SOPs, their versions and sign-offs live in
``sops.sop_models`` (imported at the end so Django registers them with this app)."""

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from billing_ops.scoping import PracticeScopedQuerySet
from sops.choices import BillingFunctionKind, Sourcing


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
    sourcing = models.CharField(
        "in-house or vendor", max_length=10, choices=Sourcing.choices, default=Sourcing.IN_HOUSE
    )
    # How to reach the owner for this function ("ext. 214, 8-4 weekdays", a shared inbox).
    how_to_reach = models.CharField(max_length=300, blank=True)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "kind"], name="one_function_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} at {self.practice}"


from sops.access_review_models import AccessReview, AccessReviewLine  # noqa: E402
from sops.escalation_models import Escalation  # noqa: E402
from sops.qa_audit_models import MiniAudit, MiniAuditClaim  # noqa: E402
from sops.qa_models import QaPlan, QaReview  # noqa: E402
from sops.rule_models import HouseRule, HouseRuleReview  # noqa: E402
from sops.sop_models import Sop, SopSignOff, SopSignOffRequest, SopVersion  # noqa: E402

__all__ = [
    "AccessReview",
    "AccessReviewLine",
    "BillingFunction",
    "Escalation",
    "HouseRule",
    "HouseRuleReview",
    "MiniAudit",
    "MiniAuditClaim",
    "QaPlan",
    "QaReview",
    "Sop",
    "SopSignOff",
    "SopSignOffRequest",
    "SopVersion",
]
