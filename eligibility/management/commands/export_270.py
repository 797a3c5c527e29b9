"""``manage.py export_270 --practice <id|slug> --date YYYY-MM-DD [-o FILE]``: the day's 270."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from eligibility.management.commands.import_eligibility import find_practice, find_user
from eligibility.response_export import DEFAULT_RECEIVER, checks_to_ask, export_270


class Command(BaseCommand):
    help = (
        "Write the X12 270 (005010X279A1) batch for a practice's appointments on a day that "
        "still need an eligibility check (open checks), one inquiry per check, for upload to "
        "a clearinghouse. The batch is stored; its id is the interchange control number. "
        "Nothing to ask: says so and writes nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--practice", required=True, help="Practice id or slug.")
        parser.add_argument("--date", required=True, help="Appointment day, YYYY-MM-DD.")
        parser.add_argument("-o", "--output", type=Path, help="Write here (default: stdout).")
        parser.add_argument("--receiver-id", default=DEFAULT_RECEIVER, help="ISA08 / GS03.")
        parser.add_argument("--test", action="store_true", help="Mark it a test file (ISA15 T).")
        parser.add_argument(
            "--user", default="", help="Export as this user (default: the system itself)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        practice = find_practice(str(options["practice"]))
        actor = find_user(options["user"])
        try:
            day = dt.date.fromisoformat(options["date"])
        except ValueError:
            raise CommandError(f"--date {options['date']!r} is not YYYY-MM-DD.") from None
        if not checks_to_ask(practice, day).exists():
            self.stderr.write(f"No open eligibility checks on {day}: nothing written.")
            return
        try:
            batch = export_270(
                actor=actor,
                practice=practice,
                day=day,
                receiver_id=options["receiver_id"],
                production=not options["test"],
            )
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError("Refused: " + " ".join(messages)) from None
        output: Path | None = options["output"]
        if output is None:
            self.stdout.write(batch.content, ending="")
        else:
            output.write_text(batch.content)
        self.stderr.write(
            f"270 batch {batch.control_number:09d}: {batch.inquiry_count} inquiries for {day}"
            + (f", written to {output}" if output else "")
        )
