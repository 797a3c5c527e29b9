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


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def compute(claim: Claim, today: dt.date | None = None) -> Priority:
    """Score an open claim (closed and void claims score 0); the reasons come heaviest
    first, each with the points it adds, so a row says why it sits where it does."""
    if claim.status in FINAL_STATUSES:
        return Priority(0, ())
    today = today or timezone.localdate()
    at_stake = balance(claim)
    parts: list[tuple[int, str]] = [(min(int(at_stake / 100), 40), f"${at_stake:,.2f}")]
    if claim.service_date_from is None:
        parts.append((0, "no service date"))
    elif (age := (today - claim.service_date_from).days) >= 0:
        parts.append((min(age // 3, 20), f"{_days(age)} old"))
    else:
        parts.append((0, f"service date in {_days(-age)}"))
    if claim.status in NOT_YET_WITH_PAYER and claim.timely_filing_deadline is not None:
        left = (claim.timely_filing_deadline - today).days
        if left < 0:
            parts.append((40, f"filing limit passed {_days(-left)} ago"))
        elif left <= FILING_HORIZON_DAYS:
            parts.append(((FILING_HORIZON_DAYS - left) // 2, f"{_days(left)} to filing limit"))
    if claim.next_action_due is not None:
        overdue = (today - claim.next_action_due).days
        if overdue > 0:
            parts.append((min(overdue * 2, 30), f"{_days(overdue)} overdue"))
        elif overdue == 0:
            parts.append((0, "due today"))
    score = sum(points for points, _text in parts)
    # Heaviest first; sorted() is stable, so equal weights keep the order above.
    ordered = sorted(parts, key=lambda part: -part[0])
    return Priority(
        score, tuple(f"{text} (+{points})" if points else text for points, text in ordered)
    )


def explain(claim: Claim, today: dt.date | None = None) -> str:
    return " · ".join(compute(claim, today).reasons)
