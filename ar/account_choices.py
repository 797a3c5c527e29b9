"""Patient accounts: ledger entry kinds, payment methods, account and adjustment statuses."""

from django.db import models

from work.choices import WAIT


class EntryKind(models.TextChoices):
    CHARGE = "charge", "Charge"
    PAYMENT = "payment", "Patient payment"
    TRANSFER = "transfer", "Insurance transfer"
    ADJUSTMENT = "adjustment", "Adjustment"
    REFUND = "refund", "Refund"
    REVERSAL = "reversal", "Reversal"


# Kinds whose amount the caller gives as a positive figure and the ledger signs:
# +1 raises what the patient owes, -1 lowers it. Transfers carry their own sign.
SIGN = {
    EntryKind.CHARGE: 1,
    EntryKind.PAYMENT: -1,
    EntryKind.ADJUSTMENT: -1,
    EntryKind.REFUND: 1,
}


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CHECK = "check", "Check"
    CARD = "card", "Card (entered by hand)"


class AccountStatus(models.TextChoices):
    OPEN = "open", "Balance to work"
    SETTLED = "settled", "Settled"


class AccountAction(models.TextChoices):
    SEND_STATEMENT = "send_statement", "Send a statement"
    CALL_PATIENT = "call_patient", "Call the patient"
    COLLECT_AT_CHECK_IN = "collect_at_check_in", "Collect at check-in"
    REFUND_CREDIT = "refund_credit", "Refund or apply the credit"
    WAIT_ = WAIT, "Wait"


class ContactChannel(models.TextChoices):
    PHONE = "phone", "Phone"
    EMAIL = "email", "E-mail"
    LETTER = "letter", "Letter"
    IN_PERSON = "in_person", "In person"
    PORTAL = "portal", "Patient portal"


class AdjustmentKind(models.TextChoices):
    WRITE_OFF = "write_off", "Write-off"
    SMALL_BALANCE = "small_balance", "Small-balance write-off"
    HARDSHIP = "hardship", "Hardship"
    REFUND = "refund", "Refund"
    CREDIT = "credit", "Credit"
    # Asked for by a denial (denials.WriteOffRequest): no patient ledger entry; approving
    # it writes the denied amount off and closes the denial.
    INSURANCE = "insurance", "Insurance write-off"


# What may be asked for on a patient's account (insurance write-offs come from denials).
PATIENT_ADJUSTMENT_KINDS = [c for c in AdjustmentKind.choices if c[0] != AdjustmentKind.INSURANCE]


class AdjustmentStatus(models.TextChoices):
    PENDING = "pending", "Awaiting approval"
    POSTED = "posted", "Posted"
    REFUSED = "refused", "Refused"


class ApprovalAction(models.TextChoices):
    DECIDE = "decide", "Approve or refuse"
    WAIT_ = WAIT, "Wait"


# Aging buckets of patient balances by the oldest unpaid charge: (label, first day, last day).
AGING_BUCKETS: tuple[tuple[str, int, int | None], ...] = (
    ("0-30", 0, 30),
    ("31-60", 31, 60),
    ("61-90", 61, 90),
    ("91-120", 91, 120),
    ("120+", 121, None),
)


def aging_bucket(days: int | None) -> str:
    """The bucket label of a balance whose oldest unpaid charge is ``days`` old."""
    if days is None:
        return ""
    for label, _first, last in AGING_BUCKETS:
        if last is None or days <= last:
            return label
    return AGING_BUCKETS[-1][0]


class DunningStage(models.TextChoices):
    FIRST = "first", "First notice"
    SECOND = "second", "Second notice"
    FINAL = "final", "Final notice"


# Stage by the age of the oldest unpaid charge (days): under 60 first, under 90 second.
SECOND_NOTICE_DAYS = 60
FINAL_NOTICE_DAYS = 90

# What each stage says to the patient (the statement's own copy is kept on the record).
STAGE_WORDING = {
    DunningStage.FIRST: "Your insurance has processed your visit. The balance below is your "
    "share. Please pay by the due date or call us to set up a payment plan.",
    DunningStage.SECOND: "Your balance is past due. Please pay the amount below now, or call "
    "us this week to agree a payment plan.",
    DunningStage.FINAL: "FINAL NOTICE: your balance is more than 90 days past due. Please pay "
    "within 14 days or call us to agree a payment plan; otherwise the account may be "
    "referred for collection.",
}


def dunning_stage(days: int) -> str:
    if days >= FINAL_NOTICE_DAYS:
        return DunningStage.FINAL
    if days >= SECOND_NOTICE_DAYS:
        return DunningStage.SECOND
    return DunningStage.FIRST


class DisputeStatus(models.TextChoices):
    OPEN = "open", "Open (statements held)"
    RESOLVED = "resolved", "Resolved"
