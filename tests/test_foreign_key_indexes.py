"""Foreign keys without an index of their own (``db_index=False``) are led by another index,
so a lookup by the key or a cascade from its target never scans the table; and dropping
the key's own index kept its constraint (``billing_ops.migration_ops``). Every index is
written on each insert: the 837 import and 835 posting write these tables by the
thousand, and a second index on the same leading column only costs them."""

from __future__ import annotations

from typing import Any

import pytest
from django.apps import apps
from django.db import connection, models

OUR_APPS = {"practices", "claims", "ar", "denials", "eligibility", "sops", "reports", "work"}
# Keys left without any index on purpose (work.models.WorkItem.locked_by: a hold is
# written on every hand-off of every work item type).
UNLED_COLUMNS = {"locked_by_id"}
DROPPED = [
    ("claims_claimline", "claim_id"),
    ("claims_importdigest", "practice_id"),
    ("practices_patient", "practice_id"),
    ("practices_coverage", "patient_id"),
    ("ar_claimpayment", "remittance_id"),
    ("ar_claimpayment", "practice_id"),
]


def _constraints(table: str) -> dict[str, Any]:
    with connection.cursor() as cursor:
        return connection.introspection.get_constraints(cursor, table)


def _unindexed_keys() -> list[tuple[str, str]]:
    keys = []
    for model in apps.get_models():
        if model._meta.app_label not in OUR_APPS or model.__name__.startswith("Historical"):
            continue
        for field in model._meta.local_concrete_fields:
            if isinstance(field, models.ForeignKey) and not field.db_index and not field.unique:
                keys.append((model._meta.db_table, field.column))
    return keys


@pytest.mark.django_db
def test_every_key_without_its_own_index_is_led_by_another():
    keys = _unindexed_keys()
    assert set(DROPPED) | {("claims_claim", "locked_by_id")} <= set(keys)
    for table, column in keys:
        if column in UNLED_COLUMNS:
            continue
        indexes = [c for c in _constraints(table).values() if c["index"] or c["unique"]]
        leading = [c["columns"] for c in indexes if c["columns"] and c["columns"][0] == column]
        assert leading, f"{table}.{column} has no index led by it"


@pytest.mark.django_db
def test_the_dropped_indexes_kept_their_constraints():
    for table, column in DROPPED:
        found = _constraints(table)
        assert [c for c in found.values() if c["foreign_key"] and c["columns"] == [column]], (
            f"{table}.{column} lost its foreign key constraint"
        )
        alone = [
            name
            for name, c in found.items()
            if c["index"] and not c["unique"] and c["columns"] == [column]
        ]
        assert not alone, f"{table}.{column} still has its own index {alone}"
