"""Patient accounts: one account per patient (a work item while it has a balance to work),
its append-only ledger, follow-up attempts, and adjustment requests awaiting approval.

Balance = sum of the ledger's entries. Entries are never updated or deleted (a PostgreSQL
trigger refuses both); a mistake is corrected by a reversing entry. The account stores the
sum and the date of its oldest unpaid charge only as a cache for ranking and aging, written
by ``ar.ledger`` in the same transaction as the entry.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords

from ar.account_choices import (
    AccountAction,
    AccountStatus,
    AdjustmentKind,
    AdjustmentStatus,
    ApprovalAction,
    ContactChannel,
    EntryKind,
    PaymentMethod,
    aging_bucket,
)
from billing_ops.append_only import append_only
from billing_ops.scoping import PracticeScopedQuerySet
from work.models import Priority, WorkItem

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")
MAX_SCORE = 2_000_000_000


class PatientAccount(WorkItem):
    """A patient's account at one practice: open (a work item) while it has a balance or a
    credit to work, settled otherwise."""

    patient = models.OneToOneField(
        "practices.Patient", on_delete=models.PROTECT, related_name="billing_account"
    )
    status = models.CharField(
        max_length=10, choices=AccountStatus.choices, default=AccountStatus.SETTLED
    )
    next_action = models.CharField(max_length=30, choices=AccountAction.choices, blank=True)
    balance = models.DecimalField(**MONEY, default=ZERO)  # cache of sum(entries.amount)
    oldest_unpaid_on = models.DateField(null=True, blank=True)  # cache: the aging start
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["-priority", "-pk"]
        indexes = [models.Index(fields=["practice", "-priority", "-id"], name="account_rank")]

    def __str__(self) -> str:
        return f"Account {self.patient.account_number}"

    @property
    def is_open(self) -> bool:
        return self.status == AccountStatus.OPEN

    def age_days(self, today: dt.date | None = None) -> int | None:
        if self.oldest_unpaid_on is None:
            return None
        return max(((today or timezone.localdate()) - self.oldest_unpaid_on).days, 0)

    def aging_bucket(self, today: dt.date | None = None) -> str:
        return aging_bucket(self.age_days(today))

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        """Amount x age: a large balance that has waited long comes first."""
        amount = abs(self.balance)
        days = self.age_days(today) or 0
        if self.balance < 0:
            reasons = (f"${amount:,.2f} credit to refund",)
            return Priority(min(int(amount), MAX_SCORE), reasons)
        score = min(int(amount * max(days, 1)), MAX_SCORE)
        return Priority(score, (f"${amount:,.2f} owed", f"oldest charge {days} day(s) old"))


class LedgerEntry(models.Model):
    """One line of a patient's ledger: positive raises what the patient owes, negative
    lowers it. Append-only; ``reverses`` names the entry a reversal cancels."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    account = models.ForeignKey(PatientAccount, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=12, choices=EntryKind.choices)
    amount = models.DecimalField(**MONEY)
    entry_date = models.DateField()  # when it counts (a charge's aging starts here)
    method = models.CharField(max_length=6, choices=PaymentMethod.choices, blank=True)
    reference = models.CharField(max_length=80, blank=True)  # check number, card receipt
    memo = models.CharField(max_length=300, blank=True)
    # Where it came from: the remittance's claim payment (patient responsibility).
    claim_payment = models.ForeignKey(
        "ar.ClaimPayment", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    claim = models.ForeignKey(
        "claims.Claim", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversal"
    )
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    posted_at = models.DateTimeField(auto_now_add=True)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["account", "posted_at", "pk"]
        verbose_name_plural = "ledger entries"
        triggers = [append_only()]
        constraints = [
            # A claim payment's patient share is charged once.
            models.UniqueConstraint(
                fields=["claim_payment"],
                condition=models.Q(reverses__isnull=True),
                name="ledger_share_once",
            ),
            models.CheckConstraint(condition=~models.Q(amount=0), name="ledger_entry_not_zero"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount}"


class AccountActivity(models.Model):
    """The account's timeline: entries posted, follow-ups, next actions, requests."""

    account = models.ForeignKey(PatientAccount, on_delete=models.PROTECT, related_name="activities")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    kind = models.CharField(max_length=20)
    text = models.TextField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "account activities"
        triggers = [append_only()]

    def __str__(self) -> str:
        return self.text


class FollowUp(models.Model):
    """One follow-up attempt: who was contacted, what was discussed and agreed, the next
    step and its date (which become the account's next action)."""

    practice_lookup = "account__practice"

    account = models.ForeignKey(PatientAccount, on_delete=models.PROTECT, related_name="follow_ups")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    channel = models.CharField(max_length=10, choices=ContactChannel.choices)
    contact = models.CharField(max_length=120)  # "patient", "guarantor: spouse", ...
    discussed = models.TextField()
    agreed = models.TextField(blank=True)
    next_step = models.CharField(max_length=30, choices=AccountAction.choices)
    next_date = models.DateField()
    at = models.DateTimeField(auto_now_add=True)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-at", "-pk"]
        triggers = [append_only()]

    def __str__(self) -> str:
        return f"Follow-up with {self.contact}"


class AdjustmentRequest(WorkItem):
    """A write-off, small balance, hardship, refund or credit on a patient account: posted
    at once at or under the practice's threshold, else waiting for a manager (Approvals).
    An insurance write-off asked for by a denial above the threshold waits here too: it
    names the denial's write-off request instead of an account."""

    account = models.ForeignKey(
        PatientAccount,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjustment_requests",
    )
    write_off = models.OneToOneField(
        "denials.WriteOffRequest",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjustment_request",
    )
    kind = models.CharField(max_length=15, choices=AdjustmentKind.choices)
    amount = models.DecimalField(**MONEY)
    reason = models.CharField(max_length=500)
    status = models.CharField(
        max_length=10, choices=AdjustmentStatus.choices, default=AdjustmentStatus.PENDING
    )
    next_action = models.CharField(max_length=30, choices=ApprovalAction.choices, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.CharField(max_length=500, blank=True)  # why it was refused
    entry = models.OneToOneField(
        LedgerEntry, on_delete=models.PROTECT, null=True, blank=True, related_name="request"
    )
    history = HistoricalRecords()

    class Meta:
        ordering = ["-priority", "-pk"]
        constraints = [
            # A patient adjustment names its account; an insurance write-off its denial's.
            models.CheckConstraint(
                condition=models.Q(account__isnull=False, write_off__isnull=True)
                & ~models.Q(kind=AdjustmentKind.INSURANCE)
                | models.Q(
                    account__isnull=True, write_off__isnull=False, kind=AdjustmentKind.INSURANCE
                ),
                name="adjustment_account_or_write_off",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ${self.amount:,.2f}"

    @property
    def is_open(self) -> bool:
        return self.status == AdjustmentStatus.PENDING

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        """Dollars, more each day the request has waited."""
        today = today or timezone.localdate()
        asked = timezone.localdate(self.requested_at) if self.requested_at else today
        days = max((today - asked).days, 0)
        return Priority(
            min(int(self.amount) + 10 * days, MAX_SCORE),
            (f"${self.amount:,.2f} {self.get_kind_display().lower()}", f"waiting {days} day(s)"),
        )
