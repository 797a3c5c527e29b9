"""Month rows: one practice's stored days of a calendar month, summed once by their parts.

A period's flows are the sum of its days' parts (``reports.sums``). A long period would
make PostgreSQL sum every stored day again on each cold request; a ``PracticeMonth`` row
holds what that sum gives for one practice and one month, so a period reads its whole
months here and only its edge days (at most about 62) from ``PracticeDay``.

What a row holds (``parts``), per flow figure of the catalogue: the sums of
``reports.parts.PARTS`` (counts, numerators, denominators, amounts; a list in
``PART_NAMES`` order) over the month's days, a bitmask of the days whose row holds the
figure (the plain path counts a day lacking it as 0), the breakdown
items each summed; and a bitmask of the days stored, the last one, and the keys it was
summed for (a figure added to the catalogue later is read from the days until the month
is rolled again). Written by ``write_months`` (one query for any number of practices and
months, then one upsert) whenever ``reports.rollups`` writes a day of the month (the
nightly job, the 15-minute refresh of today, the backfill, the demo): idempotent per
(practice, month). A practice and month without a row are read from the day rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import timezone

from reports.catalogue import KPIS
from reports.models import PracticeDay, PracticeMonth
from reports.parts import COUNTS, PART_NAMES, parts_sql, value_of
from reports.values import dump, load

ONE_DAY = dt.timedelta(days=1)


def first_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def last_of(first: dt.date) -> dt.date:
    return (first + dt.timedelta(days=32)).replace(day=1) - ONE_DAY


def months_of(start: dt.date, end: dt.date) -> list[dt.date]:
    """The first days of every month ``start``..``end`` touches."""
    firsts, month = [], first_of(start)
    while month <= end:
        firsts.append(month)
        month = last_of(month) + ONE_DAY
    return firsts


def _bit(day: str) -> str:
    return f"(1 << (extract(day FROM {day})::int - 1))"


def write_months(practice_ids: Iterable[int], months: Iterable[dt.date]) -> int:
    """(Re)write the month rows of these practices and months (first days) from their
    stored days: a row per practice and month, with no day stored too (so a reader knows the
    month was summed); returns the rows written. PostgreSQL only (elsewhere the dashboard
    reads the days, ``reports.sums.supported``): 0 there."""
    ids = sorted(set(practice_ids))
    firsts = sorted({first_of(m) for m in months})
    if connection.vendor != "postgresql" or not ids or not firsts:
        return 0
    flows = [kpi.key for kpi in KPIS if not kpi.stock]
    table = PracticeDay._meta.db_table
    nulls = ", ".join("NULL" for _ in PART_NAMES)
    sql = f"""
    WITH base AS (
        SELECT p.practice_id AS pid, date_trunc('month', p.day)::date AS m, p.day, p.figures
        FROM {table} p
        WHERE p.practice_id = ANY(%s) AND p.day BETWEEN %s AND %s
          AND date_trunc('month', p.day)::date = ANY(%s::date[])
    ), top AS (
        SELECT b.pid, b.m, b.day, e.key AS k, e.value AS v
        FROM base b CROSS JOIN LATERAL jsonb_each(b.figures) e WHERE e.key = ANY(%s)
    )
    SELECT 0, pid, m, NULL, NULL, bit_or({_bit("day")}), max(day), {nulls}
    FROM base GROUP BY pid, m
    UNION ALL
    SELECT 1, pid, m, k, NULL, bit_or({_bit("day")}), NULL, {parts_sql("v")}
    FROM top GROUP BY pid, m, k
    UNION ALL
    SELECT 2, pid, m, k, item, NULL, NULL, {parts_sql("v")}
    FROM (SELECT t.pid, t.m, t.k, s.key AS item, s.value AS v
          FROM top t CROSS JOIN LATERAL jsonb_each(t.v -> 'b') s
          WHERE jsonb_typeof(t.v) = 'object') sub
    GROUP BY pid, m, k, item
    """
    found: dict[tuple[int, dt.date], dict[str, Any]] = {
        (pid, month): {"days": 0, "last": None, "keys": flows, "flows": {}, "items": {}}
        for pid in ids
        for month in firsts
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, [ids, firsts[0], last_of(firsts[-1]), firsts, flows])
        for kind, pid, month, key, item, mask, last, *values in cursor.fetchall():
            row = found[(pid, month)]
            parts = dict(zip(PART_NAMES, values, strict=True))
            if kind == 0:
                row["days"], row["last"] = mask, last.isoformat()
            elif kind == 1:
                # ``PART_NAMES`` in order (sums as text: exact), then the days' bitmask.
                stored = [None if v is None else str(v) for v in values]
                row["flows"][key] = [*stored, mask]
            else:
                row["items"].setdefault(key, {})[item] = dump(value_of(parts, None))
    now = timezone.now()
    rows = [
        PracticeMonth(practice_id=pid, month=month, parts=parts, computed_at=now)
        for (pid, month), parts in found.items()
    ]
    PracticeMonth.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["practice", "month"],
        update_fields=["parts", "computed_at"],
        batch_size=500,
    )
    return len(rows)


def write_range(practice_ids: Iterable[int], start: dt.date, end: dt.date) -> int:
    """The month rows of every month ``start``..``end`` touches (a backfill, the demo)."""
    return write_months(practice_ids, months_of(start, end))


def drop_range(practice_ids: Iterable[int] | None, start: dt.date, end: dt.date) -> int:
    """Delete the month rows of every month ``start``..``end`` touches (of every practice
    when ``practice_ids`` is None): readers then sum those months from the day rows."""
    rows = PracticeMonth.objects.filter(month__in=months_of(start, end))
    if practice_ids is not None:
        rows = rows.filter(practice_id__in=list(practice_ids))
    return rows.delete()[0]


_INTS = {i for i, name in enumerate(PART_NAMES) if name in COUNTS or name == "r_scale"}


def _parts(stored: list[Any]) -> dict[str, Any]:
    """A stored figure's parts as ``reports.sums`` has them from its query."""
    parts: dict[str, Any] = {
        name: None if value is None else int(value) if i in _INTS else Decimal(value)
        for i, (name, value) in enumerate(zip(PART_NAMES, stored, strict=False))
    }
    mask = stored[-1] or 0
    parts["mask"], parts["key_days"] = mask, mask.bit_count()
    return parts


def read_months(
    practice_ids: list[int], months: list[dt.date], flows: list[str]
) -> dict[dt.date, dict[int, dict[str, Any]]]:
    """The month rows summed for all of ``flows``, of the months where every practice has
    one: ``{month: {practice id: row}}`` with each row's ``days``/``last``/``mask`` and per
    figure its parts (``key_days``, ``mask``) and breakdown items (loaded). One query."""
    if not practice_ids or not months:
        return {}
    rows: dict[dt.date, dict[int, dict[str, Any]]] = {}
    wanted = set(flows)
    for pid, month, stored in PracticeMonth.objects.filter(
        practice_id__in=practice_ids, month__in=months
    ).values_list("practice_id", "month", "parts"):
        if not wanted <= set(stored.get("keys", ())):
            continue  # summed before a figure existed: read from the days
        last = stored.get("last")
        rows.setdefault(month, {})[pid] = {
            "days": stored["days"],
            "last": dt.date.fromisoformat(last) if last else None,
            "flows": {
                key: _parts(parts) for key, parts in stored["flows"].items() if key in wanted
            },
            "items": {
                key: {item: load(value) for item, value in found.items()}
                for key, found in stored["items"].items()
                if key in wanted
            },
        }
    complete = set(practice_ids)
    return {month: found for month, found in rows.items() if set(found) == complete}
