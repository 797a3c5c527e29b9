"""Claims with their lines, activity timeline, attachments, scrub findings and payer rules."""

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from billing_ops.append_only import append_only
from billing_ops.scoping import PracticeScopedQuerySet
from claims import priority
from claims.choices import (
    CLINICAL_ATTACHMENT_KINDS,
    FINAL_STATUSES,
    OPEN_STATUSES,
    ActivityKind,
    AttachmentKind,
    AttachmentStatus,
    ClaimStatus,
    EstimateStatus,
    FollowUpChannel,
    ImportKind,
    ImportStatus,
    NextAction,
    Severity,
    UnitBasis,
)
from practices.choices import ClaimFormat
from work.models import Priority, WorkItem

MONEY = {"max_digits": 12, "decimal_places": 2}
ZERO = Decimal("0.00")


class Claim(WorkItem):
    """One claim to one payer: money, status, and exactly one owner + next action while open."""

    patient = models.ForeignKey(
        "practices.Patient", on_delete=models.PROTECT, related_name="claims"
    )
    coverage = models.ForeignKey(
        "practices.Coverage", on_delete=models.PROTECT, related_name="claims"
    )
    payer = models.ForeignKey("practices.Payer", on_delete=models.PROTECT, related_name="claims")
    provider = models.ForeignKey(
        "practices.Provider", on_delete=models.PROTECT, related_name="claims"
    )
    pms_claim_number = models.CharField("PMS claim number", max_length=40)
    # The payer's own number for the claim (ICN/DCN), what a payer's phone agent asks for.
    payer_claim_number = models.CharField(max_length=50, blank=True)
    # Why the clearinghouse/payer rejected it (277CA STC codes and our wording).
    rejection_reason = models.CharField(max_length=300, blank=True)
    claim_format = models.CharField(max_length=10, choices=ClaimFormat.choices)
    # Empty on a claim imported without a date (no DTP*472): a draft the scrubber blocks.
    service_date_from = models.DateField(null=True, blank=True)
    service_date_to = models.DateField(null=True, blank=True)
    diagnosis_codes = models.JSONField(default=list, blank=True)

    status = models.CharField(max_length=20, choices=ClaimStatus.choices, default="draft")
    next_action = models.CharField(max_length=30, choices=NextAction.choices, blank=True)

    total_billed = models.DecimalField(**MONEY, default=ZERO)
    total_allowed = models.DecimalField(**MONEY, default=ZERO)
    total_paid = models.DecimalField(**MONEY, default=ZERO)
    patient_responsibility = models.DecimalField(**MONEY, default=ZERO)
    total_adjusted = models.DecimalField(**MONEY, default=ZERO)
    other_payer_paid = models.DecimalField(**MONEY, null=True, blank=True)

    timely_filing_deadline = models.DateField(null=True, blank=True)  # empty while undated
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    submission_count = models.PositiveSmallIntegerField(default=0)
    clean_at_first_submission = models.BooleanField(null=True, blank=True)
    accepted_on_first_submission = models.BooleanField(null=True, blank=True)
    follow_up_count = models.PositiveIntegerField(default=0)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    history = HistoricalRecords(
        excluded_fields=["locked_by", "locked_until", "updated_at", "priority", "priority_reasons"]
    )

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-service_date_from", "pk"]
        constraints = [
            # One PMS claim number may go to several payers (primary, then secondary).
            models.UniqueConstraint(
                fields=["practice", "pms_claim_number", "payer"],
                name="unique_pms_claim_number_payer",
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "status"]),
            models.Index(fields=["owner", "next_action_due"]),
            models.Index(fields=["practice", "-priority", "-id"], name="claim_queue_rank"),
            # "Work next" and My day: one owner's claims of a practice in rank order, so the
            # candidate query skips only that owner's held rows, not everybody's.
            models.Index(fields=["owner", "practice", "-priority", "-id"], name="claim_owner_rank"),
            # Unassigned: the owners of a practice's open claims, one index entry read per
            # owner (claims.unassigned); the condition is the open statuses' list.
            models.Index(
                fields=["practice", "owner"],
                condition=models.Q(status__in=sorted(OPEN_STATUSES)),
                name="claim_open_owner",
            ),
        ]

    def __str__(self) -> str:
        return f"Claim {self.pms_claim_number}"

    @property
    def is_open(self) -> bool:
        return self.status not in FINAL_STATUSES

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        return priority.compute(self, today)


class ClaimLine(models.Model):
    """A service line: procedure, modifiers, diagnosis pointers, tooth/surfaces, units, charge."""

    # Indexed by unique_line_number (claim, line_number): no index of its own to update.
    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="lines", db_index=False)
    line_number = models.PositiveSmallIntegerField()
    procedure_code = models.CharField(max_length=10)
    modifiers = models.JSONField(default=list, blank=True)
    diagnosis_pointers = models.JSONField(default=list, blank=True)
    tooth = models.CharField(max_length=4, blank=True)  # the first of ``teeth``
    surfaces = models.CharField(max_length=10, blank=True)
    # Every tooth of the line with its surfaces: [{"tooth": "31", "surfaces": "MO"}, ...].
    teeth = models.JSONField(default=list, blank=True)
    units = models.DecimalField(max_digits=7, decimal_places=2, default=Decimal("1"))
    unit_basis = models.CharField(max_length=2, choices=UnitBasis.choices, blank=True)
    charge = models.DecimalField(**MONEY)
    service_date = models.DateField(null=True, blank=True)
    service_date_to = models.DateField(null=True, blank=True)  # end of a date range (RD8)
    history = HistoricalRecords()

    class Meta:
        ordering = ["claim", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "line_number"], name="unique_line_number")
        ]

    def __str__(self) -> str:
        return f"{self.claim} line {self.line_number}: {self.procedure_code}"

    @property
    def all_teeth(self) -> list[dict[str, str]]:
        """Every tooth of the line (lines saved before ``teeth`` existed have one at most)."""
        if self.teeth:
            return list(self.teeth)
        return [{"tooth": self.tooth, "surfaces": self.surfaces}] if self.tooth else []


class Estimate(models.Model):
    """A pre-treatment estimate (dental predetermination, CLM19 = PB) or treatment plan:
    tracked with its lines, never a claim: not in A/R, not in the claim queues, not submitted."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    patient = models.ForeignKey("practices.Patient", on_delete=models.PROTECT, related_name="+")
    coverage = models.ForeignKey("practices.Coverage", on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey("practices.Payer", on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey("practices.Provider", on_delete=models.PROTECT, related_name="+")
    pms_claim_number = models.CharField("PMS claim number", max_length=40)
    status = models.CharField(
        max_length=10, choices=EstimateStatus.choices, default=EstimateStatus.REQUESTED
    )
    diagnosis_codes = models.JSONField(default=list, blank=True)
    # The planned lines as the claim services validate them (procedure, teeth, units, charge).
    lines = models.JSONField(default=list)
    total_billed = models.DecimalField(**MONEY, default=ZERO)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "pms_claim_number", "payer"], name="unique_estimate_number"
            ),
        ]

    def __str__(self) -> str:
        return f"Estimate {self.pms_claim_number}"


class ClaimActivity(models.Model):
    """One entry of a claim's timeline: status change, note, follow-up, next action, ..."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="activities")
    kind = models.CharField(max_length=20, choices=ActivityKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)
    text = models.TextField(blank=True)
    # Follow-up attempts (seed 001): who was contacted, how, what came of it, what next.
    channel = models.CharField(max_length=10, choices=FollowUpChannel.choices, blank=True)
    contact = models.CharField(max_length=200, blank=True)
    outcome = models.CharField(max_length=500, blank=True)
    next_step = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name_plural = "claim activities"
        # Append-only: the app's own connection cannot UPDATE or DELETE a row (PostgreSQL).
        triggers = [append_only()]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.claim} at {self.at:%Y-%m-%d %H:%M}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    return f"claims/{instance.claim.practice_id}/{instance.claim_id}/{filename}"


class Attachment(models.Model):
    """A document a payer needs with a claim; clinical kinds are visible to clinical roles only."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField(max_length=20, choices=AttachmentKind.choices)
    label = models.CharField(max_length=200)
    status = models.CharField(
        max_length=10, choices=AttachmentStatus.choices, default=AttachmentStatus.REQUESTED
    )
    file = models.FileField(upload_to=attachment_path, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.label}"

    @property
    def is_clinical(self) -> bool:
        return self.kind in CLINICAL_ATTACHMENT_KINDS


class PayerRule(models.Model):
    """A structured payer house rule: codes matching a pattern need an attachment, a modifier
    or a prior authorization."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    payer = models.ForeignKey("practices.Payer", on_delete=models.CASCADE, related_name="rules")
    procedure_code_pattern = models.CharField(
        max_length=20, help_text="A code or a prefix ending in *, e.g. D27* or 99213."
    )
    required_attachment = models.CharField(
        max_length=20, choices=AttachmentKind.choices, blank=True
    )
    required_modifier = models.CharField(max_length=2, blank=True)
    # The payer wants a prior authorization for these codes: eligibility's scrub rule
    # refuses a line without a valid approved one on the service date.
    needs_authorization = models.BooleanField(default=False)
    description = models.CharField(max_length=300)
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(
                    required_attachment="", required_modifier="", needs_authorization=False
                ),
                name="payer_rule_requires_something",
            )
        ]

    def __str__(self) -> str:
        return f"{self.payer}: {self.procedure_code_pattern} — {self.description}"

    def matches(self, code: str) -> bool:
        pattern = self.procedure_code_pattern.strip().upper()
        code = code.upper()
        return code.startswith(pattern[:-1]) if pattern.endswith("*") else code == pattern


class ScrubFinding(models.Model):
    """One result of scrubbing a claim; errors block "ready"."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="findings")
    rule = models.CharField(max_length=40)
    severity = models.CharField(max_length=10, choices=Severity.choices)
    message = models.CharField(max_length=300)
    line_number = models.PositiveSmallIntegerField(null=True, blank=True)
    found_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["severity", "line_number", "rule"]

    def __str__(self) -> str:
        return f"{self.severity}: {self.message}"


def import_path(instance: "ImportJob", filename: str) -> str:
    return f"imports/{instance.practice_id}/{filename}"


class ImportJob(models.Model):
    """One uploaded or dropped file being imported; progress and per-row results for the page."""

    practice_lookup = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+"
    )
    kind = models.CharField(max_length=20, choices=ImportKind.choices)
    file = models.FileField(upload_to=import_path)
    filename = models.CharField(max_length=255)
    column_mapping = models.JSONField(default=dict, blank=True)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(
        max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    rejected_count = models.PositiveIntegerField(default=0)
    # Claims on file that the file contradicts: left unchanged for a person to resolve.
    conflict_count = models.PositiveIntegerField(default=0)
    # [{"row": 3, "field": "charge", "message": "..."}] or {"segment": 14, ...} for X12
    errors = models.JSONField(default=list, blank=True)
    # What it created or changed, for the result's links (capped, see results.MAX_RECORDS):
    # [{"kind": "claim", "id": 12, "label": "C-500", "action": "created"}, ...]
    records = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename} ({self.get_status_display()})"


class ImportDigest(models.Model):
    """What the last 837 import said of a claim (``claims.imports.digests``): a hash of the
    claim's segments with their loops, the claim's version then, and a hash of the related
    facts an import compares (patient, coverage, provider, payer). A re-import skips a
    claim whose segments hash the same while its version and those facts are unchanged;
    anything else is compared the full way. A cache of the import, not a record: no
    history (the claim's own history names who changed it)."""

    claim = models.OneToOneField(
        Claim, on_delete=models.CASCADE, primary_key=True, related_name="import_digest"
    )
    # Indexed by claims_import_digest (practice, digest).
    practice = models.ForeignKey(
        "practices.Practice", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    digest = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    related = models.CharField(max_length=32)
    recorded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["practice", "digest"], name="claims_import_digest")]

    def __str__(self) -> str:
        return f"claim #{self.claim_id} digest {self.digest[:12]}"
