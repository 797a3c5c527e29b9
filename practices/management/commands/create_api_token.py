"""Print a new API token for a service account (replacing its earlier command token)."""

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from practices import tokens


class Command(BaseCommand):
    help = (
        "Create a new API token for USERNAME (a service account) and print it; the token the "
        "command issued before stops working. People create their own on /account/tokens/."
    )

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("username")

    def handle(self, *args, username: str, **options) -> None:  # noqa: ANN002, ANN003
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            record, plain = tokens.service_token_issue(user=user)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        self.stderr.write(f"Expires {record.expires_at:%Y-%m-%d %H:%M %Z}.")
        self.stdout.write(plain)
