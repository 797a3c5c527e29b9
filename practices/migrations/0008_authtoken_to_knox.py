"""Existing API tokens keep working: each plain-text DRF token (``authtoken_token``) gets a
knox row holding its SHA-512 digest (knox accepts any token string: it looks a token up by
its first 15 characters and compares the digest), and an ``ApiToken`` record; then the
plain-text rows are deleted. The migrated tokens expire API_TOKEN_TTL_DAYS from now.

The old app (rest_framework.authtoken) is no longer installed, so its table is read with
SQL when it exists (databases made before this change) and left alone otherwise.
"""

import datetime as dt

from django.conf import settings
from django.db import migrations
from django.utils import timezone

OLD_TABLE = "authtoken_token"
TOKEN_KEY_LENGTH = 15  # knox.settings.CONSTANTS.TOKEN_KEY_LENGTH


def copy_tokens(apps, schema_editor):
    from knox.crypto import hash_token

    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    AuthToken = apps.get_model("knox", "AuthToken")
    ApiToken = apps.get_model("practices", "ApiToken")
    expiry = timezone.now() + dt.timedelta(days=int(getattr(settings, "API_TOKEN_TTL_DAYS", 90)))
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote('key')}, user_id, created FROM {quote(OLD_TABLE)}")
        rows = cursor.fetchall()
    for key, user_id, created in rows:
        digest = hash_token(key)
        knox_token = AuthToken(
            digest=digest, token_key=key[:TOKEN_KEY_LENGTH], user_id=user_id, expiry=expiry
        )
        knox_token.save(force_insert=True)  # not knox's manager.create(), which mints a token
        ApiToken.objects.create(
            user_id=user_id,
            token=knox_token,
            name="Migrated token",
            hint=key[:6],
            via="migrated",
            created_at=created or timezone.now(),
            expires_at=expiry,
        )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {quote(OLD_TABLE)}")  # no plain-text secrets left


class Migration(migrations.Migration):
    dependencies = [
        ("practices", "0007_api_tokens"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [migrations.RunPython(copy_tokens, migrations.RunPython.noop)]
