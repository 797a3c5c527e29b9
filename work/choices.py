"""Constants of the work core: the one next action every item type shares, notification kinds."""

from django.db import models

# Every item type's next actions include WAIT: it needs a reason, and its due date is the
# recheck date.
WAIT = "wait"


class NotificationKind(models.TextChoices):
    DUE_TODAY = "due_today", "Next action due today"
    OVERDUE = "overdue", "Next action overdue"
    ESCALATION = "escalation", "Overdue beyond turnaround"
    FILING_30 = "filing_30", "Timely filing in 30 days"
    FILING_14 = "filing_14", "Timely filing in 14 days"
    FILING_3 = "filing_3", "Timely filing in 3 days"
    DIGEST = "digest", "Daily digest sent"
    APPEAL_30 = "appeal_30", "Appeal deadline in 30 days"
    APPEAL_14 = "appeal_14", "Appeal deadline in 14 days"
    APPEAL_3 = "appeal_3", "Appeal deadline in 3 days"
    HANDOVER = "handover", "Open work handed over at an end date"
    AUTH_EXPIRY = "auth_expiry", "Prior authorization expiring"
    AUTH_UNITS = "auth_units", "Prior authorization units running low"
    VENDOR_IDLE = "vendor_idle", "Idle vendor account deactivated"
    PLAN_DUE = "plan_due", "Payment plan installment due soon"
