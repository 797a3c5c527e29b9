"""CSV appointments: validate the rows, then write through ``practices.services``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError

from claims.imports.csv_columns import Table
from claims.imports.csv_rows import CODE, Row, changed_fields, in_practice, not_found
from claims.imports.reference import report
from claims.imports.results import PATIENT, Context
from practices import services as practice_services
from practices.choices import AppointmentStatus
from practices.models import Appointment, Patient, Provider

APPOINTMENT_STATUSES = {
    **{s.value: s.value for s in AppointmentStatus},
    **{s.label.lower(): s.value for s in AppointmentStatus},
    "no show": AppointmentStatus.NO_SHOW,
    "canceled": AppointmentStatus.CANCELLED,
}


@dataclass
class AppointmentRecord:
    row: Row
    patient: Patient | None
    fields: dict[str, Any]


class AppointmentsImport:
    """Appointments keyed on (patient, start time): the same visit again is updated."""

    def __init__(self, ctx: Context, table: Table) -> None:
        self.ctx = ctx
        self.table = table
        self.total = len(table.rows)
        self.records: list[AppointmentRecord] = []

    def validate(self) -> None:
        ctx, rows = self.ctx, self.table.rows
        patients = in_practice(
            ctx, Patient, "account_number", {r.raw("patient_account") for r in rows}
        )
        providers = in_practice(ctx, Provider, "npi", {r.raw("provider_npi") for r in rows})
        seen: dict[tuple[int, dt.datetime], Row] = {}
        for row in rows:
            account = row.text("patient_account", required=True)
            npi = row.text("provider_npi", required=True)
            patient, provider = patients.get(account), providers.get(npi)
            if account and patient is None:
                hint = "import the patients file first"
                row.error("patient_account", not_found("patient account", account, ctx, hint))
            if npi and provider is None:
                row.error("provider_npi", not_found("provider with NPI", npi, ctx, "add it first"))
            starts_at = row.datetime("starts_at", required=True)
            fields = {
                "provider": provider,
                "starts_at": starts_at,
                "duration_minutes": row.integer("duration_minutes", default=30, low=1, high=1440),
                "status": row.choice(
                    "status",
                    APPOINTMENT_STATUSES,
                    default=AppointmentStatus.SCHEDULED,
                    what="an appointment status (scheduled, completed, cancelled, no_show)",
                ),
                "planned_procedures": row.codes(
                    "planned_procedures", pattern=CODE, what="a procedure code", limit=30
                ),
            }
            if patient is not None and starts_at is not None:
                key = (patient.pk, starts_at)
                if key in seen:
                    row.error("starts_at", f"same patient and start time as row {seen[key].number}")
                seen[key] = row
            self.records.append(AppointmentRecord(row, patient, fields))

    def apply(self) -> None:
        ctx = self.ctx
        good = [r for r in self.records if r.row.ok and r.patient is not None]
        existing = {
            (a.patient_id, a.starts_at): a
            for a in Appointment.objects.filter(
                practice=ctx.practice,
                patient__in=[r.patient for r in good],
                starts_at__in=[r.fields["starts_at"] for r in good],
            ).select_related("provider")
        }
        for done, record in enumerate(self.records, start=1):
            ctx.outcome.progress(done)
            if not record.row.ok or record.patient is None:
                continue
            appointment = existing.get((record.patient.pk, record.fields["starts_at"]))
            changes = changed_fields(appointment, record.fields) if appointment else record.fields
            if not changes:
                ctx.outcome.unchanged += 1
                continue
            try:
                practice_services.appointment_save(
                    actor=ctx.actor,
                    appointment=appointment or Appointment(patient=record.patient),
                    **changes,
                )
            except ValidationError as exc:
                report(ctx, exc, row=record.row.number, columns={"provider": "provider_npi"})
                continue
            if appointment is None:
                ctx.outcome.created += 1
            else:
                ctx.outcome.updated += 1
            # Appointments have no page of their own: the link is the patient's page.
            ctx.outcome.record(
                PATIENT,
                record.patient.pk,
                f"{record.patient.account_number} (appointment, row {record.row.number})",
                "created" if appointment is None else "updated",
            )
