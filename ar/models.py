"""Remittances (835 ERA or paper EOB): the batch, its claim and line payments, adjustments,
remarks, provider-level adjustments, and the unmatched-payment work item.

Money rows are append-only once posted (a PostgreSQL trigger refuses UPDATE and DELETE of a
row whose ``posted_at`` is set): a reversal posts new, negative rows instead. A claim payment
that waits for a person (unmatched) may still get its claim, once, when it is matched.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone

from ar.choices import (
    AdjustmentGroup,
    ClaimPaymentState,
    PaymentSource,
    RemittanceStatus,
    UnderpaymentAction,
    UnderpaymentStatus,
    UnmatchedAction,
    UnmatchedStatus,
)
from billing_ops.append_only import TRIGGER_NAME, append_only
from billing_ops.scoping import PracticeScopedQuerySet
from work.models import Priority, WorkItem

MONEY: dict[str, Any] = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")


def posted_rows_only() -> pgtrigger.Protect:
    """UPDATE and DELETE refused once a row is posted; rows waiting for a match may change."""
    return pgtrigger.Protect(
        name=TRIGGER_NAME,
        operation=pgtrigger.Update | pgtrigger.Delete,
        condition=pgtrigger.Q(old__posted_at__isnull=False),
    )


def remittance_path(instance: Remittance, filename: str) -> str:
    return f"remittances/{instance.practice_id}/{filename}"


class Remittance(models.Model):
    """One payment batch (an 835 transaction or a paper EOB) and what importing it did."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=10, choices=PaymentSource.choices)
    status = models.CharField(
        max_length=12, choices=RemittanceStatus.choices, default=RemittanceStatus.PENDING
    )
    dry_run = models.BooleanField(default=False)
    # TRN03 (the payer's id, "1" + EIN or a payer-assigned number) and TRN02 (check/EFT trace).
    payer_id = models.CharField(max_length=50, blank=True)
    trace = models.CharField(max_length=50, blank=True)
    payer_name = models.CharField(max_length=200, blank=True)
    payee_name = models.CharField(max_length=200, blank=True)
    payee_npi = models.CharField(max_length=80, blank=True)
    method = models.CharField(max_length=3, blank=True)  # BPR04: ACH, CHK, NON, ...
    amount = models.DecimalField(**MONEY, null=True, blank=True)  # BPR02
    payment_date = models.DateField(null=True, blank=True)  # BPR16, when present
    file = models.FileField(upload_to=remittance_path, blank=True)
    filename = models.CharField(max_length=255, blank=True)
    file_hash = models.CharField(max_length=64, blank=True)  # sha256 of the file's bytes
    claim_count = models.PositiveIntegerField(default=0)
    posted_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    unmatched_count = models.PositiveIntegerField(default=0)
    # [{"level": "error", "segment": 30, "segment_id": "CAS_CO", "message": "..."}]
    entries = models.JSONField(default=list, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            # Exactly once: one posted batch per payer and trace number in a practice.
            models.UniqueConstraint(
                fields=["practice", "payer_id", "trace"],
                condition=models.Q(status="posted"),
                name="remittance_posted_once",
            ),
        ]

    def __str__(self) -> str:
        return f"Remittance {self.trace or self.filename or self.pk} ({self.status})"


class ClaimPayment(models.Model):
    """One claim of a remittance (CLP): what the payer did with it, and which claim it pays."""

    practice_lookup = "practice"

    # Both indexed by an index they lead: claim_payment_once_per_batch (remittance, ...) and
    # (practice, patient_control_number).
    remittance = models.ForeignKey(
        Remittance, on_delete=models.PROTECT, related_name="payments", db_index=False
    )
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    segment = models.PositiveIntegerField(default=0)  # the CLP's position in the file
    patient_control_number = models.CharField(max_length=50)  # CLP01, our claim number
    payer_claim_number = models.CharField(max_length=50, blank=True)  # CLP07
    status_code = models.CharField(max_length=2)  # CLP02: 1 primary, 4 denied, 22 reversal
    charge = models.DecimalField(**MONEY)
    paid = models.DecimalField(**MONEY)
    patient_responsibility = models.DecimalField(**MONEY)
    allowed = models.DecimalField(**MONEY, default=ZERO)
    adjusted = models.DecimalField(**MONEY, default=ZERO)  # adjustments other than PR
    filing_indicator = models.CharField(max_length=2, blank=True)  # CLP06
    patient_last_name = models.CharField(max_length=100, blank=True)
    patient_first_name = models.CharField(max_length=100, blank=True)
    member_id = models.CharField(max_length=80, blank=True)
    service_date_from = models.DateField(null=True, blank=True)
    service_date_to = models.DateField(null=True, blank=True)
    claim = models.ForeignKey(
        "claims.Claim", on_delete=models.PROTECT, null=True, blank=True, related_name="payments"
    )
    reversal_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversals"
    )
    state = models.CharField(max_length=10, choices=ClaimPaymentState.choices)
    problem = models.CharField(max_length=300, blank=True)  # why it was not posted
    posted_at = models.DateTimeField(null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["remittance", "segment", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["remittance", "patient_control_number", "payer_claim_number"],
                name="claim_payment_once_per_batch",
            ),
        ]
        indexes = [models.Index(fields=["practice", "patient_control_number"])]
        triggers = [posted_rows_only()]

    def __str__(self) -> str:
        return f"Payment for {self.patient_control_number}: {self.paid}"

    @property
    def is_reversal(self) -> bool:
        return self.status_code == "22"


class ServiceLinePayment(models.Model):
    """One service line of a claim payment (SVC) with its dates and the claim line it pays."""

    payment = models.ForeignKey(ClaimPayment, on_delete=models.PROTECT, related_name="lines")
    segment = models.PositiveIntegerField(default=0)
    procedure_code = models.CharField(max_length=10)
    modifiers = models.JSONField(default=list, blank=True)
    charge = models.DecimalField(**MONEY)
    paid = models.DecimalField(**MONEY)
    allowed = models.DecimalField(**MONEY, default=ZERO)
    patient_responsibility = models.DecimalField(**MONEY, default=ZERO)
    units = models.DecimalField(max_digits=9, decimal_places=2, default=Decimal("1"))
    service_date_from = models.DateField(null=True, blank=True)
    service_date_to = models.DateField(null=True, blank=True)
    claim_line = models.ForeignKey(
        "claims.ClaimLine", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # Contracted allowed (fee schedule) minus paid and patient share, when that is above 0.
    underpaid_by = models.DecimalField(**MONEY, null=True, blank=True)
    posted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["payment", "segment", "pk"]
        triggers = [posted_rows_only()]

    def __str__(self) -> str:
        return f"{self.procedure_code}: {self.paid}"


class Adjustment(models.Model):
    """A CAS adjustment of a claim payment (``line`` empty) or of one of its lines."""

    payment = models.ForeignKey(ClaimPayment, on_delete=models.PROTECT, related_name="adjustments")
    line = models.ForeignKey(
        ServiceLinePayment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="adjustments",
    )
    segment = models.PositiveIntegerField(default=0)
    group = models.CharField(max_length=2, choices=AdjustmentGroup.choices)
    reason_code = models.CharField("CARC", max_length=5)
    amount = models.DecimalField(**MONEY)
    quantity = models.DecimalField(max_digits=9, decimal_places=2, null=True, blank=True)

    class Meta:
        ordering = ["payment", "segment", "pk"]
        triggers = [append_only()]

    def __str__(self) -> str:
        return f"{self.group}-{self.reason_code} {self.amount}"


class Remark(models.Model):
    """A remittance advice remark code (RARC) from MOA, MIA or a line's LQ."""

    payment = models.ForeignKey(ClaimPayment, on_delete=models.PROTECT, related_name="remarks")
    line = models.ForeignKey(
        ServiceLinePayment, on_delete=models.PROTECT, null=True, blank=True, related_name="remarks"
    )
    segment = models.PositiveIntegerField(default=0)
    source = models.CharField(max_length=3)  # MOA, MIA, LQ
    code = models.CharField(max_length=10)

    class Meta:
        ordering = ["payment", "segment", "pk"]
        triggers = [append_only()]

    def __str__(self) -> str:
        return self.code


class ProviderAdjustment(models.Model):
    """A PLB entry: interest, a recoupment or offset, a forward balance (positive = withheld)."""

    remittance = models.ForeignKey(
        Remittance, on_delete=models.PROTECT, related_name="provider_adjustments"
    )
    segment = models.PositiveIntegerField(default=0)
    provider_identifier = models.CharField(max_length=50)  # PLB01
    fiscal_period_date = models.DateField(null=True, blank=True)  # PLB02
    reason_code = models.CharField(max_length=2)  # PLB03-1: L6 interest, WO, FB, ...
    reference = models.CharField(max_length=50, blank=True)  # PLB03-2
    amount = models.DecimalField(**MONEY)

    class Meta:
        ordering = ["remittance", "segment", "pk"]
        triggers = [append_only()]

    def __str__(self) -> str:
        return f"PLB {self.reason_code} {self.amount}"


class UnmatchedRemittance(WorkItem):
    """A claim payment that could not be posted by itself (no claim, or charge or patient
    differ): a person matches it to a claim by hand, or marks it not ours."""

    payment = models.OneToOneField(ClaimPayment, on_delete=models.PROTECT, related_name="unmatched")
    status = models.CharField(
        max_length=10, choices=UnmatchedStatus.choices, default=UnmatchedStatus.OPEN
    )
    next_action = models.CharField(max_length=30, choices=UnmatchedAction.choices, blank=True)
    reason = models.CharField(max_length=300)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-priority", "-pk"]
        indexes = [models.Index(fields=["practice", "-priority", "-id"], name="unmatched_rank")]

    def __str__(self) -> str:
        return f"Unmatched payment {self.payment.patient_control_number}"

    @property
    def is_open(self) -> bool:
        return self.status == UnmatchedStatus.OPEN

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        """Money first (every dollar waits on this), then how long it has waited."""
        today = today or timezone.localdate()
        amount = abs(self.payment.paid)
        created = timezone.localdate(self.created_at) if self.created_at else today
        days = max((today - created).days, 0)
        reasons = [f"${amount:,.2f} paid", f"waiting {days} day(s)"]
        return Priority(int(amount) + 10 * days, tuple(reasons))


class UnmatchedActivity(models.Model):
    """The timeline of an unmatched payment: who set what, matched it or marked it."""

    item = models.ForeignKey(
        UnmatchedRemittance, on_delete=models.CASCADE, related_name="activities"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    kind = models.CharField(max_length=20)
    text = models.TextField()
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "unmatched activities"
        triggers = [append_only()]

    def __str__(self) -> str:
        return self.text


class Underpayment(WorkItem):
    """A posted line paid below the payer's fee schedule: appeal it before the payer's
    appeal window closes, or accept it."""

    line = models.OneToOneField(
        ServiceLinePayment, on_delete=models.PROTECT, related_name="underpayment"
    )
    claim = models.ForeignKey("claims.Claim", on_delete=models.PROTECT, related_name="+")
    contracted = models.DecimalField(**MONEY)
    received = models.DecimalField(**MONEY)  # paid + patient responsibility
    amount = models.DecimalField(**MONEY)
    appeal_deadline = models.DateField()
    status = models.CharField(
        max_length=10, choices=UnderpaymentStatus.choices, default=UnderpaymentStatus.OPEN
    )
    next_action = models.CharField(max_length=30, choices=UnderpaymentAction.choices, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-priority", "-pk"]

    def __str__(self) -> str:
        return f"Underpaid by ${self.amount:,.2f} ({self.line.procedure_code})"

    @property
    def is_open(self) -> bool:
        return self.status == UnderpaymentStatus.OPEN

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        """Dollars, more as the appeal deadline comes closer."""
        today = today or timezone.localdate()
        days = (self.appeal_deadline - today).days
        urgency = max(0, 90 - days)
        return Priority(
            int(self.amount) + 5 * urgency,
            (f"${self.amount:,.2f} underpaid", f"appeal window closes in {days} day(s)"),
        )


# 277CA acknowledgements live in their own module; imported here so Django registers them.
from ar.ack_models import Acknowledgement, ClaimAcknowledgement  # noqa: E402, F401

# Patient accounts (ledger, follow-ups, adjustment requests) live in their own module.
from ar.ledger_models import (  # noqa: E402, F401
    AccountActivity,
    AdjustmentRequest,
    FollowUp,
    LedgerEntry,
    PatientAccount,
)

# Payment plans and their installments (a missed installment is a work item).
from ar.plan_models import Installment, PaymentPlan  # noqa: E402, F401
from ar.statement_models import Dispute, Statement, StatementCycle  # noqa: E402, F401
