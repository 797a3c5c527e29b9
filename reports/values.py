"""The value shapes a KPI definition returns, all additive so days and practices combine.

A figure is stored by its parts (a ratio as numerator and denominator, a breakdown as its
tallies), never as a finished percentage: a month is then the sum of its days' parts and
a vendor the sum of its practices', with no average of averages.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

ZERO = Decimal("0.00")
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Ratio:
    """``num / den`` (times 100 for a percentage); None when nothing was counted."""

    num: Decimal
    den: Decimal
    scale: int = 100

    @property
    def value(self) -> Decimal | None:
        if not self.den:
            return None
        return (Decimal(self.num) * self.scale / Decimal(self.den)).quantize(CENT)

    def __add__(self, other: Ratio) -> Ratio:
        return Ratio(self.num + other.num, self.den + other.den, self.scale)


@dataclass(frozen=True)
class Tally:
    """How many and how much (denials by category: 3 denials, $420.00)."""

    count: int
    amount: Decimal

    def __add__(self, other: Tally) -> Tally:
        return Tally(self.count + other.count, self.amount + other.amount)


Value = Ratio | Tally | Decimal | int | dict[str, Any]


def combine(left: Any, right: Any) -> Any:
    """The sum of two values of one KPI (None is "no data yet" and stays so alone)."""
    if left is None:
        return right
    if right is None:
        return left
    # 0 is "nothing counted" for a practice or day: the other side whatever its shape.
    if isinstance(left, int) and left == 0:
        return right
    if isinstance(right, int) and right == 0:
        return left
    if isinstance(left, dict):
        merged = dict(left)
        for key, value in right.items():
            merged[key] = combine(merged.get(key), value)
        return merged
    return left + right


def dump(value: Any) -> Any:
    """A value as JSON (money as strings: Decimal survives the round trip exactly)."""
    if value is None:
        return None
    if isinstance(value, Ratio):
        return {"r": [str(value.num), str(value.den), value.scale]}
    if isinstance(value, Tally):
        return {"t": [value.count, str(value.amount)]}
    if isinstance(value, Decimal):
        return {"d": str(value)}
    if isinstance(value, int):
        return value
    return {"b": {key: dump(item) for key, item in value.items()}}


def load(data: Any) -> Any:
    """The inverse of ``dump``."""
    if data is None or isinstance(data, int):
        return data
    if "r" in data:
        num, den, scale = data["r"]
        return Ratio(Decimal(num), Decimal(den), int(scale))
    if "t" in data:
        count, amount = data["t"]
        return Tally(int(count), Decimal(amount))
    if "d" in data:
        return Decimal(data["d"])
    return {key: load(item) for key, item in data["b"].items()}


def headline(value: Any) -> Decimal | int | None:
    """The one number a tile shows: a ratio's value, a tally's amount, a sum of a breakdown."""
    if value is None:
        return None
    if isinstance(value, Ratio):
        return value.value
    if isinstance(value, Tally):
        return value.amount
    if isinstance(value, dict):
        total: Any = None
        for item in value.values():
            total = combine(total, item)
        return headline(total) if total is not None else ZERO
    return value
