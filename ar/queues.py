"""The unmatched-payment item type and its queue, registered with the work core.

An "Unmatched remittances" row is a claim payment of a posted 835 that did not post by
itself (no claim with its number, or the charge or patient differ): a person in the
insurance billing area matches it by hand or marks it not ours.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from ar.choices import UnmatchedStatus
from ar.models import UnmatchedRemittance
from ar.posting import log_activity
from practices import permissions as perms
from work.registry import ItemType, Queue, registry


def describe(item: UnmatchedRemittance) -> str:
    """What a reminder may say: the claim number and amount, never the patient."""
    payment = item.payment
    return f"Unmatched payment for {payment.patient_control_number} (${payment.paid:,.2f})"


UNMATCHED = ItemType(
    key="unmatched_payment",
    model=UnmatchedRemittance,
    label="Unmatched payment",
    permission=perms.POST_PAYMENTS,
    open_condition=Q(status=UnmatchedStatus.OPEN),
    detail_url_name="unmatched-detail",
    describe=describe,
    log_activity=log_activity,
    select_related=("owner", "payment"),
)


def _all(items: QuerySet[Any], user: Any, today: dt.date) -> QuerySet[Any]:
    return items


QUEUE = Queue(
    "unmatched-remittances",
    "Unmatched remittances",
    "Payments from 835s that did not post by themselves: match them by hand or mark them not ours.",
    UNMATCHED.key,
    _all,
    order=50,
)


def register() -> None:
    """Called from ``ArConfig.ready``."""
    registry.register_type(UNMATCHED)
    registry.register_queue(QUEUE)
