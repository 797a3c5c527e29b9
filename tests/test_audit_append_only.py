"""Audit rows are append-only for the application's own database connection (issue 8, 4).

The PHI access log, the claim timeline and every simple-history table carry a PostgreSQL
trigger (``billing_ops.append_only``) that refuses UPDATE and DELETE. These tests try both
through ``django.db.connection`` (the ORM and raw SQL), exactly as the application would,
and check that the row is unchanged and that inserting still works.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.apps import apps
from django.db import ProgrammingError, connection, models, transaction
from django.utils import timezone
from simple_history.models import HistoricalChanges

from claims import services as claim_services
from claims.choices import ActivityKind
from claims.models import Claim, ClaimActivity
from practices import services as practice_services
from practices.choices import AccessAction, ClaimFormat
from practices.models import PhiAccessLog
from tests import claim_factory, factories

pytestmark = pytest.mark.django_db

HistoricalClaim = Claim.history.model


@pytest.fixture(autouse=True)
def _postgresql() -> None:
    # On SQLite pgtrigger installs nothing; these tests must never pass vacuously there.
    assert connection.vendor == "postgresql"


@pytest.fixture
def claim(world: Any) -> Claim:
    payer = factories.PayerFactory(
        practice=world.sunrise, claim_format=ClaimFormat.DENTAL, timely_filing_days=365
    )
    patient = factories.PatientFactory(practice=world.sunrise)
    return claim_factory.make(
        actor=world.bill,
        patient=patient,
        coverage=factories.CoverageFactory(patient=patient, payer=payer),
        provider=factories.ProviderFactory(practice=world.sunrise),
        number="C00001",
        owner=world.bill,
        service_date_from=timezone.localdate() - dt.timedelta(days=10),
        lines=[{"procedure_code": "D1110", "charge": Decimal("120.00")}],
    )


@pytest.fixture
def rows(world: Any, claim: Claim) -> dict[str, models.Model]:
    """One row of each audit table, written the way the application writes them."""
    practice_services.phi_access_record(
        user=world.bill, patient=world.sunrise_patient, action=AccessAction.VIEW, path="/p/"
    )
    claim_services.log_activity(claim, world.bill, ActivityKind.NOTE, "Called the payer.")
    return {
        "phi_access_log": PhiAccessLog.objects.get(),
        "claim_activity": ClaimActivity.objects.filter(claim=claim).order_by("-pk").first(),
        "historical_claim": HistoricalClaim.objects.filter(id=claim.pk).first(),
    }


# For each table: a column to try to change and the value to try.
CHANGES = {
    "phi_access_log": ("path", "/rewritten/"),
    "claim_activity": ("text", "Never happened."),
    "historical_claim": ("pms_claim_number", "FORGED"),
}
TABLES = sorted(CHANGES)


def snapshot(row: models.Model) -> dict[str, Any]:
    return type(row)._base_manager.filter(pk=row.pk).values().get()


def refused(action: Any) -> str:
    """Run ``action`` in a savepoint; it must fail. The database's message.

    The trigger's RAISE EXCEPTION (SQLSTATE P0001) reaches Django as ``ProgrammingError``
    (psycopg's ``RaiseException``)."""
    with pytest.raises(ProgrammingError) as failure, transaction.atomic():
        action()
    return str(failure.value)


@pytest.mark.parametrize("table", TABLES)
def test_orm_update_is_refused(rows, table):
    row = rows[table]
    before = snapshot(row)
    field, value = CHANGES[table]

    message = refused(lambda: type(row)._base_manager.filter(pk=row.pk).update(**{field: value}))

    assert "pgtrigger: Cannot update or delete rows from" in message
    assert snapshot(row) == before


@pytest.mark.parametrize("table", TABLES)
def test_orm_save_of_a_loaded_row_is_refused(rows, table):
    row = rows[table]
    before = snapshot(row)
    field, value = CHANGES[table]
    setattr(row, field, value)

    refused(row.save)

    assert snapshot(row) == before


@pytest.mark.parametrize("table", TABLES)
def test_orm_delete_is_refused(rows, table):
    row = rows[table]
    before = snapshot(row)

    message = refused(lambda: type(row)._base_manager.filter(pk=row.pk).delete())

    assert "pgtrigger: Cannot update or delete rows from" in message
    assert snapshot(row) == before


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("statement", ["UPDATE {table} SET {column} = %s", "DELETE FROM {table}"])
def test_raw_sql_on_the_apps_connection_is_refused(rows, table, statement):
    row = rows[table]
    before = snapshot(row)
    field, value = CHANGES[table]
    model = type(row)
    sql = statement.format(
        table=connection.ops.quote_name(model._meta.db_table),
        column=connection.ops.quote_name(model._meta.get_field(field).column),
    )
    sql += f" WHERE {connection.ops.quote_name(model._meta.pk.column)} = %s"
    params = [value, row.pk] if sql.startswith("UPDATE") else [row.pk]

    def run() -> None:
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    message = refused(run)

    assert f"Cannot update or delete rows from {model._meta.db_table} table" in message
    assert snapshot(row) == before


def test_inserting_still_works(world, claim, rows):
    practice_services.phi_access_record(
        user=world.bill, patient=world.sunrise_patient, action=AccessAction.EXPORT
    )
    claim_services.log_activity(claim, world.bill, ActivityKind.NOTE, "Second call.")
    before = HistoricalClaim.objects.filter(id=claim.pk).count()
    claim.refresh_from_db()
    claim.diagnosis_codes = ["K02.9"]
    claim._history_user = world.bill  # type: ignore[attr-defined]
    claim.save()

    assert PhiAccessLog.objects.count() == 2
    assert ClaimActivity.objects.filter(claim=claim, text="Second call.").exists()
    assert HistoricalClaim.objects.filter(id=claim.pk).count() == before + 1


def test_deleting_a_claim_cannot_take_its_timeline_with_it(claim, rows):
    """Claims are never deleted by the app; if something tried, the CASCADE to the timeline
    is refused and the claim stays."""
    message = refused(lambda: Claim.objects.filter(pk=claim.pk).delete())

    assert "Cannot update or delete rows from claims_claimactivity table" in message

    assert Claim.objects.filter(pk=claim.pk).exists()
    assert ClaimActivity.objects.filter(claim=claim).exists()


def protected_models() -> list[type[models.Model]]:
    history = [m for m in apps.get_models() if issubclass(m, HistoricalChanges)]
    return [PhiAccessLog, ClaimActivity, *history]


def test_every_audit_table_carries_the_trigger():
    """Every history table (of any app, present or future) and the two logs: the trigger is
    installed in the database by the migrations, enabled, and fires on UPDATE and DELETE."""
    models_ = protected_models()
    assert HistoricalClaim in models_ and len(models_) > 10
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT c.relname, t.tgenabled, t.tgtype
            FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
            WHERE NOT t.tgisinternal AND t.tgname LIKE 'pgtrigger_append_only_%%'
            """
        )
        found = {name: (enabled, tgtype) for name, enabled, tgtype in cursor.fetchall()}
    row, before, update, delete = 1, 2, 16, 8  # pg_trigger.tgtype bits
    for model in models_:
        enabled, tgtype = found[model._meta.db_table]
        assert enabled == "O", model
        assert tgtype & (row | before | update | delete) == row | before | update | delete, model


@pytest.mark.django_db(transaction=True)
def test_the_test_suites_flush_still_empties_audit_tables(world, claim, rows):
    """Transactional tests are cleaned up by TRUNCATE, on which row triggers do not fire:
    the flush after this test must succeed (it would error if the trigger caught it)."""
    assert PhiAccessLog.objects.exists() and ClaimActivity.objects.exists()
