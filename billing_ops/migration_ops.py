"""Migration operations Django's autodetector does not write the cheap way."""

from __future__ import annotations

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
