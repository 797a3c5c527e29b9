"""CSV rows: one data row's cells as typed values, with one specific message per bad
cell, and the practice's records the rows are checked against.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from claims.imports.results import Context
from practices.choices import CobOrder
from practices.models import Payer

COB_ORDERS = {
    **{str(o.value): o.value for o in CobOrder},
    **{o.label.lower(): o.value for o in CobOrder},
    "p": 1,
    "s": 2,
    "t": 3,
}
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%Y%m%d")
DATETIME_FORMATS = ("%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M%p", "%m/%d/%Y %H:%M:%S")
CODE = re.compile(r"[A-Z0-9]{1,10}")
LIST_SEPARATORS = re.compile(r"[;,:\s]+")
MAX_MONEY = Decimal("9999999999.99")
MAX_UNITS = Decimal("99999.99")


def parse_date(value: str) -> dt.date | None:
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()  # noqa: DTZ007 (only the date is kept)
        except ValueError:
            continue
    return None


def parse_datetime(value: str) -> dt.datetime | None:
    """ISO 8601 or US "MM/DD/YYYY HH:MM [AM]"; without an offset, in the practice's time."""
    local = timezone.get_current_timezone()
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        parsed = None
        for fmt in DATETIME_FORMATS:
            try:
                parsed = dt.datetime.strptime(value, fmt).replace(tzinfo=local)
                break
            except ValueError:
                continue
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=local)
    return parsed


def parse_decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value.replace("$", "").replace(",", "").strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


class Row:
    """One data row: typed accessors that file a specific error per bad cell."""

    def __init__(self, number: int, values: dict[str, str], ctx: Context) -> None:
        self.number = number
        self.values = values
        self.ctx = ctx
        self.ok = True

    def error(self, name: str, message: str) -> None:
        self.ok = False
        self.ctx.outcome.error(message, row=self.number, field=name)

    def raw(self, name: str) -> str:
        return self.values.get(name, "")

    def text(self, name: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, "required, but the cell is empty")
            return ""
        if max_length is not None and len(value) > max_length:
            self.error(name, f"{value!r} is longer than {max_length} characters")
        return value

    def date(self, name: str, *, required: bool = False) -> dt.date | None:
        value = self.text(name, required=required)
        if not value:
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.error(name, f"{value!r} is not a date (use YYYY-MM-DD or MM/DD/YYYY)")
        return parsed

    def datetime(self, name: str, *, required: bool = False) -> dt.datetime | None:
        value = self.text(name, required=required)
        if not value:
            return None
        parsed = parse_datetime(value)
        if parsed is None:
            self.error(
                name, f"{value!r} is not a date and time (use YYYY-MM-DD HH:MM or MM/DD/YYYY HH:MM)"
            )
        return parsed

    def money(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self.text(name, required=required)
        if not value:
            return None
        amount = parse_decimal(value)
        if amount is None:
            self.error(name, f"{value!r} is not an amount")
        elif amount < 0:
            self.error(name, f"{value!r} is negative")
        elif amount.as_tuple().exponent < -2:  # type: ignore[operator]
            self.error(name, f"{value!r} has more than 2 decimal places")
        elif amount > MAX_MONEY:
            self.error(name, f"{value!r} is too large")
        else:
            return amount.quantize(Decimal("0.01"))
        return None

    def units(self, name: str) -> Decimal:
        value = self.text(name)
        if not value:
            return Decimal("1")
        number = parse_decimal(value)
        if number is None:
            self.error(name, f"{value!r} is not a number")
        elif number <= 0:
            self.error(name, f"{value!r} must be more than 0")
        elif number.as_tuple().exponent < -2 or number > MAX_UNITS:  # type: ignore[operator]
            self.error(name, f"{value!r} must be at most {MAX_UNITS} with 2 decimal places")
        else:
            return number
        return Decimal("1")

    def integer(self, name: str, *, default: int, low: int, high: int) -> int:
        value = self.text(name)
        if not value:
            return default
        if not value.isdigit() or not low <= int(value) <= high:
            self.error(name, f"{value!r} is not a whole number from {low} to {high}")
            return default
        return int(value)

    def choice(self, name: str, choices: dict[str, Any], *, default: Any, what: str) -> Any:
        value = self.text(name)
        if not value:
            return default
        key = value.lower()
        if key not in choices:
            key = key.replace("_", " ").replace("-", " ")
        if key not in choices:
            self.error(name, f"{value!r} is not {what}")
            return default
        return choices[key]

    def codes(
        self, name: str, *, pattern: re.Pattern[str], what: str, limit: int = 12
    ) -> list[str]:
        value = self.text(name)
        codes = [c for c in LIST_SEPARATORS.split(value.upper()) if c]
        bad = [c for c in codes if not pattern.fullmatch(c)]
        if bad:
            self.error(name, f"{bad[0]!r} is not {what}")
        elif len(codes) > limit:
            self.error(name, f"{value!r} has {len(codes)} entries; at most {limit}")
        return codes


# --- records on file ----------------------------------------------------------------------


def in_practice(ctx: Context, model: Any, field_name: str, values: set[str]) -> dict[str, Any]:
    return {
        getattr(obj, field_name): obj
        for obj in model.objects.filter(practice=ctx.practice, **{f"{field_name}__in": values})
    }


def payers_by_id(ctx: Context) -> dict[str, Payer]:
    return {p.payer_id.upper(): p for p in Payer.objects.filter(practice=ctx.practice)}


def not_found(what: str, value: str, ctx: Context, hint: str) -> str:
    return f"no {what} {value!r} at {ctx.practice} ({hint})"


def changed_fields(instance: Any, fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if getattr(instance, name) != value}
