"""The unmatched-payment item type and its queue, registered with the work core.

An "Unmatched remittances" row is a claim payment of a posted 835 that did not post by
itself (no claim with its number, or the charge or patient differ): a person in the
insurance billing area matches it by hand or marks it not ours.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from ar.choices import UnderpaymentStatus, UnmatchedStatus
from ar.models import Underpayment, UnmatchedRemittance
from ar.posting import log_activity
from claims.services import claim_add_note
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


def describe_underpayment(item: Underpayment) -> str:
    return f"Underpayment on claim {item.claim.pms_claim_number} (${item.amount:,.2f})"


def log_underpayment(item: Underpayment, actor: Any, kind: str, text: str) -> None:
    """Underpayments keep their timeline on the claim they belong to."""
    claim_add_note(actor=actor, claim=item.claim, text=f"Underpayment: {text}")


UNDERPAYMENT = ItemType(
    key="underpayment",
    model=Underpayment,
    label="Underpayment",
    permission=perms.POST_PAYMENTS,
    open_condition=Q(status=UnderpaymentStatus.OPEN),
    detail_url_name="underpayment-detail",
    describe=describe_underpayment,
    log_activity=log_underpayment,
    select_related=("owner", "line", "claim"),
)

UNDERPAYMENT_QUEUE = Queue(
    "underpayments",
    "Underpayments",
    "Lines paid below the fee schedule: appeal them before the payer's window closes.",
    UNDERPAYMENT.key,
    _all,
    order=55,
)


def register() -> None:
    """Called from ``ArConfig.ready``."""
    registry.register_type(UNMATCHED)
    registry.register_queue(QUEUE)
    registry.register_type(UNDERPAYMENT)
    registry.register_queue(UNDERPAYMENT_QUEUE)
