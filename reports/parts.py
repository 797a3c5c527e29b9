"""The SQL that sums stored figures by their parts, shared by a period's sums
(``reports.sums``) and the month rows (``reports.months``).

Per group: how many rows hold a non-null value, and the sums of each stored shape
(``reports.values.dump``: {"r": [num, den, scale]}, {"t": [count, amount]}, {"d": amount},
a plain count, {"b": {item: value}}).
"""

from __future__ import annotations

from typing import Any

from reports.values import Ratio, Tally

PARTS = """
    count(*) FILTER (WHERE jsonb_typeof({v}) <> 'null'),
    count(*) FILTER (WHERE {v} ? 'r'),
    sum(({v} -> 'r' ->> 0)::numeric),
    sum(({v} -> 'r' ->> 1)::numeric),
    min(({v} -> 'r' ->> 2)::int),
    count(*) FILTER (WHERE {v} ? 't'),
    sum(({v} -> 't' ->> 0)::numeric),
    sum(({v} -> 't' ->> 1)::numeric),
    count(*) FILTER (WHERE {v} ? 'd'),
    sum(({v} ->> 'd')::numeric),
    sum(CASE WHEN jsonb_typeof({v}) = 'number' THEN {v}::numeric END),
    count(*) FILTER (WHERE {v} ? 'b')
"""
PART_NAMES = [
    "nonnull", "n_r", "r_num", "r_den", "r_scale", "n_t", "t_count", "t_amount", "n_d", "d",
    "n", "n_b",
]  # fmt: skip
# The parts that are counts (ints); the others are sums (numeric) or the ratio's scale.
COUNTS = {"nonnull", "n_r", "n_t", "n_d", "n_b"}


def parts_sql(v: str) -> str:
    """The aggregates of ``PARTS`` over the JSON value ``v`` (an SQL expression)."""
    return PARTS.replace("{v}", v)


def value_of(parts: dict[str, Any], items: dict[str, Any] | None) -> Any:
    """The combined value of a group's non-null values (0 when only zeros were counted),
    as ``combine`` folds them from 0."""
    if parts["n_r"]:
        return Ratio(parts["r_num"], parts["r_den"], parts["r_scale"])
    if parts["n_t"]:
        return Tally(int(parts["t_count"]), parts["t_amount"])
    if parts["n_d"]:
        number = parts["n"] or 0
        return parts["d"] + number if number else parts["d"]
    if parts["n_b"]:
        return dict(sorted((items or {}).items()))
    if not parts["nonnull"]:
        return None
    return int(parts["n"] or 0)
