"""Reads of patient accounts, always starting from what the user may see
(WORK_PATIENT_BILLING at the practice)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum

from ar.account_choices import AGING_BUCKETS
from ar.ledger_models import ZERO, LedgerEntry, PatientAccount
from practices import permissions as perms

PERM = perms.WORK_PATIENT_BILLING


def bucket_condition(label: str, today: dt.date) -> Q:
    """Accounts whose oldest unpaid charge falls in the bucket ``label`` today."""
    for name, first, last in AGING_BUCKETS:
        if name == label:
            condition = Q(oldest_unpaid_on__lte=today - dt.timedelta(days=first))
            if last is not None:
                condition &= Q(oldest_unpaid_on__gte=today - dt.timedelta(days=last))
            return condition
    raise ValueError(label)


def balances(user: Any, practice_id: int) -> QuerySet[PatientAccount]:
    """Accounts with a balance or a credit at one practice, the user's scope applied."""
    return (
        PatientAccount.objects.visible_to(user, PERM)
        .of_practice(practice_id)
        .exclude(balance=0)
        .select_related("patient", "owner")
        .order_by("-priority", "-pk")
    )


def aging_summary(accounts: QuerySet[PatientAccount], today: dt.date) -> list[dict[str, Any]]:
    """Per bucket: how many accounts owe and how much (credits apart), one query."""
    owed = Q(balance__gt=0)
    aggregates: dict[str, Any] = {}
    for index, (label, _first, _last) in enumerate(AGING_BUCKETS):
        condition = owed & bucket_condition(label, today)
        aggregates[f"n{index}"] = Count("pk", filter=condition)
        aggregates[f"s{index}"] = Sum("balance", filter=condition)
    aggregates["credit_n"] = Count("pk", filter=Q(balance__lt=0))
    aggregates["credit_s"] = Sum("balance", filter=Q(balance__lt=0))
    row = accounts.order_by().aggregate(**aggregates)
    summary = [
        {"label": label, "count": row[f"n{i}"], "total": row[f"s{i}"] or ZERO}
        for i, (label, _f, _l) in enumerate(AGING_BUCKETS)
    ]
    summary.append({"label": "Credits", "count": row["credit_n"], "total": row["credit_s"] or ZERO})
    return summary


def total_owed(summary: list[dict[str, Any]]) -> Decimal:
    return sum((row["total"] for row in summary if row["label"] != "Credits"), ZERO)


def ledger_of(account: PatientAccount) -> QuerySet[LedgerEntry]:
    """The account's entries, oldest first, with who posted them and what they reverse."""
    return account.entries.select_related("posted_by", "reverses", "claim").order_by(
        "posted_at", "pk"
    )
