"""Writing the daily KPI snapshots: per practice and day, then per vendor and day.

``rollup_day`` computes every KPI of ``reports.kpis`` for one day over many practices at
once (each definition groups by practice: a fixed number of queries whatever the number
of practices or claims) and upserts one row per (practice, day): running it twice leaves
the same rows. Vendor rows are the sums of their practices' rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from practices.models import Engagement, Practice
from reports import months
from reports.catalogue import KPIS
from reports.models import PracticeDay, VendorDay
from reports.values import combine, dump, load


def compute_day(practice_ids: Iterable[int], day: dt.date) -> dict[int, dict[str, Any]]:
    """Every KPI of one day for each practice: ``{practice_id: {key: value}}`` (values as
    ``reports.values`` shapes; a KPI with no data yet is None)."""
    ids = sorted(set(practice_ids))
    figures: dict[int, dict[str, Any]] = {pid: {} for pid in ids}
    for kpi in KPIS:
        per_practice = kpi.compute(ids, day, day)
        for pid in ids:
            figures[pid][kpi.key] = None if per_practice is None else per_practice.get(pid, 0)
    return figures


def _dumped(figures: dict[str, Any]) -> dict[str, Any]:
    return {key: dump(value) for key, value in figures.items()}


@transaction.atomic
def rollup_day(
    *, day: dt.date, practice_ids: Iterable[int] | None = None, month_rows: bool = True
) -> int:
    """Compute and store one day's snapshot for the practices (all active ones by
    default) and for every vendor serving them, and rewrite their row of the day's month
    (``reports.months``; a backfill writes its months once at the end instead); returns the
    number of practice rows."""
    if practice_ids is None:
        practice_ids = Practice.objects.filter(is_active=True).values_list("pk", flat=True)
    now = timezone.now()
    figures = compute_day(practice_ids, day)
    rows = [
        PracticeDay(practice_id=pid, day=day, figures=_dumped(values), computed_at=now)
        for pid, values in figures.items()
    ]
    PracticeDay.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["practice", "day"],
        update_fields=["figures", "computed_at"],
    )
    rollup_vendors(day=day, now=now)
    if month_rows:
        months.write_months(figures, [day])
    return len(rows)


def rollup_vendors(*, day: dt.date, now: dt.datetime | None = None) -> int:
    """Sum the day's practice rows per vendor (engagements in force that day)."""
    return rollup_vendors_range(start=day, end=day, now=now)


def rollup_vendors_range(*, start: dt.date, end: dt.date, now: dt.datetime | None = None) -> int:
    """Sum the practice rows of every day in the range per vendor, over the practices it
    served that day (two reads and one upsert, whatever the range)."""
    now = now or timezone.now()
    engagements = list(
        Engagement.objects.filter(starts_on__lte=end)
        .filter(Q(ends_on__isnull=True) | Q(ends_on__gte=start))
        .values_list("vendor_id", "practice_id", "starts_on", "ends_on")
    )
    stored: dict[tuple[int, dt.date], dict[str, Any]] = {
        (pid, day): figures
        for pid, day, figures in PracticeDay.objects.filter(
            day__gte=start, day__lte=end, practice_id__in={e[1] for e in engagements}
        ).values_list("practice_id", "day", "figures")
    }
    totals: dict[tuple[int, dt.date], dict[str, Any]] = {}
    covered: dict[tuple[int, dt.date], list[int]] = {}
    for vendor_id, pid, starts_on, ends_on in engagements:
        day = max(start, starts_on)
        last = min(end, ends_on) if ends_on else end
        while day <= last:
            figures = stored.get((pid, day))
            if figures is not None:
                total = totals.setdefault((vendor_id, day), {})
                for key, value in figures.items():
                    total[key] = combine(total.get(key), load(value))
                covered.setdefault((vendor_id, day), []).append(pid)
            day += dt.timedelta(days=1)
    rows = [
        VendorDay(
            vendor_id=vendor_id,
            day=day,
            figures=_dumped(total),
            practice_ids=sorted(covered[(vendor_id, day)]),
            computed_at=now,
        )
        for (vendor_id, day), total in totals.items()
    ]
    VendorDay.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["vendor", "day"],
        update_fields=["figures", "practice_ids", "computed_at"],
    )
    return len(rows)


def backfill(*, start: dt.date, end: dt.date, practice_ids: Iterable[int] | None = None) -> int:
    """Recompute every day from ``start`` to ``end``; returns the practice rows written.
    Each month's rows are rewritten once, with its last day in the range (in that day's
    transaction). The range's month rows are dropped first: until its row is written again,
    a month is read from its day rows, so a backfill that stops midway (or is still
    running) never leaves a month row older than the days it rewrote."""
    ids = None if practice_ids is None else sorted(set(practice_ids))
    months.drop_range(ids, start, end)
    written = 0
    day = start
    while day <= end:
        following = day + dt.timedelta(days=1)
        last = day == end or following.day == 1
        written += rollup_day(day=day, practice_ids=ids, month_rows=last)
        day = following
    return written
