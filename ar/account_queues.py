"""Patient balances and adjustment approvals as work-item types, and their queues.

The account itself is the work item (one thing, one row): the follow-up of a balance is
the account's next action, so a patient appears once in My day however many charges they
owe. An adjustment request above the practice's threshold is its own item, owned by a
manager (APPROVE_ADJUSTMENTS), in the "Approvals" queue.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from ar.account_choices import AccountStatus, AdjustmentStatus
from ar.adjustments import insurance_write_off_requested
from ar.ledger import log
from ar.ledger_models import AdjustmentRequest, PatientAccount
from denials.approvals import register_write_off_router
from denials.services import log_activity as denial_log
from practices import permissions as perms
from work.registry import ItemType, Queue, registry


def describe_account(item: PatientAccount) -> str:
    """Minimum necessary for reminders: the account number and balance, never the name."""
    return f"Patient balance {item.patient.account_number} (${item.balance:,.2f})"


def log_account(item: PatientAccount, actor: Any, kind: str, text: str) -> None:
    log(item, actor, kind, text)


ACCOUNT = ItemType(
    key="patient_balance",
    model=PatientAccount,
    label="Patient balance",
    permission=perms.WORK_PATIENT_BILLING,
    open_condition=Q(status=AccountStatus.OPEN),
    detail_url_name="patient-account-detail",
    describe=describe_account,
    log_activity=log_account,
    row_template="ar/account_row.html",
    select_related=("owner", "patient"),
    billing_function="patient_statements",
)


def describe_request(item: AdjustmentRequest) -> str:
    return f"{item.get_kind_display()} of ${item.amount:,.2f} awaiting approval"


def log_request(item: AdjustmentRequest, actor: Any, kind: str, text: str) -> None:
    """Requests keep their timeline on the account (or the denial) they belong to."""
    if item.account is not None:
        log(item.account, actor, kind, f"Adjustment request #{item.pk}: {text}")
    elif item.write_off is not None:
        denial_log(item.write_off.denial, actor, kind, f"Write-off approval #{item.pk}: {text}")


APPROVAL = ItemType(
    key="adjustment_request",
    model=AdjustmentRequest,
    label="Adjustment approval",
    permission=perms.APPROVE_ADJUSTMENTS,
    open_condition=Q(status=AdjustmentStatus.PENDING),
    detail_url_name="adjustment-request-detail",
    describe=describe_request,
    log_activity=log_request,
    select_related=("owner", "account__patient", "write_off__denial"),
)


def _all(items: QuerySet[Any], user: Any, today: dt.date) -> QuerySet[Any]:
    return items


BALANCES = Queue(
    "patient-balances",
    "Patient balances",
    "What patients owe, ranked by amount x age of the oldest unpaid charge: call, send a "
    "statement, set up a plan.",
    ACCOUNT.key,
    _all,
    table_template="work/item_table.html",
    order=60,
)

APPROVALS = Queue(
    "approvals",
    "Approvals",
    "Write-offs, refunds and credits above the practice's threshold, and denials' insurance "
    "write-offs above it, waiting for a manager.",
    APPROVAL.key,
    _all,
    order=65,
)


def register() -> None:
    """Called from ``ArConfig.ready``. Denials' write-offs above the threshold come here
    (``denials.approvals``): they wait in Approvals as adjustment requests."""
    register_write_off_router(insurance_write_off_requested)
    registry.register_type(ACCOUNT)
    registry.register_queue(BALANCES)
    registry.register_type(APPROVAL)
    registry.register_queue(APPROVALS)
