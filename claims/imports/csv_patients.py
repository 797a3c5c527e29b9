"""CSV patients (with their coverages): validate the rows, then write through
``practices.services``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError

from claims.imports.csv_columns import COVERAGE_COLUMNS, Table
from claims.imports.csv_rows import (
    COB_ORDERS,
    Row,
    changed_fields,
    in_practice,
    not_found,
    payers_by_id,
)
from claims.imports.reference import report
from claims.imports.results import PATIENT, Context
from practices import services as practice_services
from practices.choices import CobOrder, Relationship
from practices.models import Coverage, Patient, Payer

RELATIONSHIPS = {
    **{r.value: r.value for r in Relationship},
    "18": Relationship.SELF,
    "01": Relationship.SPOUSE,
    "19": Relationship.CHILD,
}

PATIENT_FIELDS = {
    "first_name": 100,
    "last_name": 100,
    "phone": 30,
    "email": 254,
    "address_line": 200,
    "city": 100,
    "state": 2,
    "postal_code": 10,
}


@dataclass
class PatientRecord:
    row: Row
    fields: dict[str, Any]
    coverages: list[tuple[Row, dict[str, Any]]] = field(default_factory=list)


class PatientsImport:
    """Patients keyed on account number, one row per patient per coverage."""

    def __init__(self, ctx: Context, table: Table) -> None:
        self.ctx = ctx
        self.table = table
        self.total = len(table.rows)
        self.records: dict[str, PatientRecord] = {}

    def validate(self) -> None:
        payers = payers_by_id(self.ctx)
        for row in self.table.rows:
            account = row.text("account_number", required=True, max_length=40)
            fields: dict[str, Any] = {
                name: row.text(name, required=name in ("first_name", "last_name"), max_length=n)
                for name, n in PATIENT_FIELDS.items()
            }
            fields["date_of_birth"] = row.date("date_of_birth", required=True)
            fields["state"] = fields["state"].upper()
            coverage = self._coverage(row, payers, fields)
            if not account:
                continue
            record = self.records.get(account)
            if record is None:
                record = self.records[account] = PatientRecord(row, fields)
            else:
                for name, value in fields.items():
                    if value != record.fields[name]:
                        row.error(
                            name,
                            f"{row.raw(name)!r} differs from {record.row.raw(name)!r} on row "
                            f"{record.row.number} for the same account",
                        )
            if coverage is not None:
                taken = {c["cob_order"]: r for r, c in record.coverages}
                if coverage["cob_order"] in taken:
                    row.error(
                        "cob_order",
                        f"account {account} has a {CobOrder(coverage['cob_order']).label.lower()} "
                        f"coverage on row {taken[coverage['cob_order']].number} already",
                    )
                record.coverages.append((row, coverage))

    def _coverage(
        self, row: Row, payers: dict[str, Payer], patient: dict[str, Any]
    ) -> dict[str, Any] | None:
        payer_id = row.text("payer_id")
        if not payer_id:
            given = [name for name in COVERAGE_COLUMNS if row.raw(name)]
            if given:
                row.error("payer_id", f"required when {given[0]} is given")
            return None
        payer = payers.get(payer_id.upper())
        if payer is None:
            row.error("payer_id", not_found("payer with id", payer_id, self.ctx, "add it first"))
        name = f"{patient['first_name']} {patient['last_name']}".strip()
        return {
            "payer": payer,
            "member_id": row.text("member_id", max_length=40),
            "group_number": row.text("group_number", max_length=40),
            "subscriber_name": row.text("subscriber_name", max_length=200) or name,
            "subscriber_relationship": row.choice(
                "subscriber_relationship",
                RELATIONSHIPS,
                default=Relationship.SELF,
                what="a relationship (self, spouse, child or other)",
            ),
            "cob_order": row.choice(
                "cob_order", COB_ORDERS, default=1, what="a COB order (1/P, 2/S or 3/T)"
            ),
        }

    def apply(self) -> None:
        ctx = self.ctx
        existing = in_practice(ctx, Patient, "account_number", set(self.records))
        coverages: dict[int, dict[int, Coverage]] = {}
        on_file = Coverage.objects.filter(patient__in=existing.values()).select_related("payer")
        for coverage in on_file:
            coverages.setdefault(coverage.patient_id, {})[coverage.cob_order] = coverage
        done = 0
        for account, record in self.records.items():
            rows = {record.row, *(r for r, _ in record.coverages)}
            done += len(rows)
            ctx.outcome.progress(done)
            if not all(r.ok for r in rows):
                continue
            patient = existing.get(account)
            try:
                if patient is None:
                    patient = practice_services.patient_save(
                        actor=ctx.actor,
                        patient=Patient(),
                        practice=ctx.practice,
                        account_number=account,
                        **record.fields,
                    )
                    changed = True
                else:
                    changes = changed_fields(patient, record.fields)
                    if changes:
                        practice_services.patient_save(actor=ctx.actor, patient=patient, **changes)
                    changed = bool(changes)
            except ValidationError as exc:
                report(ctx, exc, row=record.row.number)
                continue
            on_file = coverages.get(patient.pk, {})
            for row, spec in record.coverages:
                coverage = on_file.get(spec["cob_order"]) or Coverage(patient=patient)
                changes = changed_fields(coverage, spec) if coverage.pk else spec
                if not changes:
                    continue
                try:
                    practice_services.coverage_save(actor=ctx.actor, coverage=coverage, **changes)
                except ValidationError as exc:
                    report(ctx, exc, row=row.number, columns={"payer": "payer_id"})
                changed = True
            if existing.get(account) is None:
                ctx.outcome.created += 1
                ctx.outcome.record(PATIENT, patient.pk, account)
            elif changed:
                ctx.outcome.updated += 1
                ctx.outcome.record(PATIENT, patient.pk, account, "updated")
            else:
                ctx.outcome.unchanged += 1
