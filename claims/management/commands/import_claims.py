"""Import a PMS export (CSV or X12 837) now, through the same service and job record as
the upload page; exits non-zero when the file is rejected."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from claims.choices import ImportKind, ImportStatus
from claims.imports import services
from claims.imports.results import CONFLICT, ERROR, NOTE, SKIPPED, UPDATED, WARNING, describe
from practices.models import Practice


class Command(BaseCommand):
    help = (
        "Import patients, appointments or claims from a CSV file, or claims from an X12 "
        "837P/837D batch, into one practice. Prints what was created, updated, skipped and "
        "rejected; exits with status 1 when the file is rejected (then nothing is written), "
        "and with status 2 when claims on file conflict with the file (the rest is imported)."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--practice", required=True, help="practice id or slug")
        parser.add_argument("--as", dest="username", help="import as this user (history, owner)")
        parser.add_argument(
            "--kind", choices=ImportKind.values, help="file kind (default: from its content)"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="check the file and report; write nothing"
        )
        parser.add_argument(
            "--map",
            action="append",
            default=[],
            metavar="FIELD=HEADER",
            help="read our FIELD from the file's column HEADER (repeatable)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        practice = self._practice(options["practice"])
        actor = self._user(options["username"])
        path: Path = options["file"]
        try:
            with path.open("rb") as handle:
                content = handle.read(services.MAX_UPLOAD_BYTES + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        try:
            job = services.import_file(
                actor=actor,
                practice=practice,
                content=content,
                filename=path.name,
                kind=options["kind"],
                dry_run=options["dry_run"],
                column_mapping=self._mapping(options["map"]),
                enqueue=False,
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        except PermissionDenied as exc:
            raise CommandError(str(exc)) from None
        job = services.run_import_job(job.pk)
        assert job is not None
        preview = " (preview: nothing written)" if job.dry_run else ""
        self.stdout.write(
            f"Import #{job.pk} of {job.filename} ({job.get_kind_display()}) into {practice}: "
            f"{job.get_status_display()}{preview}"
        )
        self.stdout.write(
            f"created {job.created_count}, updated {job.updated_count}, "
            f"skipped {job.skipped_count}, rejected {job.rejected_count}, "
            f"conflicts {job.conflict_count}"
        )
        labels = {
            ERROR: "rejected",
            SKIPPED: "skipped",
            NOTE: "note",
            CONFLICT: "conflict",
            WARNING: "warning",
            UPDATED: "updated",
        }
        for entry in job.errors:
            self.stdout.write(f"  {labels.get(entry.get('level'), 'note')}: {describe(entry)}")
        if job.status == ImportStatus.FAILED:
            raise CommandError(
                f"Rejected: nothing from {job.filename} was imported "
                f"({job.rejected_count} row(s) or claim(s) with errors)."
            )
        if job.conflict_count:
            raise CommandError(
                f"{job.conflict_count} claim(s) on file conflict with {job.filename} and were "
                "left unchanged: resolve them (see the conflicts above).",
                returncode=2,
            )

    def _practice(self, value: str) -> Practice:
        lookup = {"pk": int(value)} if value.isdigit() else {"slug": value}
        practice = Practice.objects.filter(**lookup).first()
        if practice is None:
            raise CommandError(f"No practice {value!r} (give its id or slug).")
        return practice

    def _user(self, username: str | None) -> Any:
        if username is None:
            return None  # the system itself: no permission check, no history user
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user named {username!r}.")
        return user

    def _mapping(self, pairs: list[str]) -> dict[str, str]:
        mapping = {}
        for pair in pairs:
            field, sep, header = pair.partition("=")
            if not sep or not field.strip() or not header.strip():
                raise CommandError(f"--map takes FIELD=HEADER, not {pair!r}.")
            mapping[field.strip()] = header.strip()
        return mapping
