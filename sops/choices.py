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
