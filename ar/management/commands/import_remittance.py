"""``manage.py import_remittance --practice <id|slug> FILE [--dry-run] [--user NAME]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ar import services
from ar.choices import RemittanceStatus
from claims.imports.results import describe
from practices.models import Practice


class Command(BaseCommand):
    help = (
        "Post an 835 remittance file to a practice now (no worker needed); prints how many "
        "claim payments were posted, skipped as already posted, left unmatched and "
        "quarantined; exits non-zero when the file is refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--practice", required=True, help="Practice id or slug.")
        parser.add_argument("--dry-run", action="store_true", help="Preview: post nothing.")
        parser.add_argument(
            "--user", default="", help="Post as this user (default: the system itself)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key = str(options["practice"])
        practice = Practice.objects.filter(**({"pk": key} if key.isdigit() else {"slug": key}))
        found = practice.first()
        if found is None:
            raise CommandError(f"No practice {key!r}.")
        actor = None
        if options["user"]:
            actor = get_user_model().objects.filter(username=options["user"]).first()
            if actor is None:
                raise CommandError(f"No user {options['user']!r}.")
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        try:
            batch = services.remittance_upload(
                actor=actor,
                practice=found,
                content=content,
                filename=path.name,
                dry_run=options["dry_run"],
                enqueue=False,
            )
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError("Refused: " + " ".join(messages)) from None
        ran = services.remittance_run(batch.pk)
        assert ran is not None
        batch = ran
        quarantined = batch.claim_count if batch.status == RemittanceStatus.QUARANTINED else 0
        what = "would post" if batch.dry_run else "posted"
        self.stdout.write(
            f"{path.name}: {batch.get_status_display()}. {what} {batch.posted_count}, "
            f"skipped as already posted {batch.skipped_count}, unmatched "
            f"{batch.unmatched_count}, quarantined {quarantined}"
        )
        for entry in batch.entries:
            self.stdout.write(f"  {entry['level']}: {describe(entry)}")
        if batch.status in (RemittanceStatus.REFUSED, RemittanceStatus.QUARANTINED):
            raise CommandError(f"{path.name} was {batch.status}: nothing posted.")
