"""``billing_ops.migration_ops.AddIndexConcurrently``: refused inside a transaction, and a
build that failed before (an INVALID index of the same name) does not stop the next run."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import IntegrityError, NotSupportedError, connection, models
from django.db.migrations.state import ProjectState

from billing_ops.migration_ops import AddIndexConcurrently, _drop_if_invalid


def _index_valid(name: str) -> bool | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
            "WHERE c.relname = %s",
            [name],
        )
        row = cursor.fetchone()
    return None if row is None else bool(row[0])


def test_it_refuses_to_run_in_a_transaction(db):
    operation = AddIndexConcurrently(
        model_name="claim", index=models.Index(fields=["practice"], name="claim_probe_idx")
    )
    state = ProjectState.from_apps(apps)
    with connection.schema_editor(atomic=True) as editor, pytest.raises(NotSupportedError):
        operation.database_forwards("claims", editor, state, state)
    assert _index_valid("claim_probe_idx") is None


@pytest.mark.django_db(transaction=True)
def test_an_invalid_index_from_a_failed_build_is_dropped():
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE migration_ops_probe (v integer)")
        cursor.execute("INSERT INTO migration_ops_probe VALUES (1), (1)")
    try:
        with pytest.raises(IntegrityError), connection.cursor() as cursor:
            cursor.execute(
                "CREATE UNIQUE INDEX CONCURRENTLY migration_ops_probe_v ON migration_ops_probe (v)"
            )
        assert _index_valid("migration_ops_probe_v") is False  # what a failed build leaves
        with connection.schema_editor(atomic=False) as editor:
            _drop_if_invalid(editor, "migration_ops_probe_v")
        assert _index_valid("migration_ops_probe_v") is None
        with connection.cursor() as cursor:
            cursor.execute("CREATE INDEX migration_ops_probe_ok ON migration_ops_probe (v)")
        with connection.schema_editor(atomic=False) as editor:
            _drop_if_invalid(editor, "migration_ops_probe_ok")  # a valid one is kept
        assert _index_valid("migration_ops_probe_ok") is True
    finally:
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE migration_ops_probe")
