"""Print a new API token for a user (replacing any previous one)."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from rest_framework.authtoken.models import Token


class Command(BaseCommand):
    help = "Create a new API token for USERNAME and print it; an older token stops working."

    def add_arguments(self, parser) -> None:  # noqa: ANN001
        parser.add_argument("username")

    @transaction.atomic
    def handle(self, *args, username: str, **options) -> None:  # noqa: ANN002, ANN003
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        if not user.is_active:
            raise CommandError(f"User {username!r} is deactivated; no token issued.")
        Token.objects.filter(user=user).delete()
        token = Token.objects.create(user=user)
        self.stdout.write(token.key)
