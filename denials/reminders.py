"""Appeal deadline alerts at 30, 14 and 3 days, through the work core's notifications.

For open denials with no appeal sent yet, to the owner (while they may still work the
practice). Idempotent like every reminder job: one alert per threshold, denial and owner,
ever. Messages name the denial by ``describe`` (denial, claim number, payer, codes,
amount): never a patient.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import QuerySet

from billing_ops.access import holder_condition
from denials.choices import DenialStatus
from denials.models import Denial
from denials.queues import DENIAL, describe
from practices import permissions as perms
from work.choices import NotificationKind
from work.models import Notification
from work.notifications import BATCH, insert_new
from work.reminders import notification_for, plural

APPEAL_THRESHOLDS = {
    30: NotificationKind.APPEAL_30,
    14: NotificationKind.APPEAL_14,
    3: NotificationKind.APPEAL_3,
}


def denials_near_appeal_deadline(today: dt.date, horizon_days: int) -> QuerySet[Denial]:
    """Open, unappealed denials whose appeal deadline is today or within the horizon."""
    return (
        Denial.objects.filter(
            practice__is_active=True,
            status=DenialStatus.OPEN,
            appeal_deadline__gte=today,
            appeal_deadline__lte=today + dt.timedelta(days=horizon_days),
            owner__isnull=False,
        )
        .exclude(appeals__sent_on__isnull=False)
        .filter(holder_condition(perms.WORK_CLAIMS, "owner"))
        .select_related(*DENIAL.select_related)
        .order_by("appeal_deadline", "pk")
    )


def send_appeal_deadline_alerts(today: dt.date) -> dict[str, int]:
    """Alert owners at 30, 14 and 3 days before a denial's appeal deadline (the tightest
    threshold reached, so a missed run still alerts the next day)."""
    counts = {str(kind): 0 for kind in APPEAL_THRESHOLDS.values()}

    def build() -> Iterator[Notification]:
        widest = max(APPEAL_THRESHOLDS)
        for denial in denials_near_appeal_deadline(today, widest).iterator(chunk_size=BATCH):
            left = (denial.appeal_deadline - today).days
            threshold = min(days for days in APPEAL_THRESHOLDS if left <= days)
            kind = APPEAL_THRESHOLDS[threshold]
            counts[str(kind)] += 1
            when = "today" if left == 0 else f"in {plural(left, 'day')}"
            yield notification_for(
                DENIAL,
                denial,
                kind,
                f"{describe(denial)}: appeal by {denial.appeal_deadline:%m/%d/%Y} ({when})",
                today,
                f"{kind}:{DENIAL.key}:{denial.pk}:{denial.owner_id}",
            )

    created = insert_new(build())
    return {**counts, "created": created}
