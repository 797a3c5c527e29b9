"""Eligibility check outcomes, methods, next actions and timeline kinds."""

from django.db import models


class CheckOutcome(models.TextChoices):
    """What the verification found; ``not_done`` while nobody has verified yet."""

    NOT_DONE = "not_done", "Not done"
    ACTIVE = "active", "Verified: active"
    INACTIVE = "inactive", "Inactive"
    NEEDS_INFO = "needs_info", "Needs info"


# The outcomes a result may carry (``not_done`` is only the state of an open check).
RESULT_OUTCOMES = (CheckOutcome.ACTIVE, CheckOutcome.INACTIVE, CheckOutcome.NEEDS_INFO)
# Outcomes that flag the appointment and ask the patient for information.
PROBLEM_OUTCOMES = (CheckOutcome.INACTIVE, CheckOutcome.NEEDS_INFO)


class CheckMethod(models.TextChoices):
    PORTAL = "portal", "Payer portal"
    PHONE = "phone", "Phone"
    X12_271 = "x12_271", "270/271"


class NextAction(models.TextChoices):
    """A check's next actions: the work core's wait plus the two a check needs."""

    WAIT = "wait", "Wait"
    VERIFY = "verify", "Verify eligibility"
    REQUEST_INFO_PATIENT = "request_info_patient", "Request info from patient"


class ClosedReason(models.TextChoices):
    VERIFIED = "verified", "Verified active"
    CANCELLED = "cancelled", "Appointment cancelled"


class ActivityKind(models.TextChoices):
    CREATED = "created", "Created"
    RESULT = "result", "Result recorded"
    MOVED = "moved", "Appointment moved"
    CLOSED = "closed", "Closed"
    NEXT_ACTION = "next_action", "Next action"
    OWNER = "owner", "Owner"
    EDIT = "edit", "Edit"
