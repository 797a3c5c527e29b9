"""Billing functions (seed 001): each has one owner, a backup and a turnaround standard."""

from django.db import models


class BillingFunctionKind(models.TextChoices):
    CHARGE_CAPTURE = "charge_capture", "Charge capture"
    CODING_REVIEW = "coding_review", "Coding review"
    CLAIM_SUBMISSION = "claim_submission", "Claim submission"
    CLAIM_FOLLOW_UP = "claim_follow_up", "Claim follow-up (payer AR)"
    PAYMENT_POSTING = "payment_posting", "Payment posting"
    DENIAL_FOLLOW_UP = "denial_follow_up", "Denial follow-up"
    PATIENT_STATEMENTS = "patient_statements", "Patient statements"
    ELIGIBILITY = "eligibility", "Eligibility"
    RECARE = "recare", "Recare"


class Sourcing(models.TextChoices):
    IN_HOUSE = "in_house", "In-house"
    VENDOR = "vendor", "Vendor"


class SignOffStatus(models.TextChoices):
    OPEN = "open", "Waiting for sign-off"
    SIGNED = "signed", "Signed"
    SUPERSEDED = "superseded", "Superseded by a newer version"
    WITHDRAWN = "withdrawn", "Withdrawn: the person's access ended"


class SignOffAction(models.TextChoices):
    WAIT = "wait", "Wait"
    SIGN_OFF = "sign_off", "Read and sign off the SOP"


# Which practice permission performs each function, and the service area it belongs to
# (the hand-off page groups by area; the SOP pages show a function's SOP to its performers).
FUNCTION_PERMISSION: dict[str, str] = {
    BillingFunctionKind.CHARGE_CAPTURE: "work_claims",
    BillingFunctionKind.CODING_REVIEW: "work_claims",
    BillingFunctionKind.CLAIM_SUBMISSION: "work_claims",
    BillingFunctionKind.CLAIM_FOLLOW_UP: "work_claims",
    BillingFunctionKind.PAYMENT_POSTING: "post_payments",
    BillingFunctionKind.DENIAL_FOLLOW_UP: "work_claims",
    BillingFunctionKind.PATIENT_STATEMENTS: "work_patient_billing",
    BillingFunctionKind.ELIGIBILITY: "verify_eligibility",
    BillingFunctionKind.RECARE: "work_recare",
}
FUNCTION_AREA: dict[str, str] = {
    BillingFunctionKind.CHARGE_CAPTURE: "insurance_billing",
    BillingFunctionKind.CODING_REVIEW: "insurance_billing",
    BillingFunctionKind.CLAIM_SUBMISSION: "insurance_billing",
    BillingFunctionKind.CLAIM_FOLLOW_UP: "insurance_billing",
    BillingFunctionKind.PAYMENT_POSTING: "insurance_billing",
    BillingFunctionKind.DENIAL_FOLLOW_UP: "insurance_billing",
    BillingFunctionKind.PATIENT_STATEMENTS: "patient_billing",
    BillingFunctionKind.ELIGIBILITY: "insurance_verification",
    BillingFunctionKind.RECARE: "recare",
}


class EscalationStatus(models.TextChoices):
    OPEN = "open", "Waiting for the answer"
    ANSWERED = "answered", "Answered"
    WITHDRAWN = "withdrawn", "Withdrawn"


class EscalationAction(models.TextChoices):
    WAIT = "wait", "Wait"
    ANSWER = "answer", "Answer the question"


class EscalationStage(models.IntegerChoices):
    FIRST = 0, "With the function's owner (or backup when away)"
    BACKUP = 1, "Overdue: with the backup"
    MANAGER = 2, "Overdue: with the practice manager"


class RuleStatus(models.TextChoices):
    UNCONFIRMED = "unconfirmed", "Unconfirmed"
    CONFIRMED = "confirmed", "Confirmed"


class ReviewStatus(models.TextChoices):
    OPEN = "open", "Due for review"
    DONE = "done", "Reviewed"


class ReviewAction(models.TextChoices):
    WAIT = "wait", "Wait"
    REVIEW = "review", "Review the payer rule"


class QaStatus(models.TextChoices):
    OPEN = "open", "To review"
    DONE = "done", "Reviewed"


class QaResult(models.TextChoices):
    PASS = "pass", "Pass"
    FAIL = "fail", "Fail"


class QaAction(models.TextChoices):
    WAIT = "wait", "Wait"
    REVIEW = "review", "Do the QA review"
