"""Claim statuses, next actions, activity kinds, attachments and scrub severities."""

from django.db import models


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    READY = "ready", "Ready"
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted"
    REJECTED = "rejected", "Rejected"
    IN_ADJUDICATION = "in_adjudication", "In adjudication"
    PAID = "paid", "Paid"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    DENIED = "denied", "Denied"
    APPEALED = "appealed", "Appealed"
    CLOSED = "closed", "Closed"
    VOID = "void", "Void"


S = ClaimStatus
# The status machine of PRODUCT.md: status -> statuses it may move to.
TRANSITIONS: dict[str, frozenset[str]] = {
    S.DRAFT: frozenset({S.READY, S.VOID}),
    S.READY: frozenset({S.SUBMITTED, S.DRAFT, S.VOID}),
    S.SUBMITTED: frozenset({S.ACCEPTED, S.REJECTED}),
    S.REJECTED: frozenset({S.DRAFT, S.VOID}),
    S.ACCEPTED: frozenset({S.IN_ADJUDICATION, S.PAID, S.PARTIALLY_PAID, S.DENIED}),
    S.IN_ADJUDICATION: frozenset({S.PAID, S.PARTIALLY_PAID, S.DENIED}),
    S.PAID: frozenset({S.CLOSED}),
    S.PARTIALLY_PAID: frozenset({S.APPEALED, S.CLOSED}),
    S.DENIED: frozenset({S.APPEALED, S.CLOSED}),
    S.APPEALED: frozenset({S.PAID, S.PARTIALLY_PAID, S.DENIED, S.CLOSED}),
    S.CLOSED: frozenset(),
    S.VOID: frozenset(),
}
FINAL_STATUSES = frozenset({S.CLOSED, S.VOID})
OPEN_STATUSES = frozenset(set(S.values) - FINAL_STATUSES)
# Not yet with the payer: a PMS re-import may still change them, the timely-filing
# deadline can still be lost on them, and it weighs in their priority.
UNSUBMITTED_STATUSES = frozenset({S.DRAFT, S.READY, S.REJECTED})
# Submitted to the payer and not yet resolved: the payer AR queue.
PAYER_AR_STATUSES = frozenset(
    {S.SUBMITTED, S.ACCEPTED, S.IN_ADJUDICATION, S.PARTIALLY_PAID, S.DENIED, S.APPEALED}
)


class NextAction(models.TextChoices):
    WAIT = "wait", "Wait"
    # A new draft: nothing was sent yet, so nothing is to be "corrected" (issue 9).
    PREPARE_AND_SUBMIT = "prepare_and_submit", "Prepare and submit"
    CALL_PAYER = "call_payer", "Call payer"
    REQUEST_INFO_PRACTICE = "request_info_practice", "Request info from practice"
    REQUEST_INFO_PATIENT = "request_info_patient", "Request info from patient"
    CORRECT_AND_RESUBMIT = "correct_and_resubmit", "Correct and resubmit"
    APPEAL = "appeal", "Appeal"
    POST_AND_CLOSE = "post_and_close", "Post and close"
    # A draft for the secondary payer after the primary paid (posting creates it).
    SUBMIT_TO_SECONDARY = "submit_to_secondary", "Submit to secondary"


class ActivityKind(models.TextChoices):
    CREATED = "created", "Created"
    STATUS = "status", "Status change"
    NOTE = "note", "Note"
    FOLLOW_UP = "follow_up", "Follow-up attempt"
    NEXT_ACTION = "next_action", "Next action"
    OWNER = "owner", "Owner change"
    ATTACHMENT = "attachment", "Attachment"
    EDIT = "edit", "Edit"


class FollowUpChannel(models.TextChoices):
    PHONE = "phone", "Phone"
    PORTAL = "portal", "Payer portal"
    EMAIL = "email", "E-mail"
    FAX = "fax", "Fax"
    MAIL = "mail", "Mail"


class AttachmentKind(models.TextChoices):
    NARRATIVE = "narrative", "Narrative"
    EOB = "eob", "EOB"
    XRAY = "xray", "X-ray / image"
    PERIO_CHART = "perio_chart", "Perio chart"
    REFERRAL = "referral", "Referral"
    SIGNED_FORM = "signed_form", "Signed form"


# Clinical kinds are hidden from roles without view_clinical_attachments.
CLINICAL_ATTACHMENT_KINDS = frozenset(
    {AttachmentKind.NARRATIVE, AttachmentKind.XRAY, AttachmentKind.PERIO_CHART}
)


class AttachmentStatus(models.TextChoices):
    REQUESTED = "requested", "Requested"
    RECEIVED = "received", "Received"
    SENT = "sent", "Sent"


class Severity(models.TextChoices):
    ERROR = "error", "Error"
    WARNING = "warning", "Warning"


class EstimateStatus(models.TextChoices):
    """A pre-treatment estimate's life: sent to the payer, answered, or no longer wanted."""

    REQUESTED = "requested", "Requested"
    ANSWERED = "answered", "Answered"
    WITHDRAWN = "withdrawn", "Withdrawn"


class UnitBasis(models.TextChoices):
    """What a line's units count (837P SV103)."""

    UNITS = "UN", "Units"
    MINUTES = "MJ", "Minutes"


class ImportKind(models.TextChoices):
    CSV_PATIENTS = "csv_patients", "CSV: patients"
    CSV_APPOINTMENTS = "csv_appointments", "CSV: appointments"
    CSV_CLAIMS = "csv_claims", "CSV: claims with lines"
    X12_837 = "x12_837", "X12 837P/837D claim batch"


class ImportStatus(models.TextChoices):
    PENDING = "pending", "Waiting to run"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Rejected"
