"""Roles, service areas and reference-data choices for tenants and people."""

from django.db import models


class Role(models.TextChoices):
    FRONT_DESK = "front_desk", "Front desk"
    BILLER = "biller", "Biller"
    PRACTICE_MANAGER = "practice_manager", "Practice manager"


class ServiceArea(models.TextChoices):
    INSURANCE_BILLING = "insurance_billing", "Insurance billing"
    PATIENT_BILLING = "patient_billing", "Patient billing"
    INSURANCE_VERIFICATION = "insurance_verification", "Insurance verification"
    RECARE = "recare", "Recare"


class CobOrder(models.IntegerChoices):
    PRIMARY = 1, "Primary"
    SECONDARY = 2, "Secondary"
    TERTIARY = 3, "Tertiary"


class ClaimFormat(models.TextChoices):
    PROFESSIONAL = "837P", "837P (professional)"
    DENTAL = "837D", "837D (dental)"
    PAPER = "paper", "Paper"


class PracticeKind(models.TextChoices):
    MEDICAL = "medical", "Medical"
    DENTAL = "dental", "Dental"


class Relationship(models.TextChoices):
    SELF = "self", "Self"
    SPOUSE = "spouse", "Spouse"
    CHILD = "child", "Child"
    OTHER = "other", "Other"


class AppointmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", "Scheduled"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"
    NO_SHOW = "no_show", "No-show"


class AccessAction(models.TextChoices):
    VIEW = "view", "Viewed"
    EXPORT = "export", "Exported"
    API = "api", "Read through the API"
