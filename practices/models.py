"""Tenants (practices, vendors), the people who work for them, and per-practice reference data."""

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Self

from django.conf import settings
from django.contrib.auth.models import User
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django_otp.models import Device
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase
from simple_history import register as register_history
from simple_history.models import HistoricalRecords

from billing_ops.append_only import append_only
from billing_ops.scoping import PracticeScopedQuerySet
from practices.choices import (
    AccessAction,
    AppointmentStatus,
    ClaimFormat,
    CobOrder,
    PracticeKind,
    Relationship,
    Role,
    ServiceArea,
)
from practices.permissions import CUSTOM_PERMISSIONS

npi_format = RegexValidator(r"^\d{10}$", "An NPI is exactly 10 digits.")
MONEY = {"max_digits": 12, "decimal_places": 2}


class Practice(models.Model):
    """A medical or dental practice: the tenant every record belongs to."""

    practice_lookup = "pk"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    kind = models.CharField(max_length=20, choices=PracticeKind.choices)
    group_npi = models.CharField(max_length=10, blank=True, validators=[npi_format])
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = CUSTOM_PERMISSIONS

    def __str__(self) -> str:
        return self.name


class PracticeUserPermission(UserObjectPermissionBase):
    """Direct-FK guardian table: a user's permission on one practice."""

    content_object = models.ForeignKey(Practice, on_delete=models.CASCADE)
    # The last day the row is in force (an assignment's or engagement's end date); null:
    # no end. billing_ops.access ignores rows past it.
    valid_until = models.DateField(null=True, blank=True)

    class Meta(UserObjectPermissionBase.Meta):
        abstract = False


class PracticeGroupPermission(GroupObjectPermissionBase):
    """Direct-FK guardian table for groups (unused by access derivation, kept for guardian)."""

    content_object = models.ForeignKey(Practice, on_delete=models.CASCADE)

    class Meta(GroupObjectPermissionBase.Meta):
        abstract = False


class Vendor(models.Model):
    """An outsourced billing company that serves one or more practices."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=80, unique=True)
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class VendorStaff(models.Model):
    """A user who works for a vendor; leads may see the vendor's KPIs."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vendor_staff"
    )
    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="staff")
    is_lead = models.BooleanField(default=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name_plural = "vendor staff"

    def __str__(self) -> str:
        return f"{self.user} ({self.vendor})"


class EngagementQuerySet(PracticeScopedQuerySet["Engagement"]):
    def in_force(self, day: dt.date) -> Self:
        """Engagements started on or before ``day`` and not ended before it."""
        return self.filter(starts_on__lte=day).filter(
            models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=day)
        )


class AssignmentQuerySet(PracticeScopedQuerySet["Assignment"]):
    def in_force(self, day: dt.date) -> Self:
        """Assignments not revoked and not ended before ``day`` (the engagement's own dates
        are its own: combine with ``EngagementQuerySet.in_force`` where they matter)."""
        return self.filter(revoked_at__isnull=True).filter(
            models.Q(ends_on__isnull=True) | models.Q(ends_on__gte=day)
        )


# Above these an adjustment or write-off (refund) waits for a practice manager: an
# engagement's own thresholds start here, and a practice without a live engagement uses them.
ADJUSTMENT_APPROVAL_THRESHOLD = Decimal("100.00")
REFUND_APPROVAL_THRESHOLD = Decimal("0.00")


class Engagement(models.Model):
    """A vendor engaged by a practice: the service areas in scope, contacts and thresholds."""

    practice_lookup = "practice"

    vendor = models.ForeignKey(Vendor, on_delete=models.PROTECT, related_name="engagements")
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="engagements")
    service_areas = models.JSONField(default=list)
    primary_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    backup_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    adjustment_approval_threshold = models.DecimalField(
        **MONEY, default=ADJUSTMENT_APPROVAL_THRESHOLD, validators=[MinValueValidator(Decimal("0"))]
    )
    refund_approval_threshold = models.DecimalField(
        **MONEY, default=REFUND_APPROVAL_THRESHOLD, validators=[MinValueValidator(Decimal("0"))]
    )
    starts_on = models.DateField()
    ends_on = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    objects = EngagementQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["vendor", "practice"], name="one_engagement_per_pair")
        ]

    def __str__(self) -> str:
        return f"{self.vendor} for {self.practice}"


class Membership(models.Model):
    """An in-house staff member's role at one practice."""

    practice_lookup = "practice"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=30, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    # Escalations skip a primary contact who is away and go to the backup.
    away_until = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "practice"], name="one_membership_per_practice")
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} at {self.practice}"


class Assignment(models.Model):
    """Vendor staff assigned to an engagement for a subset of its service areas."""

    practice_lookup = "engagement__practice"

    staff = models.ForeignKey(VendorStaff, on_delete=models.CASCADE, related_name="assignments")
    engagement = models.ForeignKey(Engagement, on_delete=models.CASCADE, related_name="assignments")
    service_areas = models.JSONField(default=list)
    ends_on = models.DateField(null=True, blank=True)
    # Who takes the person's open work at the practice over when the assignment ends by
    # date (named with the end date; handed over by the 15-minute job at the end).
    successor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    history = HistoricalRecords()

    objects = AssignmentQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "engagement"], name="one_assignment_per_engagement"
            )
        ]

    def __str__(self) -> str:
        return f"{self.staff.user} on {self.engagement}"

    def area_labels(self) -> list[str]:
        """The assigned service areas as people read them."""
        return [ServiceArea(area).label for area in self.service_areas]


class Payer(models.Model):
    """An insurance payer as one practice deals with it."""

    practice_lookup = "practice"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="payers")
    name = models.CharField(max_length=200)
    payer_id = models.CharField("electronic payer id", max_length=20)
    timely_filing_days = models.PositiveIntegerField(default=90)
    appeal_window_days = models.PositiveIntegerField(default=180)
    claim_format = models.CharField(max_length=10, choices=ClaimFormat.choices)
    portal_url = models.URLField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "payer_id"], name="unique_payer_id")
        ]

    def __str__(self) -> str:
        return self.name


class Provider(models.Model):
    """A rendering or billing provider of a practice."""

    practice_lookup = "practice"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="providers")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    npi = models.CharField("NPI", max_length=10, validators=[npi_format])
    taxonomy_code = models.CharField(max_length=10, blank=True)
    is_active = models.BooleanField(default=True)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "npi"], name="unique_provider_npi")
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Patient(models.Model):
    """A patient's minimal demographics (the PMS stays the source of truth)."""

    practice_lookup = "practice"

    # Indexed by unique_patient_account and the name index, both led by the practice.
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="patients", db_index=False
    )
    account_number = models.CharField(max_length=40)
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField()
    phone = models.CharField(max_length=30, blank=True)
    email = models.EmailField(blank=True)
    address_line = models.CharField(max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["last_name", "first_name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "account_number"], name="unique_patient_account"
            )
        ]
        indexes = [models.Index(fields=["practice", "last_name", "first_name"])]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name}"


class Coverage(models.Model):
    """A patient's insurance policy with its coordination-of-benefits order."""

    practice_lookup = "practice"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    # Indexed by one_coverage_per_order (patient, cob_order).
    patient = models.ForeignKey(
        Patient, on_delete=models.CASCADE, related_name="coverages", db_index=False
    )
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverages")
    member_id = models.CharField(max_length=40, blank=True)
    group_number = models.CharField(max_length=40, blank=True)
    subscriber_name = models.CharField(max_length=200)
    subscriber_relationship = models.CharField(
        max_length=10, choices=Relationship.choices, default=Relationship.SELF
    )
    cob_order = models.PositiveSmallIntegerField(choices=CobOrder.choices)
    effective_from = models.DateField(null=True, blank=True)
    effective_to = models.DateField(null=True, blank=True)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["patient", "cob_order"]
        constraints = [
            models.UniqueConstraint(fields=["patient", "cob_order"], name="one_coverage_per_order")
        ]

    def __str__(self) -> str:
        return f"{self.payer} ({self.get_cob_order_display()})"


class Appointment(models.Model):
    """A scheduled visit with its provider and planned procedure codes."""

    practice_lookup = "practice"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="appointments")
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="appointments")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="appointments")
    starts_at = models.DateTimeField()
    duration_minutes = models.PositiveSmallIntegerField(default=30)
    status = models.CharField(
        max_length=20, choices=AppointmentStatus.choices, default=AppointmentStatus.SCHEDULED
    )
    planned_procedures = models.JSONField(default=list, blank=True)
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["starts_at"]
        indexes = [models.Index(fields=["practice", "starts_at"])]

    def __str__(self) -> str:
        return f"{self.patient} at {self.starts_at:%Y-%m-%d %H:%M}"


class FeeScheduleLine(models.Model):
    """The contracted allowed amount for one procedure code with one payer."""

    practice_lookup = "practice"

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    payer = models.ForeignKey(Payer, on_delete=models.CASCADE, related_name="fee_schedule")
    procedure_code = models.CharField(max_length=10)
    modifier = models.CharField(max_length=2, blank=True)
    allowed_amount = models.DecimalField(**MONEY, validators=[MinValueValidator(Decimal("0"))])
    effective_from = models.DateField()
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["payer", "procedure_code", "modifier", "effective_from"],
                name="unique_fee_line",
            )
        ]

    def __str__(self) -> str:
        return f"{self.payer} {self.procedure_code}{self.modifier}: {self.allowed_amount}"


class PhiAccessLog(models.Model):
    """One row each time patient records are opened, listed or exported: who, where, what,
    when. A list (queue, search, export) is one row per practice naming the patients shown
    in ``patient_ids``; a single record also fills ``patient`` (``practices.phi_log``)."""

    practice_lookup = "practice"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="+", null=True, blank=True
    )
    # Ids only, never names: every patient the response showed (the one of ``patient`` too).
    patient_ids = models.JSONField(default=list, blank=True)
    # Which surface read them: "patient list", "claim page", "queue my-day", "claims API"...
    what = models.CharField(max_length=80, blank=True)
    action = models.CharField(max_length=10, choices=AccessAction.choices)
    path = models.CharField(max_length=300, blank=True)
    at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-at"]
        verbose_name = "PHI access log entry"
        verbose_name_plural = "PHI access log"
        # Append-only: the app's own connection cannot UPDATE or DELETE a row (PostgreSQL).
        triggers = [append_only()]

    def __str__(self) -> str:
        ids = self.patient_ids or ([self.patient_id] if self.patient_id else [])
        return f"{self.user} {self.action} patients {ids} at {self.at:%Y-%m-%d %H:%M}"


class Invite(models.Model):
    """A one-time link that creates an account with a role, or vendor staff with an
    assignment; only the SHA-256 of its token is stored (``practices.invites``)."""

    practice_lookup = "practice"

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    username = models.CharField(max_length=150)
    email = models.EmailField()
    first_name = models.CharField(max_length=150, blank=True)
    last_name = models.CharField(max_length=150, blank=True)
    # In-house: a role. Vendor staff: the engagement, its areas and the end date.
    role = models.CharField(max_length=30, choices=Role.choices, blank=True)
    engagement = models.ForeignKey(
        Engagement, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    service_areas = models.JSONField(default=list, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    expires_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    history = HistoricalRecords()

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Invite for {self.username} to {self.practice}"


class RecoveryCodeDevice(Device):
    """A second factor made of one-time recovery codes (``practices.recovery``): used at
    the MFA step instead of a TOTP code when the phone is lost."""

    def verify_token(self, token: str) -> bool:
        """Consume one unused code matching ``token``; False when none does."""
        used = self.codes.filter(code_hash=RecoveryCode.digest(token), used_at__isnull=True).update(
            used_at=timezone.now()
        )
        return bool(used)


class RecoveryCode(models.Model):
    """One recovery code of a device: only its SHA-256 is stored; used once."""

    device = models.ForeignKey(RecoveryCodeDevice, on_delete=models.CASCADE, related_name="codes")
    code_hash = models.CharField(max_length=64)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Recovery code of {self.device.user}"

    @staticmethod
    def digest(code: str) -> str:
        """The stored form of a code: SHA-256 of its letters, case, spaces and dashes
        ignored (codes carry 80 random bits, so a fast hash is enough)."""
        letters = "".join(ch for ch in str(code).lower() if ch.isalnum())
        return hashlib.sha256(letters.encode()).hexdigest()


class ApiToken(models.Model):
    """What the API token list shows about one knox token (``practices.tokens``): knox keeps
    only the token's hash and expiry; this row adds its name, how it was issued, its last
    use and its revocation, and outlives the knox row (deleted on revoke) as the record."""

    class Via(models.TextChoices):
        PAGE = "page", "Tokens page (MFA-verified, stepped up)"
        COMMAND = "command", "create_api_token command (service account)"
        MIGRATED = "migrated", "Migrated from the old plain-text tokens"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    token = models.OneToOneField(
        "knox.AuthToken", on_delete=models.SET_NULL, null=True, blank=True, related_name="record"
    )
    name = models.CharField(max_length=80)
    hint = models.CharField(max_length=8, help_text="The token's first characters.")
    via = models.CharField(max_length=10, choices=Via.choices)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    expires_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    revoke_reason = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"API token {self.name!r} of {self.user}"

    @property
    def is_live(self) -> bool:
        return (
            self.revoked_at is None
            and self.token_id is not None
            and (self.expires_at is None or self.expires_at > timezone.now())
        )


# Account changes (activation, deactivation) are audited like every domain model.
register_history(User, app="practices", table_name="practices_historicaluser")
