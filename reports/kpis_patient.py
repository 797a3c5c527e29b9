"""The patient side of the A/R figures (``reports.kpis`` holds the payer side): days in
patient A/R and the share of patient A/R over 90 days, from the ar ledger's open balances
and their aging. Same contract as ``reports.kpis``: practice ids already scoped, a range,
``{practice_id: value}``; stocks as of ``end`` from the accounts' current balances."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db.models import Q, Sum

from ar.account_choices import EntryKind
from ar.ledger_models import LedgerEntry
from reports.kpis import (
    DAYS_IN_AR_WINDOW,
    OVER_90,
    Ids,
    PerPractice,
    _ids,
    _money,
    ar_aging_patient,
)
from reports.values import ZERO, Ratio


def patient_ar_over_90(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """% of patient A/R over 90 days = balances of accounts that owe whose oldest unpaid
    charge is in the 91-120 or 120+ bucket / all balances of accounts that owe, as of
    ``end`` (see ``reports.kpis.ar_aging_patient``), in %."""
    result: PerPractice = {}
    for practice_id, buckets in ar_aging_patient(practice_ids, start, end).items():
        over = sum((buckets.get(name, ZERO) for name in OVER_90), ZERO)
        result[practice_id] = Ratio(over, sum(buckets.values(), ZERO))
    return result


def patient_days_in_ar(practice_ids: Ids, start: dt.date, end: dt.date) -> PerPractice:
    """Days in patient A/R = patient A/R as of ``end`` (balances of accounts that owe) /
    average daily patient charges over the 90 days ending ``end`` (ledger charges with an
    entry date in those days, less the reversals of charges, divided by 90), in days."""
    ids = _ids(practice_ids)
    balances = {
        practice_id: sum(buckets.values(), ZERO)
        for practice_id, buckets in ar_aging_patient(ids, start, end).items()
    }
    first_day = end - dt.timedelta(days=DAYS_IN_AR_WINDOW - 1)
    charges = {
        row["practice_id"]: _money(row["amount"])
        for row in LedgerEntry.objects.filter(
            practice_id__in=ids, entry_date__gte=first_day, entry_date__lte=end
        )
        .filter(
            Q(kind=EntryKind.CHARGE) | Q(kind=EntryKind.REVERSAL, reverses__kind=EntryKind.CHARGE)
        )
        .values("practice_id")
        .annotate(amount=Sum("amount"))
    }
    return {
        practice_id: Ratio(
            balances.get(practice_id, ZERO),
            charges.get(practice_id, ZERO) / Decimal(DAYS_IN_AR_WINDOW),
            1,
        )
        for practice_id in set(balances) | set(charges)
    }
