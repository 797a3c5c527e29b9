"""A period's figures summed in PostgreSQL: a constant amount of Python whatever its length.

``reports.selectors.read_days`` + ``aggregate`` (the plain path, kept as the reference)
load every stored day of the period into Python and add them one by one. Here one
aggregate query sums the stored parts instead (``jsonb_each`` over each row's figures:
numerators and denominators of ratios, tallies' counts and amounts, money, counts, and
the items of breakdowns by their key), grouped by period (and practice for the console),
so Python receives one row per figure (and per breakdown item), not one per day. Ratios
are rebuilt from the summed parts, never averaged. Stocks (aging, A/R, days in A/R, overdue
actions) come from the period's last stored day only (one small read). Today, when the
period includes it, is taken exactly as the plain path takes it (its stored row, or computed
live for a practice without one) and added in Python.

The result is the plain path's, value for value: a figure is None ("no data yet") when no
day was stored, or when every stored day has it as None; 0 when nothing was counted;
else the sum of its values (``reports.values.combine``). ``tests/reports/test_sums.py``
compares both paths on the same rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from reports import months
from reports.catalogue import KPIS
from reports.models import PracticeDay
from reports.parts import PART_NAMES, PARTS, parts_sql, value_of
from reports.rollups import compute_day
from reports.values import combine, load

Figures = dict[str, Any]
ONE_DAY = dt.timedelta(days=1)

_PARTS = PARTS
_PART_NAMES = PART_NAMES


def supported() -> bool:
    """Whether the database sums here: PostgreSQL (``jsonb_each``, ``GROUPING SETS``, ``=
    ANY``). On SQLite, the embedded default of ``make run``, the dashboard reads the plain
    way (``reports.dashboard._period_figures_plain``): the same figures, more Python."""
    return connection.vendor == "postgresql"


_value = value_of


@dataclass
class Sums:
    """What ``period_sums`` read: each (range index, practice id or None for all) group's
    figures, and today's figures per group when a range includes today."""

    figures: dict[tuple[int, int | None], Figures] = field(default_factory=dict)
    today: dict[int | None, Figures] = field(default_factory=dict)
    months: list[tuple[dt.date, dt.date, Figures]] = field(default_factory=list)


def _rows_at(
    ids: list[int], days: Iterable[dt.date], keys: set[str]
) -> dict[dt.date, list[tuple[int, Figures]]]:
    """The stored rows of these practices on these days (a few: today, each group's last
    day), with the wanted keys they hold (a key a row lacks stays absent: the plain path
    skips it; a null one is None)."""
    found: dict[dt.date, list[tuple[int, Figures]]] = {}
    rows = PracticeDay.objects.filter(practice_id__in=ids, day__in=sorted(set(days)))
    for pid, day, figures in rows.order_by("day", "practice_id").values_list(
        "practice_id", "day", "figures"
    ):
        loaded = {key: load(value) for key, value in figures.items() if key in keys}
        found.setdefault(day, []).append((pid, loaded))
    return found


def _today(
    ids: list[int], today: dt.date, keys: set[str], stored: list[tuple[int, Figures]]
) -> dict[int, Figures]:
    """Today's figures per practice as the plain path reads them: the stored row, else
    computed live."""
    found = dict(stored)
    missing = [pid for pid in ids if pid not in found]
    if missing:
        for pid, figures in compute_day(missing, today).items():
            found[pid] = {k: v for k, v in figures.items() if k in keys}
    return found


def _add(total: Figures, figures: Figures) -> None:
    """``reports.selectors._add``: one more practice's figures of the same day."""
    for key, value in figures.items():
        total[key] = combine(total.get(key), value) if key in total else value


def period_sums(
    practice_ids: Iterable[int],
    ranges: Sequence[tuple[dt.date, dt.date]],
    today: dt.date,
    *,
    keys: Iterable[str] | None = None,
    by_practice: bool = False,
    monthly: int | None = None,
) -> Sums:
    """Every figure (only ``keys`` when given) of each range over these practices, as
    ``aggregate(read_days(ids, start, end, today), start, end)`` gives it: under (i, None)
    for range i, and under (i, practice id) for each practice when ``by_practice``.
    Ranges must not overlap. Two queries (three when a range includes today).

    ``monthly``: the index of a range whose calendar months (``month_pieces``) are wanted
    too, in ``Sums.months`` (all practices): the same query sums by month and adds the
    months up for the range."""
    ids = sorted(set(practice_ids))
    wanted = [kpi for kpi in KPIS if keys is None or kpi.key in set(keys)]
    wanted_keys = {kpi.key for kpi in wanted}
    flows = [kpi.key for kpi in wanted if not kpi.stock]
    stocks = [kpi.key for kpi in wanted if kpi.stock]
    groups: list[int | None] = [None, *(ids if by_practice else [])]
    result = Sums()
    if not ids:
        for index in range(len(ranges)):
            for group in groups:
                result.figures[(index, group)] = {key: None for key in wanted_keys}
        return result
    # The stored days before today, summed in PostgreSQL: by piece (a range, or a month of
    # the ``monthly`` range), each piece added to the range it is part of (and to itself).
    targets = list(ranges)
    pieces: list[tuple[dt.date, dt.date]] = []
    owners: list[list[int]] = []
    for index, (start, end) in enumerate(ranges):
        if index == monthly:
            for piece in month_pieces(start, end):
                targets.append(piece)
                pieces.append(piece)
                owners.append([index, len(targets) - 1])
        else:
            pieces.append((start, end))
            owners.append([index])
    stored = [(start, min(end, today - ONE_DAY)) for start, end in pieces]
    counted, values, items = _sum_pieces(ids, stored, flows, by_practice, owners)
    with_today = any(start <= today <= end for start, end in ranges)
    # Stocks as of each group's last stored day (ranges with today: today's).
    last_days = {
        group: day
        for group, (_, day) in counted.items()
        if day is not None and not targets[group[0]][0] <= today <= targets[group[0]][1]
    }
    rows = _rows_at(ids, [*last_days.values(), *([today] if with_today else [])], wanted_keys)
    stock_rows: dict[tuple[int, int | None], Figures] = {}
    for (index, member), day in last_days.items():
        total: Figures = {}
        for pid, stored_figures in rows.get(day, []):
            if member is None or member == pid:
                _add(total, {k: v for k, v in stored_figures.items() if k in stocks})
        stock_rows[(index, member)] = total
    # Today as the plain path has it (stored or live), per practice and summed.
    today_of: dict[int | None, Figures] = {}
    if with_today:
        per_practice = _today(ids, today, wanted_keys, rows.get(today, []))
        summed: Figures = {}
        for pid in ids:
            _add(summed, per_practice[pid])
        today_of[None] = summed
        if by_practice:
            for pid, each in per_practice.items():
                today_of[pid] = each
        result.today = today_of
    for index, (start, end) in enumerate(targets):
        has_today = start <= today <= end
        for group in groups if index < len(ranges) else [None]:
            days, _last = counted.get((index, group), (0, None))
            today_figures = today_of.get(group) if has_today else None
            if not days and today_figures is None:
                result.figures[(index, group)] = {key: None for key in wanted_keys}
                continue
            figures: Figures = {}
            for key in flows:
                parts = values.get((index, group, key))
                # Seen: a day with a value, or a day whose rows lack the figure (0).
                seen = parts is not None and (parts["nonnull"] > 0 or parts["key_days"] < days)
                value = _value(parts, items.get((index, group, key))) if parts else 0
                value = 0 if value is None else value
                if today_figures is not None:
                    now = today_figures.get(key, 0)
                    if now is not None:
                        seen = True
                        value = combine(value, now)
                figures[key] = value if seen else None
            if today_figures is not None:
                for key in stocks:
                    figures[key] = today_figures.get(key, 0)
            else:
                last = stock_rows.get((index, group), {})
                for key in stocks:
                    figures[key] = last.get(key, 0)
            result.figures[(index, group)] = figures
    result.months = [
        (start, end, result.figures.pop((index, None)))
        for index, (start, end) in enumerate(targets)
        if index >= len(ranges)
    ]
    return result


def month_pieces(start: dt.date, end: dt.date) -> list[tuple[dt.date, dt.date]]:
    """``start``..``end`` cut at the first of each month (the first and last may be partial)."""
    pieces = []
    while start <= end:
        following = (start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
        pieces.append((start, min(end, following - ONE_DAY)))
        start = following
    return pieces


_SUMMED = ["nonnull", "n_r", "r_num", "r_den", "n_t", "t_count", "t_amount", "n_d", "d", "n",
           "n_b", "key_days"]  # fmt: skip


def _plus(left: dict[str, Any] | None, right: dict[str, Any]) -> dict[str, Any]:
    """Two pieces' parts of one figure added (the scale of ratios is the figure's own)."""
    if left is None:
        return dict(right)
    merged = dict(left)
    for name in _SUMMED:
        if right.get(name) is not None:
            merged[name] = right[name] if merged.get(name) is None else merged[name] + right[name]
    if right.get("r_scale") is not None:
        merged["r_scale"] = min(x for x in (merged.get("r_scale"), right["r_scale"]) if x)
    return merged


def _merge(
    counted: dict[tuple[int, int | None], tuple[int, dt.date | None]],
    values: dict[tuple[int, int | None, str], dict[str, Any]],
    items: dict[tuple[int, int | None, str], dict[str, Any]],
    owners: list[list[int]],
) -> tuple[
    dict[tuple[int, int | None], tuple[int, dt.date | None]],
    dict[tuple[int, int | None, str], dict[str, Any]],
    dict[tuple[int, int | None, str], dict[str, Any]],
]:
    """The pieces' sums added up per range (pieces never share a day, so days add up)."""
    days_of: dict[tuple[int, int | None], tuple[int, dt.date | None]] = {}
    parts_of: dict[tuple[int, int | None, str], dict[str, Any]] = {}
    items_of: dict[tuple[int, int | None, str], dict[str, Any]] = {}
    for (piece, group), (days, last) in counted.items():
        for target in owners[piece]:
            before, latest = days_of.get((target, group), (0, None))
            latest = last if latest is None or (last is not None and last > latest) else latest
            days_of[(target, group)] = (before + days, latest)
    for (piece, group, key), parts in values.items():
        for target in owners[piece]:
            parts_of[(target, group, key)] = _plus(parts_of.get((target, group, key)), parts)
    for (piece, group, key), found in items.items():
        for target in owners[piece]:
            merged = items_of.setdefault((target, group, key), {})
            for item, value in found.items():
                merged[item] = combine(merged.get(item), value)
    return days_of, parts_of, items_of


def _sum_pieces(
    ids: list[int],
    stored: Sequence[tuple[dt.date, dt.date]],
    flows: list[str],
    by_practice: bool,
    targets: list[list[int]],
) -> tuple[
    dict[tuple[int, int | None], tuple[int, dt.date | None]],
    dict[tuple[int, int | None, str], dict[str, Any]],
    dict[tuple[int, int | None, str], dict[str, Any]],
]:
    """``_sum_stored``'s sums of each piece, its whole months read from the month rows
    (``reports.months``: one query) and only the rest from the day rows: PostgreSQL sums at
    most the edge days, whatever the period's length. A month some practice has no row of is
    read from the days. Each piece's sums are added to the ranges ``targets`` gives it
    (``_merge``)."""
    whole = [
        first
        for start, end in stored
        for first, last in month_pieces(start, end)
        if first.day == 1 and last == months.last_of(first)
    ]
    found = months.read_months(ids, sorted(set(whole)), flows) if whole and flows else {}
    day_ranges, owners, from_months = split(stored, set(found))
    counted, values, items = _sum_stored(ids, day_ranges, flows, by_practice)
    for index, first in from_months:
        owners.append([index])
        _month_sums(len(owners) - 1, found[first], flows, by_practice, counted, values, items)
    return _merge(counted, values, items, [targets[piece] for [piece] in owners])


def split(
    stored: Sequence[tuple[dt.date, dt.date]], summed: set[dt.date]
) -> tuple[list[tuple[dt.date, dt.date]], list[list[int]], list[tuple[int, dt.date]]]:
    """Each piece cut into its whole months with month rows (``summed``: their first days)
    and the rest as day ranges (adjacent days of a piece in one range): the day ranges, the
    piece each belongs to, and (piece, month) for the months."""
    day_ranges: list[tuple[dt.date, dt.date]] = []
    owners: list[list[int]] = []
    from_months: list[tuple[int, dt.date]] = []
    for index, (start, end) in enumerate(stored):
        for first, last in month_pieces(start, end):
            if first in summed and first.day == 1 and last == months.last_of(first):
                from_months.append((index, first))
            elif owners and owners[-1] == [index] and day_ranges[-1][1] + ONE_DAY == first:
                day_ranges[-1] = (day_ranges[-1][0], last)
            else:
                day_ranges.append((first, last))
                owners.append([index])
    return day_ranges, owners, from_months


_NOTHING = {"nonnull": 0, "key_days": 0, "n_r": 0, "n_t": 0, "n_d": 0, "n_b": 0, "n": None}


def _month_sums(
    sub: int,
    rows: dict[int, dict[str, Any]],
    flows: list[str],
    by_practice: bool,
    counted: dict[tuple[int, int | None], tuple[int, dt.date | None]],
    values: dict[tuple[int, int | None, str], dict[str, Any]],
    items: dict[tuple[int, int | None, str], dict[str, Any]],
) -> None:
    """One month's rows as ``_sum_stored`` gives a piece: per practice as stored, for all of
    them added up (days and days holding a figure by their bitmasks: a day counts once)."""
    days_mask, latest = 0, None
    masks: dict[str, int] = {}
    for pid, row in rows.items():
        if not row["days"]:
            continue
        days_mask |= row["days"]
        latest = row["last"] if latest is None else max(latest, row["last"])
        for key in flows:
            parts = row["flows"].get(key)
            if by_practice:
                counted[(sub, pid)] = (row["days"].bit_count(), row["last"])
                values[(sub, pid, key)] = dict(parts or _NOTHING)
                if key in row["items"]:
                    items[(sub, pid, key)] = dict(row["items"][key])
            if parts is None:
                continue
            masks[key] = masks.get(key, 0) | parts["mask"]
            values[(sub, None, key)] = _plus(values.get((sub, None, key)), parts)
            merged = items.setdefault((sub, None, key), {})
            for item, value in row["items"].get(key, {}).items():
                merged[item] = combine(merged.get(item), value)
    if not days_mask:
        return
    counted[(sub, None)] = (days_mask.bit_count(), latest)
    for key in flows:
        total = values.setdefault((sub, None, key), dict(_NOTHING))
        total["key_days"] = masks.get(key, 0).bit_count()
        if not items.get((sub, None, key)):
            items.pop((sub, None, key), None)


def _range_case(
    stored: Sequence[tuple[dt.date, dt.date]],
) -> tuple[str, str, list[Any], list[Any]]:
    whens, wheres, params, where_params = [], [], [], []
    for index, (start, end) in enumerate(stored):
        if start > end:
            continue
        whens.append(f"WHEN p.day BETWEEN %s AND %s THEN {index}")
        params += [start, end]
        wheres.append("p.day BETWEEN %s AND %s")
        where_params += [start, end]
    if not whens:
        return "", "", [], []
    return f"CASE {' '.join(whens)} END", " OR ".join(wheres), params, where_params


_parts = parts_sql


def _key(key: str) -> str:
    if not key.replace("_", "").isalnum():  # the catalogue's keys only, inlined as literals
        raise ValueError(key)
    return f"'{key}'"


def _sum_stored(
    ids: list[int],
    stored: Sequence[tuple[dt.date, dt.date]],
    flows: list[str],
    by_practice: bool,
) -> tuple[
    dict[tuple[int, int | None], tuple[int, dt.date | None]],
    dict[tuple[int, int | None, str], dict[str, Any]],
    dict[tuple[int, int | None, str], dict[str, Any]],
]:
    """Per group (range, and practice when ``by_practice``): how many days are stored and
    the last; per group and flow figure, its parts; per group, figure and breakdown item,
    the item's parts. Two queries, one row per group and one per breakdown item (a third
    when some stored row lacks a figure: which days have it)."""
    case, where, case_params, where_params = _range_case(stored)
    if not case or not flows:
        return {}, {}, {}
    pid = "pid" if by_practice else "NULL::int"
    sets = "GROUPING SETS ((r, pid{x}), (r{x}))" if by_practice else "GROUPING SETS ((r{x}))"
    table = PracticeDay._meta.db_table
    base = (
        f"SELECT {case} AS r, p.practice_id AS pid, p.day, p.figures FROM {table} p "
        f"WHERE p.practice_id = ANY(%s) AND ({where})"
    )
    params = [*case_params, ids, *where_params]
    sql = f"""
    WITH base AS ({base}), top AS (
        SELECT b.r, b.pid, b.day, e.key AS k, e.value AS v
        FROM base b CROSS JOIN LATERAL jsonb_each(b.figures) e WHERE e.key = ANY(%s)
    )
    SELECT 0, r, {pid}, NULL, NULL, count(*), count(DISTINCT day), max(day),
        {", ".join("NULL" for _ in _PART_NAMES)}
    FROM base GROUP BY {sets.format(x="")}
    UNION ALL
    SELECT 1, r, {pid}, k, NULL, count(*), NULL, NULL, {_parts("v")}
    FROM top GROUP BY {sets.format(x=", k")}
    UNION ALL
    SELECT 2, r, {pid}, k, item, NULL, NULL, NULL, {_parts("v")}
    FROM (SELECT t.r, t.pid, t.k, s.key AS item, s.value AS v
          FROM top t CROSS JOIN LATERAL jsonb_each(t.v -> 'b') s
          WHERE jsonb_typeof(t.v) = 'object') sub
    GROUP BY {sets.format(x=", k, item")}
    """
    counted: dict[tuple[int, int | None], tuple[int, dt.date | None]] = {}
    values: dict[tuple[int, int | None, str], dict[str, Any]] = {}
    items: dict[tuple[int, int | None, str], dict[str, Any]] = {}
    lacking = False
    rows_of: dict[tuple[int, int | None], int] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, flows])
        for kind, index, group, key, item, rows, days, last, *found in cursor.fetchall():
            parts = dict(zip(_PART_NAMES, found, strict=True))
            if kind == 0:
                counted[(index, group)] = (days, last)
                rows_of[(index, group)] = rows
            elif kind == 1:
                parts["has"] = rows
                values[(index, group, key)] = parts
            else:
                items.setdefault((index, group, key), {})[item] = _value(parts, None)
        for (index, group, _key_name), parts in values.items():
            # Every row holds the figure: no day lacks it (else counted below).
            if parts["has"] == rows_of[(index, group)]:
                parts["key_days"] = counted[(index, group)][0]
            else:
                lacking, parts["key_days"] = True, None
        for index, group in counted:
            for key in flows:
                if (index, group, key) not in values:  # no row holds it: every day lacks it
                    values[(index, group, key)] = {
                        "nonnull": 0,
                        "key_days": 0,
                        "n_r": 0,
                        "n_t": 0,
                        "n_d": 0,
                        "n_b": 0,
                        "n": None,
                    }
        if lacking:
            # Rows written before a figure existed: on which days some row has it.
            cursor.execute(
                f"SELECT r, {pid}, k, count(DISTINCT day) FROM ({base}) b "
                f"CROSS JOIN LATERAL unnest(%s::text[]) kk(k) WHERE b.figures ? kk.k "
                f"GROUP BY {sets.format(x=', k')}",
                [*params, flows],
            )
            with_key = {(i, g, k): n for i, g, k, n in cursor.fetchall()}
            for (index, group, key), parts in values.items():
                if parts["key_days"] is None:
                    parts["key_days"] = with_key.get((index, group, key), 0)
    return counted, values, items


def daily(
    practice_ids: Iterable[int],
    start: dt.date,
    end: dt.date,
    today: dt.date,
    keys: Sequence[str],
    today_figures: Figures | None,
) -> dict[str, list[float | None]]:
    """Each day's headline value of ``keys`` (summed over the practices, as
    ``reports.values.headline`` gives it) from ``start`` to ``end``: the sparklines. One
    query, one number per day and figure: a ratio's value is computed in PostgreSQL from the
    day's summed parts and rounded to the cent half to even, as ``Ratio.value`` rounds."""
    from reports.values import headline

    ids = sorted(set(practice_ids))
    found: dict[tuple[dt.date, str], float | None] = {}
    last = min(end, today - ONE_DAY)
    if ids and start <= last and keys:
        table = PracticeDay._meta.db_table
        names = ", ".join(_PART_NAMES)
        # x: the ratio times 100 (cents); half to even: floor(x) + 1 above .5, + parity at .5.
        x = "(r_num * r_scale * 100 / r_den)"
        cents = (
            f"(CASE WHEN {x} - floor({x}) > 0.5 THEN floor({x}) + 1 "
            f"WHEN {x} - floor({x}) < 0.5 THEN floor({x}) "
            f"ELSE floor({x}) + abs(mod(floor({x}), 2)) END) / 100"
        )
        sql = f"""
        SELECT day, key, CASE
            WHEN nonnull = 0 OR n_b > 0 THEN NULL
            WHEN n_r > 0 THEN CASE WHEN r_den = 0 THEN NULL ELSE {cents} END
            WHEN n_t > 0 THEN t_amount
            WHEN n_d > 0 THEN d + coalesce(n, 0)
            ELSE coalesce(n, 0) END::float8
        FROM (
            SELECT p.day, e.key, {_parts("e.value")}
            FROM {table} p CROSS JOIN LATERAL jsonb_each(p.figures) e
            WHERE p.practice_id = ANY(%s) AND p.day BETWEEN %s AND %s AND e.key = ANY(%s)
            GROUP BY p.day, e.key
        ) AS parts (day, key, {names})
        """
        with connection.cursor() as cursor:
            cursor.execute(sql, [ids, start, last, list(keys)])
            for day, key, value in cursor.fetchall():
                found[(day, key)] = value
    series: dict[str, list[float | None]] = {key: [] for key in keys}
    day = start
    while day <= end:
        for key in keys:
            if day == today and today_figures is not None:
                now = headline(today_figures.get(key))
                series[key].append(float(now) if now is not None else None)
            else:
                series[key].append(found.get((day, key)))
        day += ONE_DAY
    return series
