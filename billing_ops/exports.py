"""Helpers shared by every CSV export (audit trail, balances, statements, KPIs)."""

from __future__ import annotations

from typing import Any

# A leading = + - @ (or tab, CR) makes a spreadsheet run the cell as a formula.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A CSV cell a spreadsheet will not run as a formula (a leading quote neutralises it)."""
    text = str(value)
    return f"'{text}" if text[:1] in FORMULA_STARTS else text
