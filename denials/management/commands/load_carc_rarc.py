"""``manage.py load_carc_rarc FILE [--kind carc|rarc]``: load the official CARC/RARC texts
from a CSV file the practice provides (it licenses them; we ship only our own labels).

The file has a header naming a ``code`` column and a text column (``description``,
``text`` or ``official_text``), and either a ``kind`` (or ``type``) column holding
carc/rarc or the ``--kind`` option. Safe to repeat.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from denials.services import reason_codes_load

TEXT_COLUMNS = ("description", "official_text", "text")
KIND_COLUMNS = ("kind", "type")


def read_rows(content: str, kind: str | None) -> list[tuple[str, str, str]]:
    """(kind, code, text) rows of the file; a CommandError names what is missing."""
    sample = content[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(content), dialect=dialect)
    fields = {name.strip().lower(): name for name in reader.fieldnames or []}
    text_column = next((fields[c] for c in TEXT_COLUMNS if c in fields), None)
    kind_column = next((fields[c] for c in KIND_COLUMNS if c in fields), None)
    if "code" not in fields or text_column is None:
        raise CommandError("The file needs a header with a code column and a description column.")
    if kind_column is None and kind is None:
        raise CommandError("The file has no kind column: say --kind carc or --kind rarc.")
    rows = []
    for number, row in enumerate(reader, start=2):
        code = (row.get(fields["code"]) or "").strip()
        if not code:
            continue
        row_kind = (row.get(kind_column) or "").strip().lower() if kind_column else kind
        if not row_kind:
            raise CommandError(f"Line {number}: no kind.")
        rows.append((row_kind, code, (row.get(text_column) or "").strip()))
    return rows


class Command(BaseCommand):
    help = "Load the official CARC/RARC texts from a CSV file the practice provides."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--kind", choices=["carc", "rarc"])

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        try:
            content = path.read_text(encoding="utf-8-sig")
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        rows = read_rows(content, options["kind"])
        try:
            counts = reason_codes_load(actor=None, rows=rows)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        self.stdout.write(
            f"{counts['created']} created, {counts['updated']} updated, "
            f"{counts['unchanged']} unchanged."
        )
