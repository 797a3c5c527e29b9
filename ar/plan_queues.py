"""Missed installments as a work-item type and their queue.

While a plan is current the account waits on it (one thing, one row): the installment a
patient missed carries the next action ("call the patient"), owned by whoever works the
account's balance, ranked by amount x days late, until it is paid or the plan ends.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from ar.ledger import log
from ar.plan_models import Installment, InstallmentStatus
from practices import permissions as perms
from work.registry import ItemType, Queue, registry


def describe_installment(item: Installment) -> str:
    """Minimum necessary for reminders: plan, installment and account number, no name."""
    number = item.plan.account.patient.account_number
    return f"Installment {item.number} of plan PP-{item.plan_id} (account {number})"


def log_installment(item: Installment, actor: Any, kind: str, text: str) -> None:
    """Installments keep their timeline on the account they belong to."""
    log(
        item.plan.account, actor, kind, f"Plan PP-{item.plan_id}, installment {item.number}: {text}"
    )


INSTALLMENT = ItemType(
    key="missed_installment",
    model=Installment,
    label="Missed installment",
    permission=perms.WORK_PATIENT_BILLING,
    open_condition=Q(status=InstallmentStatus.LATE),
    detail_url_name="installment-detail",
    describe=describe_installment,
    log_activity=log_installment,
    row_template="ar/installment_row.html",
    select_related=("owner", "plan__account__patient"),
    billing_function="patient_statements",
)


def _all(items: QuerySet[Any], user: Any, today: dt.date) -> QuerySet[Any]:
    return items


MISSED = Queue(
    "missed-installments",
    "Missed installments",
    "Payment plan installments past their due date and not paid, ranked by amount x days "
    "late: call the patient before the grace period ends and the plan breaks.",
    INSTALLMENT.key,
    _all,
    order=62,
)


def register() -> None:
    """Called from ``ArConfig.ready``."""
    registry.register_type(INSTALLMENT)
    registry.register_queue(MISSED)
