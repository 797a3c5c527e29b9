"""CSV imports from a PMS export: patients (with coverages), appointments, claims with lines.

Columns, formats and examples: docs/import-templates.md (sample files in templates_csv/).
The stdlib csv module parses; this module maps headers to our fields (an explicit
``{our_field: their_header}`` mapping first, then our names case-insensitively) and turns
cells into typed values with one specific message per bad cell.

``validate()`` reads the whole file without writing; ``apply()`` writes the good records
through the services and files their errors too, so one run reports every problem. The
caller runs ``apply()`` in one transaction and rolls it back for a preview or when any row
was rejected (all or nothing per file).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from claims import services as claim_services
from claims.choices import ImportKind, NextAction
from claims.imports.reference import CoverageBook, report
from claims.imports.results import Context
from claims.models import Claim
from practices import services as practice_services
from practices.choices import AppointmentStatus, CobOrder, Relationship
from practices.models import Appointment, Coverage, Patient, Payer, Provider

# --- layouts ------------------------------------------------------------------------------

COVERAGE_COLUMNS = (
    "payer_id",
    "member_id",
    "group_number",
    "subscriber_name",
    "subscriber_relationship",
    "cob_order",
)
CLAIM_LEVEL = (
    "patient_account",
    "payer_id",
    "member_id",
    "cob_order",
    "provider_npi",
    "diagnosis_codes",
    "other_payer_paid",
)


@dataclass(frozen=True)
class Layout:
    """The columns of one CSV kind; required columns must be present and filled."""

    required: tuple[str, ...]
    optional: tuple[str, ...]

    @property
    def fields(self) -> tuple[str, ...]:
        return self.required + self.optional


LAYOUTS: dict[str, Layout] = {
    ImportKind.CSV_PATIENTS: Layout(
        required=("account_number", "first_name", "last_name", "date_of_birth"),
        optional=(
            "phone",
            "email",
            "address_line",
            "city",
            "state",
            "postal_code",
            *COVERAGE_COLUMNS,
        ),
    ),
    ImportKind.CSV_APPOINTMENTS: Layout(
        required=("patient_account", "provider_npi", "starts_at"),
        optional=("duration_minutes", "status", "planned_procedures"),
    ),
    ImportKind.CSV_CLAIMS: Layout(
        required=(
            "pms_claim_number",
            "patient_account",
            "payer_id",
            "provider_npi",
            "service_date",
            "procedure_code",
            "charge",
        ),
        optional=(
            "member_id",
            "cob_order",
            "diagnosis_codes",
            "other_payer_paid",
            "modifiers",
            "diagnosis_pointers",
            "tooth",
            "surfaces",
            "units",
        ),
    ),
}

COB_ORDERS = {
    **{str(o.value): o.value for o in CobOrder},
    **{o.label.lower(): o.value for o in CobOrder},
    "p": 1,
    "s": 2,
    "t": 3,
}
RELATIONSHIPS = {
    **{r.value: r.value for r in Relationship},
    "18": Relationship.SELF,
    "01": Relationship.SPOUSE,
    "19": Relationship.CHILD,
}
APPOINTMENT_STATUSES = {
    **{s.value: s.value for s in AppointmentStatus},
    **{s.label.lower(): s.value for s in AppointmentStatus},
    "no show": AppointmentStatus.NO_SHOW,
    "canceled": AppointmentStatus.CANCELLED,
}
DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%m-%d-%Y", "%Y%m%d")
DATETIME_FORMATS = ("%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %I:%M%p", "%m/%d/%Y %H:%M:%S")
CODE = re.compile(r"[A-Z0-9]{1,10}")
MODIFIER = re.compile(r"[A-Z0-9]{2}")
SURFACES = re.compile(r"[A-Z]{1,10}")
LIST_SEPARATORS = re.compile(r"[;,:\s]+")
MAX_MONEY = Decimal("9999999999.99")
MAX_UNITS = Decimal("99999.99")


def normalize(header: str) -> str:
    """Header as a field name: "Patient Account" and "patient-account" -> patient_account."""
    return re.sub(r"[\s\-]+", "_", header.strip().lower())


def _delimiter(text: str) -> str:
    first_line = text.split("\n", 1)[0]
    try:
        return csv.Sniffer().sniff(first_line, delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _records(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)))


def detect_kind(text: str, mapping: dict[str, str]) -> str | None:
    """Which CSV kind the header row describes (after the column mapping), if any."""
    try:
        header = next(csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(text)), [])
    except csv.Error:
        return None
    names = {normalize(h) for h in header}
    names |= {ours for ours, theirs in mapping.items() if normalize(theirs) in names}
    if {"pms_claim_number", "procedure_code"} <= names:
        return ImportKind.CSV_CLAIMS
    if "starts_at" in names:
        return ImportKind.CSV_APPOINTMENTS
    if {"account_number", "date_of_birth"} <= names:
        return ImportKind.CSV_PATIENTS
    return None


# --- cells --------------------------------------------------------------------------------


def parse_date(value: str) -> dt.date | None:
    for fmt in DATE_FORMATS:
        try:
            return dt.datetime.strptime(value, fmt).date()  # noqa: DTZ007 (only the date is kept)
        except ValueError:
            continue
    return None


def parse_datetime(value: str) -> dt.datetime | None:
    """ISO 8601 or US "MM/DD/YYYY HH:MM [AM]"; without an offset, in the practice's time."""
    local = timezone.get_current_timezone()
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        parsed = None
        for fmt in DATETIME_FORMATS:
            try:
                parsed = dt.datetime.strptime(value, fmt).replace(tzinfo=local)
                break
            except ValueError:
                continue
    if parsed is not None and parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=local)
    return parsed


def parse_decimal(value: str) -> Decimal | None:
    try:
        number = Decimal(value.replace("$", "").replace(",", "").strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


class Row:
    """One data row: typed accessors that file a specific error per bad cell."""

    def __init__(self, number: int, values: dict[str, str], ctx: Context) -> None:
        self.number = number
        self.values = values
        self.ctx = ctx
        self.ok = True

    def error(self, name: str, message: str) -> None:
        self.ok = False
        self.ctx.outcome.error(message, row=self.number, field=name)

    def raw(self, name: str) -> str:
        return self.values.get(name, "")

    def text(self, name: str, *, required: bool = False, max_length: int | None = None) -> str:
        value = self.raw(name)
        if not value:
            if required:
                self.error(name, "required, but the cell is empty")
            return ""
        if max_length is not None and len(value) > max_length:
            self.error(name, f"{value!r} is longer than {max_length} characters")
        return value

    def date(self, name: str, *, required: bool = False) -> dt.date | None:
        value = self.text(name, required=required)
        if not value:
            return None
        parsed = parse_date(value)
        if parsed is None:
            self.error(name, f"{value!r} is not a date (use YYYY-MM-DD or MM/DD/YYYY)")
        return parsed

    def datetime(self, name: str, *, required: bool = False) -> dt.datetime | None:
        value = self.text(name, required=required)
        if not value:
            return None
        parsed = parse_datetime(value)
        if parsed is None:
            self.error(
                name, f"{value!r} is not a date and time (use YYYY-MM-DD HH:MM or MM/DD/YYYY HH:MM)"
            )
        return parsed

    def money(self, name: str, *, required: bool = False) -> Decimal | None:
        value = self.text(name, required=required)
        if not value:
            return None
        amount = parse_decimal(value)
        if amount is None:
            self.error(name, f"{value!r} is not an amount")
        elif amount < 0:
            self.error(name, f"{value!r} is negative")
        elif amount.as_tuple().exponent < -2:  # type: ignore[operator]
            self.error(name, f"{value!r} has more than 2 decimal places")
        elif amount > MAX_MONEY:
            self.error(name, f"{value!r} is too large")
        else:
            return amount.quantize(Decimal("0.01"))
        return None

    def units(self, name: str) -> Decimal:
        value = self.text(name)
        if not value:
            return Decimal("1")
        number = parse_decimal(value)
        if number is None:
            self.error(name, f"{value!r} is not a number")
        elif number <= 0:
            self.error(name, f"{value!r} must be more than 0")
        elif number.as_tuple().exponent < -2 or number > MAX_UNITS:  # type: ignore[operator]
            self.error(name, f"{value!r} must be at most {MAX_UNITS} with 2 decimal places")
        else:
            return number
        return Decimal("1")

    def integer(self, name: str, *, default: int, low: int, high: int) -> int:
        value = self.text(name)
        if not value:
            return default
        if not value.isdigit() or not low <= int(value) <= high:
            self.error(name, f"{value!r} is not a whole number from {low} to {high}")
            return default
        return int(value)

    def choice(self, name: str, choices: dict[str, Any], *, default: Any, what: str) -> Any:
        value = self.text(name)
        if not value:
            return default
        key = value.lower()
        if key not in choices:
            key = key.replace("_", " ").replace("-", " ")
        if key not in choices:
            self.error(name, f"{value!r} is not {what}")
            return default
        return choices[key]

    def codes(
        self, name: str, *, pattern: re.Pattern[str], what: str, limit: int = 12
    ) -> list[str]:
        value = self.text(name)
        codes = [c for c in LIST_SEPARATORS.split(value.upper()) if c]
        bad = [c for c in codes if not pattern.fullmatch(c)]
        if bad:
            self.error(name, f"{bad[0]!r} is not {what}")
        elif len(codes) > limit:
            self.error(name, f"{value!r} has {len(codes)} entries; at most {limit}")
        return codes


# --- the table ----------------------------------------------------------------------------


@dataclass
class Table:
    rows: list[Row] = field(default_factory=list)
    ok: bool = True  # False: the header is unusable, no row can be read


def read_table(text: str, layout: Layout, mapping: dict[str, str], ctx: Context) -> Table:
    """Map the header row to our fields and read the data rows (row 1 is the header)."""
    outcome = ctx.outcome
    table = Table()
    try:
        records = _records(text)
    except csv.Error as exc:
        outcome.error(f"the file is not valid CSV: {exc}", fatal=True)
        table.ok = False
        return table
    header = [h.strip() for h in records[0]] if records else []
    if not any(header):
        outcome.error(
            "the header row is empty: the first row must name the columns", row=1, fatal=True
        )
        table.ok = False
        return table
    names = [normalize(h) for h in header]
    columns: dict[str, int] = {}
    for ours, theirs in mapping.items():
        if not str(theirs).strip():
            continue
        if ours not in layout.fields:
            outcome.error(
                f"the column mapping names {ours!r}, which is not a field of this import",
                row=1,
                field=ours,
            )
        elif normalize(theirs) not in names:
            outcome.error(f"the column mapping names {theirs!r}: no such column", row=1, field=ours)
        else:
            columns[ours] = names.index(normalize(theirs))
    for ours in layout.fields:
        if ours not in columns and ours in names and names.index(ours) not in columns.values():
            columns[ours] = names.index(ours)
    for ours, index in columns.items():
        if names.count(names[index]) > 1:
            outcome.error(f"the column {header[index]!r} appears more than once", row=1, field=ours)
    for ours in layout.required:
        if ours not in columns:
            outcome.error(
                "required column is missing (add it, or map one of your columns to it)",
                row=1,
                field=ours,
            )
    if outcome.rejected:
        outcome.fatal, table.ok = True, False
        return table
    ignored = [h for i, h in enumerate(header) if h and i not in columns.values()]
    if ignored:
        outcome.note(f"ignored column(s): {', '.join(ignored)}", row=1)
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        values = {ours: record[i].strip() if i < len(record) else "" for ours, i in columns.items()}
        row = Row(number, values, ctx)
        if any(cell.strip() for cell in record[len(header) :]):
            row.error("", f"has {len(record)} values but the header names {len(header)} columns")
        table.rows.append(row)
    return table


def _in_practice(ctx: Context, model: Any, field_name: str, values: set[str]) -> dict[str, Any]:
    return {
        getattr(obj, field_name): obj
        for obj in model.objects.filter(practice=ctx.practice, **{f"{field_name}__in": values})
    }


def _payers(ctx: Context) -> dict[str, Payer]:
    return {p.payer_id.upper(): p for p in Payer.objects.filter(practice=ctx.practice)}


def _not_found(what: str, value: str, ctx: Context, hint: str) -> str:
    return f"no {what} {value!r} at {ctx.practice} ({hint})"


# --- patients -----------------------------------------------------------------------------

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
        payers = _payers(self.ctx)
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
            row.error("payer_id", _not_found("payer with id", payer_id, self.ctx, "add it first"))
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
        existing = _in_practice(ctx, Patient, "account_number", set(self.records))
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
                    changes = _changes(patient, record.fields)
                    if changes:
                        practice_services.patient_save(actor=ctx.actor, patient=patient, **changes)
                    changed = bool(changes)
            except ValidationError as exc:
                report(ctx, exc, row=record.row.number)
                continue
            on_file = coverages.get(patient.pk, {})
            for row, spec in record.coverages:
                coverage = on_file.get(spec["cob_order"]) or Coverage(patient=patient)
                changes = _changes(coverage, spec) if coverage.pk else spec
                if not changes:
                    continue
                try:
                    practice_services.coverage_save(actor=ctx.actor, coverage=coverage, **changes)
                except ValidationError as exc:
                    report(ctx, exc, row=row.number, columns={"payer": "payer_id"})
                changed = True
            if existing.get(account) is None:
                ctx.outcome.created += 1
            elif changed:
                ctx.outcome.updated += 1
            else:
                ctx.outcome.unchanged += 1


def _changes(instance: Any, fields: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in fields.items() if getattr(instance, name) != value}


# --- appointments -------------------------------------------------------------------------


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
        patients = _in_practice(
            ctx, Patient, "account_number", {r.raw("patient_account") for r in rows}
        )
        providers = _in_practice(ctx, Provider, "npi", {r.raw("provider_npi") for r in rows})
        seen: dict[tuple[int, dt.datetime], Row] = {}
        for row in rows:
            account = row.text("patient_account", required=True)
            npi = row.text("provider_npi", required=True)
            patient, provider = patients.get(account), providers.get(npi)
            if account and patient is None:
                hint = "import the patients file first"
                row.error("patient_account", _not_found("patient account", account, ctx, hint))
            if npi and provider is None:
                row.error("provider_npi", _not_found("provider with NPI", npi, ctx, "add it first"))
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
            changes = _changes(appointment, record.fields) if appointment else record.fields
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


# --- claims -------------------------------------------------------------------------------


@dataclass
class ClaimRecord:
    number: str
    rows: list[Row]
    head: dict[str, Any]  # claim-level values of the first row
    lines: list[dict[str, Any]] = field(default_factory=list)
    patient: Patient | None = None
    payer: Payer | None = None
    provider: Provider | None = None
    existing: Claim | None = None

    @property
    def ok(self) -> bool:
        return all(row.ok for row in self.rows)

    @property
    def row(self) -> Row:
        return self.rows[0]


class ClaimsImport:
    """Claims keyed on (practice, PMS claim number), one row per service line."""

    def __init__(self, ctx: Context, table: Table) -> None:
        self.ctx = ctx
        self.table = table
        self.total = len(table.rows)
        self.records: dict[str, ClaimRecord] = {}

    def _head(self, row: Row) -> dict[str, Any]:
        return {
            "patient_account": row.text("patient_account", required=True),
            "payer_id": row.text("payer_id", required=True).upper(),
            "member_id": row.text("member_id", max_length=40),
            "cob_order": row.choice(
                "cob_order", COB_ORDERS, default=1, what="a COB order (1/P, 2/S or 3/T)"
            ),
            "provider_npi": row.text("provider_npi", required=True),
            "diagnosis_codes": [
                code.replace(".", "")
                for code in row.codes(
                    "diagnosis_codes",
                    pattern=re.compile(r"[A-Z0-9.]{3,8}"),
                    what="a diagnosis code",
                )
            ],
            "other_payer_paid": row.money("other_payer_paid"),
        }

    def _line(self, row: Row) -> dict[str, Any]:
        code = row.text("procedure_code", required=True).upper()
        if code and not CODE.fullmatch(code):
            row.error("procedure_code", f"{code!r} is not a procedure code (letters and digits)")
        surfaces = row.text("surfaces").upper().replace(" ", "")
        if surfaces and not SURFACES.fullmatch(surfaces):
            row.error("surfaces", f"{surfaces!r} is not a list of tooth surfaces (e.g. MOD)")
        pointers = row.codes(
            "diagnosis_pointers",
            pattern=re.compile(r"[1-9]|1[0-2]"),
            what="a diagnosis pointer (1-12)",
            limit=4,
        )
        return {
            "procedure_code": code,
            "modifiers": row.codes("modifiers", pattern=MODIFIER, what="a modifier", limit=4),
            "diagnosis_pointers": [int(p) for p in pointers if p.isdigit()],
            "tooth": row.text("tooth", max_length=4).upper(),
            "surfaces": surfaces,
            "units": row.units("units"),
            "charge": row.money("charge", required=True),
            "service_date": row.date("service_date", required=True),
        }

    def validate(self) -> None:
        ctx = self.ctx
        for row in self.table.rows:
            number = row.text("pms_claim_number", required=True, max_length=40)
            head, line = self._head(row), self._line(row)
            if not number:
                continue
            record = self.records.get(number)
            if record is None:
                record = self.records[number] = ClaimRecord(number, [row], head)
            else:
                record.rows.append(row)
                for name in CLAIM_LEVEL:
                    if head[name] != record.head[name]:
                        row.error(
                            name,
                            f"{row.raw(name)!r} differs from {record.row.raw(name)!r} on row "
                            f"{record.row.number}: repeat the claim's value on each of its lines",
                        )
            record.lines.append(line)
        records = list(self.records.values())
        patients = _in_practice(
            ctx, Patient, "account_number", {r.head["patient_account"] for r in records}
        )
        providers = _in_practice(ctx, Provider, "npi", {r.head["provider_npi"] for r in records})
        payers = _payers(ctx)
        claims = _in_practice(ctx, Claim, "pms_claim_number", set(self.records))
        for record in records:
            head, row = record.head, record.row
            record.patient = patients.get(head["patient_account"])
            record.payer = payers.get(head["payer_id"])
            record.provider = providers.get(head["provider_npi"])
            record.existing = claims.get(record.number)
            if head["patient_account"] and record.patient is None:
                hint = "import the patients file first"
                row.error(
                    "patient_account",
                    _not_found("patient account", head["patient_account"], ctx, hint),
                )
            if head["payer_id"] and record.payer is None:
                row.error(
                    "payer_id", _not_found("payer with id", head["payer_id"], ctx, "add it first")
                )
            if head["provider_npi"] and record.provider is None:
                row.error(
                    "provider_npi",
                    _not_found("provider with NPI", head["provider_npi"], ctx, "add it first"),
                )
            existing = record.existing
            if existing is not None and record.patient and existing.patient_id != record.patient.pk:
                row.error(
                    "patient_account",
                    f"claim {record.number} on file is for another patient "
                    f"({existing.patient.account_number})",
                )
        if ctx.owner is None and any(r.existing is None for r in records):
            ctx.outcome.error(
                "new claims need an owner: import as a user (--as USERNAME)", fatal=True
            )

    def apply(self) -> None:
        ctx = self.ctx
        book = CoverageBook(ctx)
        book.preload({r.patient.pk for r in self.records.values() if r.patient is not None})
        today = timezone.localdate()
        done = 0
        for record in self.records.values():
            done += len(record.rows)
            ctx.outcome.progress(done)
            if not record.ok:
                continue
            claim = record.existing
            if claim is not None and claim.status not in claim_services.IMPORT_UPDATABLE_STATUSES:
                ctx.outcome.skip(
                    f"already {claim.get_status_display().lower()}; not changed",
                    row=record.row.number,
                    claim=record.number,
                )
                continue
            self._write(record, book, today)

    def _write(self, record: ClaimRecord, book: CoverageBook, today: dt.date) -> None:
        ctx, head = self.ctx, record.head
        assert record.patient and record.payer and record.provider
        dates = [line["service_date"] for line in record.lines]
        lines = [{**line, "line_number": n} for n, line in enumerate(record.lines, start=1)]
        try:
            coverage = book.resolve(
                record.patient,
                record.payer,
                head["cob_order"],
                member_id=head["member_id"],
                row=record.row.number,
                claim=record.number,
            )
            fields = {
                "coverage": coverage,
                "provider": record.provider,
                "service_date_from": min(dates),
                "service_date_to": max(dates),
                "diagnosis_codes": head["diagnosis_codes"],
                "lines": lines,
                "other_payer_paid": head["other_payer_paid"],
            }
            claim = record.existing
            if claim is None:
                claim_services.claim_create(
                    actor=ctx.actor,
                    patient=record.patient,
                    pms_claim_number=record.number,
                    owner=ctx.owner,
                    next_action=NextAction.CORRECT_AND_RESUBMIT,
                    next_action_due=today,
                    **fields,
                )
                ctx.outcome.created += 1
            elif claim_matches(claim, fields):
                ctx.outcome.unchanged += 1
            else:
                claim_services.claim_update_from_import(actor=ctx.actor, claim=claim, **fields)
                ctx.outcome.updated += 1
        except ValidationError as exc:
            columns = {
                "coverage": "payer_id",
                "provider": "provider_npi",
                "service_date_from": "service_date",
            }
            report(ctx, exc, row=record.row.number, claim=record.number, columns=columns)
        except PermissionDenied as exc:
            ctx.outcome.error(str(exc), row=record.row.number, claim=record.number)


LINE_FIELDS = (
    "line_number",
    "procedure_code",
    "modifiers",
    "diagnosis_pointers",
    "tooth",
    "surfaces",
    "units",
    "charge",
    "service_date",
)


def claim_matches(claim: Claim, fields: dict[str, Any]) -> bool:
    """Whether a claim on file already says what the file says (then it is left alone)."""
    on_file = [tuple(getattr(line, name) for name in LINE_FIELDS) for line in claim.lines.all()]
    wanted = [
        tuple(
            line.get(name, default)
            for name, default in zip(LINE_FIELDS, _LINE_DEFAULTS, strict=True)
        )
        for line in fields["lines"]
    ]
    return (
        on_file == wanted
        and claim.coverage_id == fields["coverage"].pk
        and claim.provider_id == fields["provider"].pk
        and claim.service_date_from == fields["service_date_from"]
        and claim.service_date_to == (fields["service_date_to"] or fields["service_date_from"])
        and list(claim.diagnosis_codes) == list(fields["diagnosis_codes"])
        and claim.other_payer_paid == fields["other_payer_paid"]
    )


_LINE_DEFAULTS = (None, "", [], [], "", "", Decimal("1"), None, None)


# --- entry point --------------------------------------------------------------------------

IMPORTERS = {
    ImportKind.CSV_PATIENTS: PatientsImport,
    ImportKind.CSV_APPOINTMENTS: AppointmentsImport,
    ImportKind.CSV_CLAIMS: ClaimsImport,
}


def importer_for(kind: str, ctx: Context, text: str, mapping: dict[str, str]) -> Any:
    """Read and validate a CSV file of ``kind``; returns the importer to ``apply()``."""
    table = read_table(text, LAYOUTS[kind], mapping, ctx)
    importer = IMPORTERS[kind](ctx, table)
    if table.ok:
        importer.validate()
    return importer
