"""An eligibility check's queue rank: the nearer the appointment, the higher.

A check is due at T-72 h and should be done by T-24 h; past the target it jumps up, and a
check that found a problem (inactive, needs info) ranks above one not yet done. Reasons
read "appointment in 2 days · past the T-24 h target (+50)".
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.utils import timezone

from work.models import Priority

if TYPE_CHECKING:
    from eligibility.models import EligibilityCheck

HORIZON_DAYS = 14


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def compute(check: EligibilityCheck, today: dt.date | None = None) -> Priority:
    """Score an open check (closed ones score 0)."""
    if not check.is_open:
        return Priority(0, ())
    today = today or timezone.localdate()
    visit_day = timezone.localtime(check.appointment_starts_at()).date()
    left = (visit_day - today).days
    reasons: list[str] = []
    if left < 0:
        score = 10
        reasons.append(f"appointment was {_days(-left)} ago")
    elif left == 0:
        score = 100
        reasons.append("appointment today")
    else:
        score = max(HORIZON_DAYS - left, 1) * 5
        reasons.append(f"appointment in {_days(left)}")
    if check.target_at is not None and timezone.localtime(check.target_at).date() <= today:
        score += 50
        reasons.append("past the T-24 h target (+50)")
    if check.status in ("inactive", "needs_info"):
        score += 30
        reasons.append(f"{check.get_status_display().lower()} (+30)")
    return Priority(score, tuple(reasons))
