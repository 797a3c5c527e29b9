"""``manage.py import_eligibility --practice <id|slug> FILE [--user NAME]``: a 271 now."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from claims.imports.results import describe
from eligibility.response_models import ResponseStatus
from eligibility.responses import response_import
from practices.models import Practice


def find_practice(key: str) -> Practice:
    practice = Practice.objects.filter(**({"pk": key} if key.isdigit() else {"slug": key})).first()
    if practice is None:
        raise CommandError(f"No practice {key!r}.")
    return practice


def find_user(username: str) -> Any:
    if not username:
        return None  # the system itself
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        raise CommandError(f"No user {username!r}.")
    return user


class Command(BaseCommand):
    help = (
        "Import a 271 eligibility response into a practice now: each member's answer is "
        "recorded on the matching open eligibility check (active closes it; inactive or an "
        "AAA rejection asks the patient for information). Prints the counts and every member "
        "not applied; exits non-zero when the file is refused or a member matched no check."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--practice", required=True, help="Practice id or slug.")
        parser.add_argument(
            "--user", default="", help="Import as this user (default: the system itself)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        practice = find_practice(str(options["practice"]))
        actor = find_user(options["user"])
        path: Path = options["file"]
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}.") from None
        try:
            batch = response_import(
                actor=actor, practice=practice, content=content, filename=path.name
            )
        except (ValidationError, PermissionDenied) as exc:
            messages = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            raise CommandError("Refused: " + " ".join(messages)) from None
        self.stdout.write(
            f"{path.name}: {batch.get_status_display()}. members {batch.member_count}, applied "
            f"{batch.applied_count}, already applied {batch.already_count}, unmatched "
            f"{batch.unmatched_count}, other {batch.other_count}; with problems "
            f"(inactive or rejected) {batch.problem_count}"
        )
        for entry in batch.entries:
            self.stdout.write(f"  {entry['level']}: {describe(entry)}")
        if batch.status == ResponseStatus.REFUSED:
            raise CommandError(f"{path.name} was refused: nothing applied.")
        if batch.unmatched_count:
            raise CommandError(
                f"{batch.unmatched_count} member(s) matched no open eligibility check: "
                "not applied (listed above)."
            )
