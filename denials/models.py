"""Denials (a payer's no, worked to an outcome), their appeals, the code -> category map
managers edit, write-off approval requests and the official CARC/RARC texts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.db.models.functions import Coalesce
from simple_history.models import HistoricalRecords

from billing_ops.append_only import append_only
from billing_ops.scoping import PracticeScopedQuerySet
from denials import priority
from denials.choices import (
    ActivityKind,
    AppealLevel,
    AppealMethod,
    AppealOutcome,
    CodeKind,
    DenialCategory,
    DenialStatus,
    GroupCode,
    NextAction,
    Outcome,
    ProposalStatus,
    RootCause,
    Route,
    Source,
    WriteOffStatus,
)
from work.models import Priority, WorkItem

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")


class ReasonCode(models.Model):
    """The official text of a CARC or RARC, loaded from a file the practice licenses."""

    kind = models.CharField(max_length=4, choices=CodeKind.choices)
    code = models.CharField(max_length=10)
    official_text = models.TextField()
    loaded_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "code"], name="unique_reason_code")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.code}"


class CategoryRule(models.Model):
    """A manager's mapping of a CARC to a category (and route), for every payer of the
    practice or, as an override, for one payer."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    payer = models.ForeignKey(
        "practices.Payer", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    carc = models.CharField("CARC", max_length=10)
    category = models.CharField(max_length=20, choices=DenialCategory.choices)
    route = models.CharField(
        max_length=10, choices=Route.choices, blank=True, help_text="Blank: the category's."
    )
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                "practice", Coalesce("payer", 0), "carc", name="one_category_rule_per_code"
            )
        ]

    def __str__(self) -> str:
        return f"CARC {self.carc} → {self.get_category_display()}"


class Denial(WorkItem):
    """A payer's denial of a claim or one of its lines, worked to an outcome."""

    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="denials")
    line = models.ForeignKey(
        "claims.ClaimLine", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    group_code = models.CharField(max_length=2, choices=GroupCode.choices)
    carc = models.CharField("CARC", max_length=10)
    rarcs = models.JSONField("RARCs", default=list, blank=True)
    amount = models.DecimalField(**MONEY)
    received_on = models.DateField()
    category = models.CharField(max_length=20, choices=DenialCategory.choices)
    route = models.CharField(max_length=10, choices=Route.choices)
    appeal_deadline = models.DateField()
    root_cause = models.CharField(max_length=20, choices=RootCause.choices, blank=True)
    status = models.CharField(
        max_length=10, choices=DenialStatus.choices, default=DenialStatus.OPEN
    )
    outcome = models.CharField(max_length=30, choices=Outcome.choices, blank=True)
    amount_recovered = models.DecimalField(**MONEY, default=ZERO)
    next_action = models.CharField(max_length=30, choices=NextAction.choices, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.MANUAL)
    # What the denial came from (e.g. the remittance claim payment); part of the
    # idempotency key, so the same 835 posted twice opens one denial.
    source_ref = models.CharField(max_length=100, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords(excluded_fields=["locked_by", "locked_until", "priority_reasons"])

    class Meta:
        ordering = ["-received_on", "-pk"]
        constraints = [
            models.UniqueConstraint(
                "claim",
                Coalesce("line", 0),
                "group_code",
                "carc",
                "source_ref",
                name="one_denial_per_code_and_source",
            )
        ]
        indexes = [
            models.Index(fields=["practice", "status"]),
            models.Index(fields=["owner", "next_action_due"]),
            models.Index(fields=["practice", "-priority", "-id"], name="denial_queue_rank"),
        ]

    def __str__(self) -> str:
        return f"Denial D-{self.pk}"

    @property
    def number(self) -> str:
        return f"D-{self.pk}"

    @property
    def is_open(self) -> bool:
        return self.status == DenialStatus.OPEN

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        return priority.compute(self, today)


class DenialActivity(models.Model):
    """One entry of a denial's timeline, append-only like the claim's."""

    denial = models.ForeignKey(Denial, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    text = models.TextField(blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "denial activities"
        triggers = [append_only()]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.denial}"


class WriteOffRequest(models.Model):
    """A write-off above the practice's approval threshold, waiting for a manager."""

    practice_lookup = "denial__practice"

    denial = models.ForeignKey(Denial, on_delete=models.CASCADE, related_name="write_offs")
    amount = models.DecimalField(**MONEY)
    reason = models.CharField(max_length=500)
    status = models.CharField(
        max_length=10, choices=WriteOffStatus.choices, default=WriteOffStatus.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-requested_at", "-pk"]

    def __str__(self) -> str:
        return f"Write-off ${self.amount} on {self.denial}"


class Appeal(models.Model):
    """One appeal of a denial: level, how and when it was sent, its deadline and outcome."""

    practice_lookup = "denial__practice"

    denial = models.ForeignKey(Denial, on_delete=models.PROTECT, related_name="appeals")
    level = models.CharField(max_length=10, choices=AppealLevel.choices, default=AppealLevel.FIRST)
    method = models.CharField(max_length=10, choices=AppealMethod.choices, blank=True)
    sent_on = models.DateField(null=True, blank=True)
    deadline = models.DateField()
    outcome = models.CharField(max_length=10, choices=AppealOutcome.choices, blank=True)
    decided_on = models.DateField(null=True, blank=True)
    amount_recovered = models.DecimalField(**MONEY, default=ZERO)
    letter = models.TextField(blank=True)
    documents = models.ManyToManyField("claims.Attachment", blank=True, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["denial", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["denial", "level"], name="one_appeal_per_level")
        ]

    def __str__(self) -> str:
        return f"{self.get_level_display()} appeal of {self.denial}"


class RuleProposal(models.Model):
    """The closed loop: a payer x CARC x procedure denial pattern that keeps repeating,
    proposed as a scrubber payer rule until a manager confirms or dismisses it."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    payer = models.ForeignKey("practices.Payer", on_delete=models.CASCADE, related_name="+")
    carc = models.CharField("CARC", max_length=10)
    procedure_code = models.CharField(max_length=10)
    occurrences = models.PositiveIntegerField()
    first_seen = models.DateField()
    last_seen = models.DateField()
    status = models.CharField(
        max_length=10, choices=ProposalStatus.choices, default=ProposalStatus.PROPOSED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    payer_rule = models.ForeignKey(
        "claims.PayerRule", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["status", "-last_seen", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "payer", "carc", "procedure_code"],
                name="one_proposal_per_pattern",
            )
        ]

    def __str__(self) -> str:
        return f"{self.payer}: CARC {self.carc} on {self.procedure_code} ×{self.occurrences}"
