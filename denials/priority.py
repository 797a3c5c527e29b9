"""The denials queue rank: money at stake times the urgency of the appeal deadline.

``amount x urgency`` where urgency grows as the appeal deadline nears (90 / days left,
between 1 and 30), plus points for an overdue next action; the reasons read
"$1,240.00 · 12 days to appeal deadline (x7.5) · 2 days overdue (+4)".
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from django.utils import timezone

from work.models import Priority

if TYPE_CHECKING:
    from denials.models import Denial

HORIZON_DAYS = 90
MAX_URGENCY = 30
MAX_HUNDREDS = 1000  # $100,000: one huge denial must not bury every other row


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def urgency(days_left: int) -> Decimal:
    """1 beyond the horizon, up to ``MAX_URGENCY`` in the last days; a passed deadline
    counts 1 (an appeal is no longer possible, other actions remain)."""
    if days_left < 0 or days_left >= HORIZON_DAYS:
        return Decimal(1)
    return min(Decimal(HORIZON_DAYS) / Decimal(max(days_left, 1)), Decimal(MAX_URGENCY))


def compute(denial: Denial, today: dt.date | None = None) -> Priority:
    """Score an open denial (closed ones score 0)."""
    if not denial.is_open:
        return Priority(0, ())
    today = today or timezone.localdate()
    amount = denial.amount or Decimal("0")
    hundreds = min(amount / 100, Decimal(MAX_HUNDREDS))
    reasons = [f"${amount:,.2f}"]
    factor = Decimal(1)
    if denial.appeal_deadline is not None:
        left = (denial.appeal_deadline - today).days
        factor = urgency(left)
        if left < 0:
            reasons.append(f"appeal deadline passed {_days(-left)} ago")
        else:
            reasons.append(f"{_days(left)} to appeal deadline (x{factor:.1f})")
    score = int(hundreds * factor * 10)
    if denial.next_action_due is not None:
        overdue = (today - denial.next_action_due).days
        if overdue > 0:
            points = min(overdue * 2, 30)
            score += points
            reasons.append(f"{_days(overdue)} overdue (+{points})")
        elif overdue == 0:
            reasons.append("due today")
    return Priority(score, tuple(reasons))
