"""``manage.py import_acknowledgements --practice <id|slug> FILE [--dry-run] [--user NAME]``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from ar.ack_models import AckStatus
from ar.acknowledgements import acknowledgement_import
from claims.imports.results import describe
from practices.models import Practice


class Command(BaseCommand):
    help = (
        "Import a 277CA acknowledgement file into a practice now: accepted claims move to "
        "accepted, rejected ones to rejected with the STC reason; prints how many were "
        "accepted, rejected, unmatched and already applied; exits non-zero when the file is "
        "refused."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--practice", required=True, help="Practice id or slug.")
        parser.add_argument("--dry-run", action="store_true", help="Preview: apply nothing.")
        parser.add_argument(
            "--user", default="", help="Import as this user (default: the system itself)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        key = str(options["practice"])
        practice = Practice.objects.filter(
            **({"pk": key} if key.isdigit() else {"slug": key})
        ).first()
        if practice is None:
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
            batch = acknowledgement_import(
                actor=actor,
                practice=practice,
                content=content,
                filename=path.name,
                dry_run=options["dry_run"],
            )
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError("Refused: " + " ".join(messages)) from None
        would = "would be " if batch.dry_run else ""
        self.stdout.write(
            f"{path.name}: {batch.get_status_display()}. {would}accepted "
            f"{batch.accepted_count}, {would}rejected {batch.rejected_count}, unmatched "
            f"{batch.unmatched_count}, already applied {batch.already_count}, not applied "
            f"{batch.not_applied_count}"
        )
        for entry in batch.entries:
            self.stdout.write(f"  {entry['level']}: {describe(entry)}")
        if batch.status == AckStatus.REFUSED:
            raise CommandError(f"{path.name} was refused: nothing applied.")
