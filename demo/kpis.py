"""Demo KPI history for ``manage.py seed_demo``: twelve months of daily snapshots, so the
dashboard's trends and sparklines show something on the first run.

The demo's claims are all created (and submitted) when the seed runs, so a real backfill
of past days would find nothing to count. The days before today are therefore
*illustrative*: per practice and day, deterministic figures (``random.Random`` keyed on the
practice and the day) that improve slowly over the year: clean claim rate from about 86 %
to 93 %, first-pass denials from 17 % to 12 %, days in A/R from 45 to 32. Today is always
computed live from the real demo data by the dashboard. Everything is written with bulk
upserts keyed on (practice, day), so a second run rewrites the same rows and ``--reset``
removes them with the demo practices' other work.

Patient A/R (its aging, days in patient A/R from about 62 to 46, % over 90 days from about
26 % to 16 %) is made up the same way. Figures with no data in billing-ops yet (eligibility
verified, underpayments recovered) stay None here too.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.utils import timezone

from denials.choices import DenialCategory
from practices.models import Payer, Practice, Provider
from reports.kpis import AGE_BUCKETS
from reports.models import PracticeDay, PracticeMonth, VendorDay
from reports.months import write_range
from reports.rollups import rollup_vendors_range
from reports.values import Ratio, Tally, dump

DAYS = 365
CENT = Decimal("0.01")
SERVICES = ["D0120", "D1110", "D2740", "99213", "99214"]


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(CENT)


def _day(practice: Practice, day: dt.date, progress: float, names: dict[str, list[str]],
         staff: list[str]) -> dict[str, Any]:  # fmt: skip
    """One practice's illustrative day; ``progress`` runs 0 (a year ago) to 1 (yesterday)."""
    rng = random.Random(f"kpis-{practice.slug}-{day.isoformat()}")
    weekday = day.weekday() < 5
    n = rng.randint(14, 32) if weekday else 0
    clean = min(n, round(n * (0.86 + 0.07 * progress + rng.uniform(-0.03, 0.03))))
    answered = round(n * 0.9)
    denied = min(answered, round(answered * (0.17 - 0.05 * progress + rng.uniform(-0.03, 0.03))))
    average = rng.uniform(180, 260)
    charges = _money(n * average)
    paid = _money(float(charges) * rng.uniform(0.55, 0.65))
    contractual = _money(float(charges - paid) * rng.uniform(0.85, 0.95))
    days_in_ar = 45 - 13 * progress + rng.uniform(-1.5, 1.5)
    daily = Decimal(22 * 220)
    balance = _money(float(daily) * days_in_ar)
    over_90_share = 0.16 - 0.06 * progress + rng.uniform(-0.01, 0.01)
    shares = [0.5, 0.22, 1 - 0.72 - over_90_share, over_90_share * 0.6, over_90_share * 0.4]
    aging = {
        name: _money(float(balance) * share)
        for (name, _, _), share in zip(AGE_BUCKETS, shares, strict=True)
    }
    # Patient A/R: the patients' share (about a tenth of the charges), slower to come in.
    patient_daily = Decimal(22 * 22)
    patient_days = 62 - 16 * progress + rng.uniform(-2, 2)
    patient_balance = _money(float(patient_daily) * patient_days)
    patient_over = 0.26 - 0.1 * progress + rng.uniform(-0.015, 0.015)
    patient_shares = [0.4, 0.2, 1 - 0.6 - patient_over, patient_over * 0.55, patient_over * 0.45]
    patient_aging = {
        name: _money(float(patient_balance) * share)
        for (name, _, _), share in zip(AGE_BUCKETS, patient_shares, strict=True)
    }
    patient_total = sum(patient_aging.values(), Decimal(0))
    categories: dict[str, Tally] = {}
    payers: dict[str, Tally] = {}
    providers: dict[str, Tally] = {}
    services: dict[str, Tally] = {}
    for _ in range(denied):
        amount = _money(rng.uniform(80, 600))
        one = Tally(1, amount)
        for bucket, key in (
            (categories, rng.choice(DenialCategory.values)),
            (payers, rng.choice(names["payers"])),
            (providers, rng.choice(names["providers"])),
            (services, rng.choice(SERVICES)),
        ):
            bucket[key] = bucket[key] + one if key in bucket else one
    denied_amount = sum((t.amount for t in categories.values()), Decimal("0.00"))
    decided = rng.randint(0, 3) if weekday else 0
    return {
        "claims_submitted": n,
        "clean_claim_rate": Ratio(Decimal(clean), Decimal(n)) if n else 0,
        "first_pass_denial_rate": Ratio(Decimal(denied), Decimal(answered)) if answered else 0,
        "first_pass_denial_amount_rate": Ratio(denied_amount, _money(answered * average))
        if answered
        else 0,
        "days_in_ar": Ratio(balance, daily, 1),
        "ar_over_90": Ratio(aging["91-120"] + aging["120+"], sum(aging.values(), Decimal(0))),
        "net_collection_rate": Ratio(paid, charges - contractual) if n else 0,
        "gross_collection_rate": Ratio(paid, charges) if n else 0,
        "payments_posted": paid if n else Decimal("0.00"),
        "submission_lag": Ratio(Decimal(round(n * (3.5 - 1.5 * progress))), Decimal(n), 1)
        if n
        else 0,
        "response_turnaround": Ratio(
            Decimal(denied) * Decimal(str(round(3 - 1.5 * progress, 2))), Decimal(denied), 1
        )
        if denied
        else 0,  # fmt: skip
        "unresolved_insurance_requests": rng.randint(40, 70),
        "eligibility_verified": None,
        "appeal_overturn_rate": Ratio(Decimal(min(decided, rng.randint(0, 2))), Decimal(decided))
        if decided
        else 0,
        "timely_filing_write_offs": _money(rng.uniform(50, 400)) if rng.random() < 0.05 else 0,
        "underpayments_found": _money(rng.uniform(10, 120)) if rng.random() < 0.2 else 0,
        "underpayments_recovered": None,
        "ar_aging_payer": aging,
        "ar_aging_patient": patient_aging,
        "patient_days_in_ar": Ratio(patient_total, patient_daily, 1),
        "patient_ar_over_90": Ratio(patient_aging["91-120"] + patient_aging["120+"], patient_total),
        "denials_by_category": categories,
        "denials_by_payer": payers,
        "denials_by_provider": providers,
        "denials_by_service": services,
        "overdue_by_owner": {},
        "dollars_resolved_by_staff": {rng.choice(staff): paid} if n and staff else {},
    }


def seed_kpis(practices: Iterable[Practice], users: dict[str, Any]) -> int:
    """A year of illustrative daily snapshots before today for each demo practice, and the
    vendor sums of those days; returns the practice rows written."""
    today = timezone.localdate()
    first = today - dt.timedelta(days=DAYS)
    now = timezone.now()
    staff = [str(user.pk) for name, user in users.items() if name in ("bill.biller", "vera.vendor")]
    rows = []
    for practice in practices:
        names = {
            "payers": list(Payer.objects.filter(practice=practice).values_list("name", flat=True))
            or ["Payer"],
            "providers": [
                f"{p.first_name} {p.last_name}" for p in Provider.objects.filter(practice=practice)
            ]
            or ["Provider"],
        }
        for offset in range(DAYS):
            day = first + dt.timedelta(days=offset)
            figures = _day(practice, day, offset / (DAYS - 1), names, staff)
            rows.append(
                PracticeDay(
                    practice=practice,
                    day=day,
                    figures={key: dump(value) for key, value in figures.items()},
                    computed_at=now,
                )
            )
    PracticeDay.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["practice", "day"],
        update_fields=["figures", "computed_at"],
        batch_size=500,
    )
    rollup_vendors_range(start=first, end=today - dt.timedelta(days=1), now=now)
    write_range({row.practice_id for row in rows}, first, today - dt.timedelta(days=1))
    return len(rows)


def reset_kpis(practices: Iterable[Practice]) -> None:
    """Remove the demo practices' snapshots and their vendors' sums."""
    practices = list(practices)
    PracticeDay.objects.filter(practice__in=practices).delete()
    PracticeMonth.objects.filter(practice__in=practices).delete()
    VendorDay.objects.filter(vendor__engagements__practice__in=practices).delete()
