"""Denial categories, routes, next actions, outcomes and appeal constants."""

from django.db import models


class DenialCategory(models.TextChoices):
    """The ten internal categories of PRODUCT.md."""

    ELIGIBILITY = "eligibility", "Eligibility / coverage"
    AUTHORIZATION = "authorization", "Authorization / referral"
    CODING = "coding", "Coding"
    MEDICAL_NECESSITY = "medical_necessity", "Medical necessity"
    TIMELY_FILING = "timely_filing", "Timely filing"
    COB = "cob", "Coordination of benefits"
    MISSING_INFO = "missing_info", "Missing information / documentation"
    DUPLICATE = "duplicate", "Duplicate"
    NON_COVERED = "non_covered", "Non-covered / benefit limit"
    OTHER = "other", "Other"


class Route(models.TextChoices):
    """Who must act first: the practice (clinical documentation) or the billing team."""

    PRACTICE = "practice", "Practice: clinical documentation"
    BILLING = "billing", "Billing team: correction"


class GroupCode(models.TextChoices):
    """CAS group codes (who the adjustment is charged to)."""

    CO = "CO", "CO: contractual obligation"
    PR = "PR", "PR: patient responsibility"
    OA = "OA", "OA: other adjustment"
    PI = "PI", "PI: payer initiated"
    CR = "CR", "CR: correction or reversal"


class Source(models.TextChoices):
    MANUAL = "manual", "Entered by hand"
    ERA = "835", "835 remittance"


class DenialStatus(models.TextChoices):
    OPEN = "open", "Open"
    CLOSED = "closed", "Closed"


class NextAction(models.TextChoices):
    """A denial's next actions: the work core's tight list plus write-off."""

    WAIT = "wait", "Wait"
    CALL_PAYER = "call_payer", "Call payer"
    REQUEST_INFO_PRACTICE = "request_info_practice", "Request records from practice"
    REQUEST_INFO_PATIENT = "request_info_patient", "Request info from patient"
    CORRECT_AND_RESUBMIT = "correct_and_resubmit", "Correct and resubmit"
    APPEAL = "appeal", "Appeal"
    WRITE_OFF = "write_off", "Write off"


class Outcome(models.TextChoices):
    """How a denial ended."""

    PAID_AFTER_CORRECTION = "paid_after_correction", "Paid after correction"
    OVERTURNED = "overturned", "Overturned on appeal"
    PARTLY_OVERTURNED = "partly_overturned", "Partly overturned"
    UPHELD = "upheld", "Upheld"
    WRITTEN_OFF = "written_off", "Written off"
    BILLED_TO_PATIENT = "billed_to_patient", "Billed to patient"
    NOT_OURS = "not_ours", "Entered in error"


class RootCause(models.TextChoices):
    """Where the denial started (front-end failures are 15-30% of denials, seed 004)."""

    FRONT_DESK = "front_desk", "Front desk: registration / eligibility"
    CODING = "coding", "Coding"
    DOCUMENTATION = "documentation", "Clinical documentation"
    BILLING = "billing", "Billing / submission"
    PAYER = "payer", "Payer error"
    OTHER = "other", "Other"


class ActivityKind(models.TextChoices):
    CREATED = "created", "Opened"
    NEXT_ACTION = "next_action", "Next action"
    OWNER = "owner", "Owner change"
    NOTE = "note", "Note"
    RESUBMITTED = "resubmitted", "Corrected and resubmitted"
    APPEAL = "appeal", "Appeal"
    RECORDS = "records", "Records requested"
    WRITE_OFF = "write_off", "Write-off"
    CLOSED = "closed", "Closed"
    EDIT = "edit", "Edit"


class WriteOffStatus(models.TextChoices):
    PENDING = "pending", "Awaiting approval"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


class AppealLevel(models.TextChoices):
    FIRST = "1", "Level 1"
    SECOND = "2", "Level 2"
    EXTERNAL = "external", "External review"


class AppealMethod(models.TextChoices):
    PORTAL = "portal", "Payer portal"
    FAX = "fax", "Fax"
    MAIL = "mail", "Mail"
    EMAIL = "email", "E-mail"


class AppealOutcome(models.TextChoices):
    OVERTURNED = "overturned", "Overturned"
    PARTLY = "partly", "Partly overturned"
    UPHELD = "upheld", "Upheld"


class CodeKind(models.TextChoices):
    CARC = "carc", "CARC"
    RARC = "rarc", "RARC"


class ProposalStatus(models.TextChoices):
    PROPOSED = "proposed", "Proposed"
    CONFIRMED = "confirmed", "Confirmed"
    DISMISSED = "dismissed", "Dismissed"
