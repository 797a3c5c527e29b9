"""The work-queue priority of a claim, and its explanation in plain words.

Money at stake, age, days left before the payer's timely-filing limit (until the payer
has the claim) and days past the next-action due date each add points; the page shows
the same parts as text ("$1,240 · 12 days to filing limit · 3 days overdue").
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from claims.choices import FINAL_STATUSES, UNSUBMITTED_STATUSES
from work.models import Priority

if TYPE_CHECKING:
    from claims.models import Claim

NOT_YET_WITH_PAYER = UNSUBMITTED_STATUSES
FILING_HORIZON_DAYS = 60


def balance(claim: Claim) -> Decimal:
    """Dollars still at stake on the claim."""
    return max(claim.total_billed - claim.total_paid - claim.total_adjusted, Decimal("0.00"))


def compute(claim: Claim, today: dt.date | None = None) -> Priority:
    """Score an open claim (closed and void claims score 0)."""
    if claim.status in FINAL_STATUSES:
        return Priority(0, ())
    today = today or timezone.localdate()
    at_stake = balance(claim)
    score = min(int(at_stake / 100), 40)
    reasons = [f"${at_stake:,.2f}"]
    age = (today - claim.service_date_from).days
    score += min(max(age, 0) // 3, 20)
    reasons.append(f"{age} days old")
    if claim.status in NOT_YET_WITH_PAYER:
        left = (claim.timely_filing_deadline - today).days
        if left < 0:
            score += 40
            reasons.append(f"filing limit passed {-left} days ago")
        elif left <= FILING_HORIZON_DAYS:
            score += (FILING_HORIZON_DAYS - left) // 2
            reasons.append(f"{left} days to filing limit")
    if claim.next_action_due is not None:
        overdue = (today - claim.next_action_due).days
        if overdue > 0:
            score += min(overdue * 2, 30)
            reasons.append(f"{overdue} day{'s' if overdue != 1 else ''} overdue")
        elif overdue == 0:
            reasons.append("due today")
    return Priority(score, tuple(reasons))


def explain(claim: Claim, today: dt.date | None = None) -> str:
    return " · ".join(compute(claim, today).reasons)
