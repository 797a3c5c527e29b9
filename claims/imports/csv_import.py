"""CSV imports from a PMS export: patients (with coverages), appointments, claims with lines.

Columns, formats and examples: docs/import-templates.md (sample files in templates_csv/).
The stdlib csv module parses; ``csv_columns`` maps headers to our fields (an explicit
``{our_field: their_header}`` mapping first, then our names case-insensitively),
``csv_rows`` turns cells into typed values with one specific message per bad cell, and
``csv_patients``, ``csv_appointments`` and ``csv_claims`` validate and write each kind.
This module tells which kind a file is and hands back its importer.

``validate()`` reads the whole file without writing; ``apply()`` writes the good records
through the services and files their errors too, so one run reports every problem. The
caller runs ``apply()`` in one transaction and rolls it back for a preview or when any row
was rejected (all or nothing per file).
"""

from __future__ import annotations

import csv
import io
from typing import Any

from claims.choices import ImportKind
from claims.imports.csv_appointments import AppointmentsImport
from claims.imports.csv_claims import ClaimsImport
from claims.imports.csv_columns import LAYOUTS, normalize, read_table, sniff_delimiter
from claims.imports.csv_patients import PatientsImport
from claims.imports.results import Context

IMPORTERS = {
    ImportKind.CSV_PATIENTS: PatientsImport,
    ImportKind.CSV_APPOINTMENTS: AppointmentsImport,
    ImportKind.CSV_CLAIMS: ClaimsImport,
}


def detect_kind(text: str, mapping: dict[str, str]) -> str | None:
    """Which CSV kind the header row describes (after the column mapping), if any."""
    try:
        header = next(
            csv.reader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text)), []
        )
    except csv.Error:
        return None
    names = {normalize(h) for h in header}
    names |= {ours for ours, theirs in mapping.items() if normalize(theirs) in names}
    if {"pms_claim_number", "procedure_code"} <= names:
        return ImportKind.CSV_CLAIMS
    if "starts_at" in names:
        return ImportKind.CSV_APPOINTMENTS
    if {"account_number", "date_of_birth"} <= names:
        return ImportKind.CSV_PATIENTS
    return None


def importer_for(kind: str, ctx: Context, text: str, mapping: dict[str, str]) -> Any:
    """Read and validate a CSV file of ``kind``; returns the importer to ``apply()``."""
    table = read_table(text, LAYOUTS[kind], mapping, ctx)
    importer = IMPORTERS[kind](ctx, table)
    if table.ok:
        importer.validate()
    return importer
