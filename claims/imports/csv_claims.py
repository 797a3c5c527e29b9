"""CSV claims with lines: validate the rows (one per service line), then write the
claims through ``claims.services``."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from claims import services as claim_services
from claims.choices import NextAction
from claims.imports.csv_columns import Table
from claims.imports.csv_rows import COB_ORDERS, CODE, Row, in_practice, not_found, payers_by_id
from claims.imports.reference import CoverageBook, report
from claims.imports.results import CLAIM, Context
from claims.models import Claim
from practices.models import Patient, Payer, Provider

CLAIM_LEVEL = (
    "patient_account",
    "payer_id",
    "member_id",
    "cob_order",
    "provider_npi",
    "diagnosis_codes",
    "other_payer_paid",
)

MODIFIER = re.compile(r"[A-Z0-9]{2}")
SURFACES = re.compile(r"[A-Z]{1,10}")


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
            # An empty cell is a line not yet dated; a claim with no dated line is a draft
            # the scrubber blocks (as an 837 claim without DTP*472).
            "service_date": row.date("service_date"),
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
        patients = in_practice(
            ctx, Patient, "account_number", {r.head["patient_account"] for r in records}
        )
        providers = in_practice(ctx, Provider, "npi", {r.head["provider_npi"] for r in records})
        payers = payers_by_id(ctx)
        # A claim is its number AND its payer: one number may go to a primary and a secondary.
        claims = {
            (claim.pms_claim_number, claim.payer.payer_id.upper()): claim
            for claim in Claim.objects.filter(
                practice=ctx.practice, pms_claim_number__in=set(self.records)
            ).select_related("payer", "patient")
        }
        for record in records:
            head, row = record.head, record.row
            record.patient = patients.get(head["patient_account"])
            record.payer = payers.get(head["payer_id"])
            record.provider = providers.get(head["provider_npi"])
            record.existing = claims.get((record.number, head["payer_id"]))
            if head["patient_account"] and record.patient is None:
                hint = "import the patients file first"
                row.error(
                    "patient_account",
                    not_found("patient account", head["patient_account"], ctx, hint),
                )
            if head["payer_id"] and record.payer is None:
                row.error(
                    "payer_id", not_found("payer with id", head["payer_id"], ctx, "add it first")
                )
            if head["provider_npi"] and record.provider is None:
                row.error(
                    "provider_npi",
                    not_found("provider with NPI", head["provider_npi"], ctx, "add it first"),
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
            self._write(record, book, today)

    def _write(self, record: ClaimRecord, book: CoverageBook, today: dt.date) -> None:
        ctx, head = self.ctx, record.head
        assert record.patient and record.payer and record.provider
        dates = [line["service_date"] for line in record.lines if line["service_date"]]
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
                "service_date_from": min(dates, default=None),
                "service_date_to": max(dates, default=None),
                "diagnosis_codes": head["diagnosis_codes"],
                "lines": lines,
                "other_payer_paid": head["other_payer_paid"],
            }
            claim = record.existing
            if claim is None:
                claim = claim_services.claim_create(
                    actor=ctx.actor,
                    patient=record.patient,
                    pms_claim_number=record.number,
                    owner=ctx.owner,
                    next_action=NextAction.REQUEST_INFO_PRACTICE
                    if not dates
                    else NextAction.PREPARE_AND_SUBMIT,
                    next_action_due=today,
                    check_unique=False,  # checked against the claims on file (existing)
                    **fields,
                )
                ctx.outcome.created += 1
                ctx.outcome.record(CLAIM, claim.pk, record.number)
                if not dates:
                    ctx.outcome.warn(
                        f"no service date on any line: claim #{claim.pk} is a draft with a "
                        "scrub error until the date of service is entered",
                        row=record.row.number,
                        claim=record.number,
                    )
            elif claim.status not in claim_services.IMPORT_UPDATABLE_STATUSES:
                status = claim.get_status_display().lower()
                where = {"row": record.row.number, "claim": record.number}
                if claim_matches(claim, fields):
                    ctx.outcome.skip(f"already {status}; not changed", **where)
                else:
                    ctx.outcome.conflict(
                        f"already {status} and the file says otherwise; not changed: "
                        "correct the claim on its page",
                        **where,
                    )
            elif claim_matches(claim, fields):
                ctx.outcome.unchanged += 1
            else:
                claim_services.claim_update_from_import(actor=ctx.actor, claim=claim, **fields)
                ctx.outcome.updated += 1
                ctx.outcome.record(CLAIM, claim.pk, record.number, "updated")
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
