"""``manage.py backfill_kpis --from 2026-01-01 --to 2026-03-31 [--practice 3 ...]``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from practices.models import Practice
from reports import rollups


class Command(BaseCommand):
    help = "Recompute the daily KPI snapshots of a date range (all active practices by default)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--from", dest="start", required=True, type=dt.date.fromisoformat)
        parser.add_argument("--to", dest="end", required=True, type=dt.date.fromisoformat)
        parser.add_argument(
            "--practice", dest="practices", action="append", type=int, default=None,
            help="A practice id (repeat for several).",
        )  # fmt: skip

    def handle(
        self, *args: Any, start: dt.date, end: dt.date, practices: Any, **options: Any
    ) -> None:
        if start > end:
            raise CommandError("--from must not be after --to.")
        if practices:
            found = set(Practice.objects.filter(pk__in=practices).values_list("pk", flat=True))
            missing = sorted(set(practices) - found)
            if missing:
                raise CommandError(f"No practice with id {', '.join(map(str, missing))}.")
        written = rollups.backfill(start=start, end=end, practice_ids=practices)
        days = (end - start).days + 1
        self.stdout.write(f"Wrote {written} practice-day rows over {days} day(s).")
