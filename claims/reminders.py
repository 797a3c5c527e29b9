"""Timely-filing alerts: claims not yet with the payer, at 30, 14 and 3 days before the
payer's filing limit. Idempotent like every reminder job (``work.notifications``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import QuerySet

from billing_ops.access import holder_condition
from claims.choices import UNSUBMITTED_STATUSES
from claims.models import Claim
from claims.queues import CLAIM, describe
from practices import permissions as perms
from work.choices import NotificationKind
from work.models import Notification
from work.notifications import BATCH, insert_new
from work.reminders import notification_for, plural

# Timely-filing alerts, tightest last; each fires at most once per claim and owner.
FILING_THRESHOLDS = {
    30: NotificationKind.FILING_30,
    14: NotificationKind.FILING_14,
    3: NotificationKind.FILING_3,
}


def claims_near_filing_deadline(today: dt.date, horizon_days: int) -> QuerySet[Claim]:
    """Unsubmitted open claims whose timely-filing deadline is at most ``horizon_days`` away,
    whose owner may still work them."""
    return (
        Claim.objects.filter(
            practice__is_active=True,
            status__in=UNSUBMITTED_STATUSES,
            timely_filing_deadline__lte=today + dt.timedelta(days=horizon_days),
            owner__isnull=False,
        )
        .filter(holder_condition(perms.WORK_CLAIMS, "owner"))
        .select_related("payer")
        .order_by("timely_filing_deadline", "pk")
    )


def _filing_phrase(deadline: dt.date, today: dt.date) -> str:
    left = (deadline - today).days
    if left > 0:
        return f"{plural(left, 'day')} left"
    if left == 0:
        return "the deadline is today"
    return f"the deadline passed {plural(-left, 'day')} ago"


def send_timely_filing_alerts(today: dt.date) -> dict[str, int]:
    """Alert owners of unsubmitted claims at 30, 14 and 3 days before timely filing ends.

    A claim gets the tightest threshold it has reached (so a missed run still alerts the
    next day), once per threshold and owner, ever: the key has no date.
    """
    counts = {str(kind): 0 for kind in FILING_THRESHOLDS.values()}

    def build() -> Iterator[Notification]:
        widest = max(FILING_THRESHOLDS)
        for claim in claims_near_filing_deadline(today, widest).iterator(chunk_size=BATCH):
            left = (claim.timely_filing_deadline - today).days
            threshold = min(days for days in FILING_THRESHOLDS if left <= days)
            kind = FILING_THRESHOLDS[threshold]
            counts[str(kind)] += 1
            yield notification_for(
                CLAIM,
                claim,
                kind,
                f"{describe(claim)}: timely filing by "
                f"{claim.timely_filing_deadline:%m/%d/%Y} — "
                f"{_filing_phrase(claim.timely_filing_deadline, today)}, "
                f"still {claim.get_status_display().lower()}",
                today,
                f"{kind}:{claim.pk}:{claim.owner_id}",
            )

    created = insert_new(build())
    return {**counts, "created": created}
