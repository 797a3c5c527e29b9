"""CSV columns: the layout of each import kind, and the header row mapped to our fields.

Headers map to fields by an explicit ``{our_field: their_header}`` mapping first, then by
our names case-insensitively; ``read_table`` files one message per header problem and
hands each data row on as a ``Row`` (``claims.imports.csv_rows``).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field

from claims.choices import ImportKind
from claims.imports.csv_rows import Row
from claims.imports.results import Context

# --- layouts ------------------------------------------------------------------------------

COVERAGE_COLUMNS = (
    "payer_id",
    "member_id",
    "group_number",
    "subscriber_name",
    "subscriber_relationship",
    "cob_order",
)


@dataclass(frozen=True)
class Layout:
    """The columns of one CSV kind; required columns must be present and filled."""

    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional


LAYOUTS: dict[str, Layout] = {
    ImportKind.CSV_PATIENTS: Layout(
        required=("account_number", "first_name", "last_name", "date_of_birth"),
        optional=(
            "phone",
            "email",
            "address_line",
            "city",
            "state",
            "postal_code",
            *COVERAGE_COLUMNS,
        ),
    ),
    ImportKind.CSV_APPOINTMENTS: Layout(
        required=("patient_account", "provider_npi", "starts_at"),
        optional=("duration_minutes", "status", "planned_procedures"),
    ),
    ImportKind.CSV_CLAIMS: Layout(
        required=(
            "pms_claim_number",
            "patient_account",
            "payer_id",
            "provider_npi",
            "service_date",
            "procedure_code",
            "charge",
        ),
        optional=(
            "member_id",
            "cob_order",
            "diagnosis_codes",
            "other_payer_paid",
            "modifiers",
            "diagnosis_pointers",
            "tooth",
            "surfaces",
            "units",
        ),
    ),
}


def normalize(header: str) -> str:
    """Header as a field name: "Patient Account" and "patient-account" -> patient_account."""
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def sniff_delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first_line, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _records(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text)))


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)
    ok: bool = True  # False: the header is unusable, no row can be read


def read_table(text: str, layout: Layout, mapping: dict[str, str], ctx: Context) -> Table:
    """Map the header row to our fields and read the data rows (row 1 is the header)."""
    outcome = ctx.outcome
    table = Table()
    try:
        records = _records(text)
    except csv.Error as exc:
        outcome.error(f"the file is not valid CSV: {exc}", fatal=True)
        table.ok = False
        return table
    header = [h.strip() for h in records[0]] if records else []
    if not any(header):
        outcome.error(
            "the header row is empty: the first row must name the columns", row=1, fatal=True
        )
        table.ok = False
        return table
    names = [normalize(h) for h in header]
    columns: dict[str, int] = {}
    for ours, theirs in mapping.items():
        if not str(theirs).strip():
            continue
        if ours not in layout.fields:
            outcome.error(
                f"the column mapping names {ours!r}, which is not a field of this import",
                row=1,
                field=ours,
            )
        elif normalize(theirs) not in names:
            outcome.error(f"the column mapping names {theirs!r}: no such column", row=1, field=ours)
        else:
            columns[ours] = names.index(normalize(theirs))
    for ours in layout.fields:
        if ours not in columns and ours in names and names.index(ours) not in columns.values():
            columns[ours] = names.index(ours)
    for ours, index in columns.items():
        if names.count(names[index]) > 1:
            outcome.error(f"the column {header[index]!r} appears more than once", row=1, field=ours)
    for ours in layout.required:
        if ours not in columns:
            outcome.error(
                "required column is missing (add it, or map one of your columns to it)",
                row=1,
                field=ours,
            )
    if outcome.rejected:
        outcome.fatal, table.ok = True, False
        return table
    ignored = [h for i, h in enumerate(header) if h and i not in columns.values()]
    if ignored:
        outcome.note(f"ignored column(s): {', '.join(ignored)}", row=1)
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        values = {ours: record[i].strip() if i < len(record) else "" for ours, i in columns.items()}
        row = Row(number, values, ctx)
        if any(cell.strip() for cell in record[len(header) :]):
            row.error("", f"has {len(record)} values but the header names {len(header)} columns")
        table.rows.append(row)
    return table
