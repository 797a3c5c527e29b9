"""Remittance statuses, payment methods, adjustment groups and unmatched-line outcomes."""

from django.db import models


class RemittanceStatus(models.TextChoices):
    PENDING = "pending", "Waiting to run"
    PREVIEWED = "previewed", "Previewed (nothing posted)"
    POSTED = "posted", "Posted"
    DUPLICATE = "duplicate", "Already posted (nothing new)"
    QUARANTINED = "quarantined", "Quarantined"
    REFUSED = "refused", "Refused"


# Statuses after which a batch is never run again.
FINISHED = frozenset(
    {
        RemittanceStatus.PREVIEWED,
        RemittanceStatus.POSTED,
        RemittanceStatus.DUPLICATE,
        RemittanceStatus.QUARANTINED,
        RemittanceStatus.REFUSED,
    }
)


class PaymentSource(models.TextChoices):
    ERA = "era", "835 electronic remittance"
    PAPER = "paper", "Paper EOB (entered by hand)"


class ClaimPaymentState(models.TextChoices):
    POSTED = "posted", "Posted to the claim"
    UNMATCHED = "unmatched", "Waiting for a person to match it"
    NOT_OURS = "not_ours", "Not ours"


class AdjustmentGroup(models.TextChoices):
    CO = "CO", "Contractual obligation"
    OA = "OA", "Other adjustment"
    PI = "PI", "Payer initiated reduction"
    PR = "PR", "Patient responsibility"
    CR = "CR", "Correction and reversal"


class UnmatchedAction(models.TextChoices):
    WAIT = "wait", "Wait"
    MATCH = "match_by_hand", "Match by hand"


class UnmatchedStatus(models.TextChoices):
    OPEN = "open", "Open"
    MATCHED = "matched", "Matched by hand and posted"
    NOT_OURS = "not_ours", "Marked not ours"


class UnderpaymentAction(models.TextChoices):
    WAIT = "wait", "Wait"
    APPEAL = "appeal_underpayment", "Appeal the underpayment"


class UnderpaymentStatus(models.TextChoices):
    OPEN = "open", "Open"
    APPEALED = "appealed", "Appealed"
    ACCEPTED = "accepted", "Accepted as paid"
