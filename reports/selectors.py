"""Reading the KPI snapshots for a period: sums of days, stocks at the end, series.

Every read starts from practice ids the caller already scoped (``visible_practice_ids``
with ``view_kpis``). One query reads the stored days; today, when the range includes it,
is computed live (a fixed number of aggregate queries): the counts never depend on the
number of claims.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, cast

from django.db.models import DecimalField, Sum
from django.db.models.fields.json import KT
from django.db.models.functions import Cast, TruncMonth
from django.utils import timezone

from reports.catalogue import BY_KEY, KPIS
from reports.models import PracticeDay
from reports.rollups import compute_day
from reports.values import Ratio, combine, load

Days = dict[dt.date, dict[str, Any]]
# The monthly trend charts (summed in SQL, see ``month_trend``).
TREND_KEYS = ["clean_claim_rate", "first_pass_denial_rate", "net_collection_rate", "days_in_ar"]


@dataclass(frozen=True)
class Period:
    """A dashboard period and the one it is compared with."""

    key: str
    label: str
    start: dt.date
    end: dt.date
    previous_start: dt.date
    previous_end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1


PERIODS = {
    "this_month": "This month",
    "last_month": "Last month",
    "last_90": "Last 90 days",
    "custom": "Custom",
}
MAX_DAYS = 731
# No custom range starts before this (its previous period must stay a valid date).
EARLIEST = dt.date(2000, 1, 1)


def _month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def period(
    key: str, today: dt.date, start: dt.date | None = None, end: dt.date | None = None
) -> Period:
    """The period by name (unknown names: this month); custom needs 2000-01-01 <=
    ``start`` <= ``end`` (else this month), at most two years, not after today."""
    if key == "last_month":
        end_ = _month_start(today) - dt.timedelta(days=1)
        start_ = _month_start(end_)
        prev_end = start_ - dt.timedelta(days=1)
        return Period(key, PERIODS[key], start_, end_, _month_start(prev_end), prev_end)
    if key == "last_90":
        start_ = today - dt.timedelta(days=89)
        return _with_previous(key, start_, today)
    if key == "custom" and start and end and EARLIEST <= start <= end:
        end = min(end, today)
        start = max(min(start, end), end - dt.timedelta(days=MAX_DAYS - 1))
        return _with_previous(key, start, end)
    start_ = _month_start(today)
    prev_end = start_ - dt.timedelta(days=1)
    prev_start = _month_start(prev_end)
    # Compare like with like: the same number of days into last month.
    prev_end = min(prev_start + (today - start_), prev_end)
    return Period("this_month", PERIODS["this_month"], start_, today, prev_start, prev_end)


def _with_previous(key: str, start: dt.date, end: dt.date) -> Period:
    length = end - start
    prev_end = start - dt.timedelta(days=1)
    return Period(key, PERIODS[key], start, end, prev_end - length, prev_end)


def read_days(
    practice_ids: Iterable[int],
    start: dt.date,
    end: dt.date,
    today: dt.date | None = None,
    keys: Iterable[str] | None = None,
    live: bool = True,
) -> Days:
    """The stored days from ``start`` to ``end`` summed over the practices (only ``keys``
    when given). Today's row is refreshed every few minutes (``reports.tasks``); a practice
    without one yet gets today computed live (unless not ``live``)."""
    today = today or timezone.localdate()
    ids = sorted(set(practice_ids))
    days: Days = {}
    if not ids or start > today:
        return days
    wanted = list(keys) if keys is not None else None
    rows = PracticeDay.objects.filter(practice_id__in=ids, day__gte=start, day__lte=min(end, today))
    stored_today: set[int] = set()
    if wanted is None:
        for practice_id, day, figures in rows.values_list("practice_id", "day", "figures"):
            stored_today.update([practice_id] if day == today else [])
            _add(days, day, {key: load(value) for key, value in figures.items()})
    else:
        fields = [f"figures__{key}" for key in wanted]
        for practice_id, day, *values in rows.values_list("practice_id", "day", *fields):
            stored_today.update([practice_id] if day == today else [])
            _add(days, day, {key: load(v) for key, v in zip(wanted, values, strict=True)})
    missing = [pid for pid in ids if pid not in stored_today]
    if live and start <= today <= end and missing:
        for figures in compute_day(missing, today).values():
            _add(days, today, {k: v for k, v in figures.items() if wanted is None or k in wanted})
    return days


def _add(days: Days, day: dt.date, figures: dict[str, Any]) -> None:
    total = days.setdefault(day, {})
    for key, value in figures.items():
        total[key] = combine(total.get(key), value) if key in total else value


def aggregate(
    days: Days, start: dt.date, end: dt.date, keys: Iterable[str] | None = None
) -> dict[str, Any]:
    """The period's figures: flows summed over its days, stocks as of its last stored day
    (None: no data yet; 0: nothing counted)."""
    inside = sorted(day for day in days if start <= day <= end)
    result: dict[str, Any] = {}
    wanted = set(keys) if keys is not None else None
    for kpi in KPIS:
        if wanted is not None and kpi.key not in wanted:
            continue
        if not inside:
            result[kpi.key] = None  # nothing stored for the period: no data yet
            continue
        if kpi.stock:
            result[kpi.key] = days[inside[-1]].get(kpi.key, 0)
            continue
        total: Any = 0
        seen_data = False
        for day in inside:
            value = days[day].get(kpi.key, 0)
            if value is not None:
                seen_data = True
                total = combine(total, value)
        result[kpi.key] = total if seen_data else None
    return result


def monthly(
    days: Days, months: list[dt.date], keys: Iterable[str] | None = None
) -> dict[dt.date, dict[str, Any]]:
    """The figures of each month (first days given) from the days read."""
    result = {}
    wanted = list(keys) if keys is not None else None
    for first in months:
        following = (first + dt.timedelta(days=32)).replace(day=1)
        result[first] = aggregate(days, first, following - dt.timedelta(days=1), wanted)
    return result


def month_trend(
    practice_ids: Iterable[int], months: list[dt.date], end: dt.date, days: Days, today: dt.date
) -> dict[dt.date, dict[str, Any]]:
    """The trend figures (``TREND_KEYS``) of each month, summed in SQL: flows (ratios) as
    the month's sums of numerators and denominators, stocks as of the month's last day.
    ``days`` (read for the period) gives today when the range includes it, stored or live.
    Two queries and twelve rows per practice, whatever the range's number of days."""
    ids = sorted(set(practice_ids))
    flows = [key for key in TREND_KEYS if not BY_KEY[key].stock]
    stocks = [key for key in TREND_KEYS if BY_KEY[key].stock]
    last_stored = min(end, today - dt.timedelta(days=1))
    number = DecimalField(max_digits=20, decimal_places=4)
    sums: dict[str, Any] = {}
    for key in flows:
        sums[f"{key}__n"] = Sum(Cast(KT(f"figures__{key}__r__0"), number))
        sums[f"{key}__d"] = Sum(Cast(KT(f"figures__{key}__r__1"), number))
    rows = (
        PracticeDay.objects.filter(practice_id__in=ids, day__gte=months[0], day__lte=last_stored)
        .annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(**sums)
    )
    result: dict[dt.date, dict[str, Any]] = {m: {} for m in months}
    for found in rows:
        row = cast(dict[str, Any], found)
        for key in flows:
            if row[f"{key}__d"] is not None:
                ratio = Ratio(row[f"{key}__n"] or Decimal(0), row[f"{key}__d"], 100)
                result[row["month"]][key] = ratio
    month_ends = {
        min((m + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1), end): m
        for m in months
    }
    fields = [f"figures__{key}" for key in stocks]
    stored = PracticeDay.objects.filter(
        practice_id__in=ids, day__in=[d for d in month_ends if d <= last_stored]
    ).values_list("day", *fields)
    for day, *values in stored:
        figures = result[month_ends[day]]
        for key, value in zip(stocks, values, strict=True):
            figures[key] = combine(figures.get(key), load(value))
    if today in days:  # today's flows join its month; its stocks are the month's
        current = result.get(_month_start(today))
        if current is not None:
            for key in flows:
                current[key] = combine(current.get(key), days[today].get(key))
            if today in month_ends:
                for key in stocks:
                    current[key] = days[today].get(key)
    return result


def last_months(today: dt.date, count: int = 12) -> list[dt.date]:
    """The first days of the last ``count`` months, oldest first, this month included."""
    firsts = [_month_start(today)]
    while len(firsts) < count:
        firsts.append(_month_start(firsts[-1] - dt.timedelta(days=1)))
    return firsts[::-1]
