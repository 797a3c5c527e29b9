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
