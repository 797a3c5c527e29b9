"""Migration operations Django's autodetector does not write the cheap way."""

from __future__ import annotations

from typing import Any

from django.contrib.postgres.operations import NotInTransactionMixin
from django.db import migrations, models


def drop_foreign_key_index(
    model_name: str, name: str, field: models.ForeignKey[object, object], index: str, table: str
) -> migrations.SeparateDatabaseAndState:
    """``AlterField`` to ``db_index=False`` for a foreign key that another index leads: only
    the key's own index is dropped. Django's ``AlterField`` would also drop the constraint
    and add it back, checking every row under an exclusive lock of the table."""
    column = f"{name}_id"
    return migrations.SeparateDatabaseAndState(
        state_operations=[migrations.AlterField(model_name=model_name, name=name, field=field)],
        database_operations=[
            migrations.RunSQL(
                f'DROP INDEX IF EXISTS "{index}"',
                reverse_sql=f'CREATE INDEX "{index}" ON "{table}" ("{column}")',
            )
        ],
    )


class AddIndexConcurrently(NotInTransactionMixin, migrations.AddIndex):
    """``AddIndex`` that PostgreSQL builds ``CONCURRENTLY``: writes to the table go on while
    the index is built (a plain ``CREATE INDEX`` holds them for the whole build). Another
    database (SQLite, ``make run``) builds it as ``AddIndex`` does. Django's own
    ``AddIndexConcurrently`` is PostgreSQL's only. The migration must be ``atomic = False``.
    An INVALID index of the same name (a build that failed) is dropped first."""

    def database_forwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor == "postgresql":
            self._ensure_not_in_transaction(schema_editor)
            _drop_if_invalid(schema_editor, self.index.name)
            schema_editor.add_index(model, self.index, concurrently=True)
        else:
            schema_editor.add_index(model, self.index)

    def database_backwards(
        self, app_label: str, schema_editor: Any, from_state: Any, to_state: Any
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if not self.allow_migrate_model(schema_editor.connection.alias, model):
            return
        if schema_editor.connection.vendor == "postgresql":
            self._ensure_not_in_transaction(schema_editor)
            schema_editor.remove_index(model, self.index, concurrently=True)
        else:
            schema_editor.remove_index(model, self.index)


def _drop_if_invalid(schema_editor: Any, name: str) -> None:
    """A CONCURRENTLY build that failed or was cancelled leaves an INVALID index of that
    name behind, and nothing recorded: dropped here, so running the migration again works."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s AND NOT i.indisvalid AND pg_table_is_visible(c.oid)",
            [name],
        )
        invalid = cursor.fetchone() is not None
    if invalid:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {schema_editor.quote_name(name)}")
