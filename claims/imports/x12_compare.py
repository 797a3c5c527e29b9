"""What an 837 claim says, in the terms of a claim on file, and how the two differ.

An 837 claim whose number and payer are already on file is skipped only when it says the
same thing as the claim on file; any difference is named (``differences``) so the result
can show it as a conflict (or as what a replacement changes).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from django.db import connection

from billing_ops.bulk import any_of
from claims.models import Claim, ClaimLine
from claims.x12 import ParsedClaim
from practices.models import Coverage, Patient, Payer, Provider


def other_payer_paid(claim: ParsedClaim) -> Decimal | None:
    """What the earlier payers paid, from their adjudication in loops 2320/2430.

    Empty (None) when the file gives no other-payer payment at all: a primary claim that
    names the secondary payer in a 2320 loop has no payment to report, not a payment of 0.
    """
    total, found = Decimal("0.00"), False
    for other in claim.other_payers:
        if other.paid_amount is not None:
            total, found = total + other.paid_amount, True
            continue
        for line in claim.lines:
            for adjudication in line.adjudications:
                if adjudication.payer_id == other.payer_id:
                    total, found = total + adjudication.paid_amount, True
    return total if found else None


def line_specs(claim: ParsedClaim) -> list[dict[str, Any]]:
    """The claim's lines as ``claims.services.build_lines`` takes them."""
    return [
        {
            "line_number": line.line_number,
            "procedure_code": line.procedure_code,
            "modifiers": list(line.modifiers),
            "diagnosis_pointers": list(line.diagnosis_pointers),
            "teeth": [{"tooth": t.number, "surfaces": "".join(t.surfaces)} for t in line.teeth],
            "units": line.units,
            "unit_basis": line.unit_basis or "",
            "charge": line.charge,
            "service_date": line.service_date,
            "service_date_to": (
                line.service_date_to if line.service_date_to != line.service_date else None
            ),
        }
        for line in claim.lines
    ]


def _line_key(spec: dict[str, Any]) -> tuple[Any, ...]:
    return (
        spec["procedure_code"].upper(),
        tuple(spec["modifiers"]),
        tuple(spec["diagnosis_pointers"]),
        tuple((t["tooth"].upper(), t["surfaces"].upper()) for t in spec["teeth"]),
        Decimal(spec["units"]).quantize(Decimal("0.01")),
        spec["unit_basis"],
        Decimal(spec["charge"]).quantize(Decimal("0.01")),
        spec["service_date"],
        spec["service_date_to"],
    )


def _on_file_line_key(line: Any) -> tuple[Any, ...]:
    return _line_key(
        {
            "procedure_code": line.procedure_code,
            "modifiers": line.modifiers,
            "diagnosis_pointers": line.diagnosis_pointers,
            "teeth": line.all_teeth,
            "units": line.units,
            "unit_basis": line.unit_basis,
            "charge": line.charge,
            "service_date": line.service_date,
            "service_date_to": line.service_date_to,
        }
    )


class _Lines(list[Any]):
    """A light claim's lines, read as ``claim.lines.all()`` reads them."""

    def all(self) -> _Lines:
        return self


class _Line(SimpleNamespace):
    @property
    def all_teeth(self) -> list[dict[str, str]]:
        return ClaimLine.all_teeth.fget(self)  # type: ignore[attr-defined]


# The claim's own facts the comparison reads, read back (``_CLAIM_FACTS``) or held
# (``HeldFacts``).
_COMPARED = (
    "pk",
    "version",
    "pms_claim_number",
    "payer_id",
    "status",
    "total_billed",
    "service_date_from",
    "service_date_to",
    "diagnosis_codes",
    "other_payer_paid",
)
_CLAIM_FACTS = (*_COMPARED, "provider_id", "coverage_id", "patient_id")
_LINE_FACTS = (
    "claim_id",
    "procedure_code",
    "modifiers",
    "diagnosis_pointers",
    "tooth",
    "surfaces",
    "teeth",
    "units",
    "unit_basis",
    "charge",
    "service_date",
    "service_date_to",
)


def _by_id(model: Any, ids: set[int], *columns: str) -> dict[int, tuple[Any, ...]]:
    """``columns`` of ``model``'s rows by primary key, one query: ``= ANY(array)`` on
    PostgreSQL (one parameter, the primary key's index), an IN list elsewhere."""
    if not ids:
        return {}
    if connection.vendor != "postgresql":
        rows = model.objects.filter(pk__in=ids).values_list("pk", *columns)
        return {row[0]: row[1:] for row in rows}
    quote = connection.ops.quote_name
    selected = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {selected} FROM {quote(model._meta.db_table)} WHERE id = ANY(%s)",
            [list(ids)],
        )
        return {row[0]: row[1:] for row in cursor.fetchall()}


def on_file_facts(practice: Any, numbers: Iterable[str]) -> list[Any]:
    """The facts ``differences`` compares of the practice's claims with these numbers, as
    light objects (no model instances). Each has ``pk``, ``version``,
    ``pms_claim_number``, ``payer_id`` and ``status`` besides. No join: the claims by
    their number, then their payers, providers, coverages, patients and lines by id, one
    query each (a join of tables just written, before any statistics, was planned as
    nested scans: 30-70 s of the server's time for 10,000 claims in the bench)."""
    rows = list(
        Claim.objects.filter(
            any_of("pms_claim_number", set(numbers)), practice=practice
        ).values_list(*_CLAIM_FACTS)
    )
    if not rows:
        return []
    facts = [dict(zip(_CLAIM_FACTS, row, strict=True)) for row in rows]
    payers = _by_id(Payer, {f["payer_id"] for f in facts}, "payer_id")
    providers = _by_id(Provider, {f["provider_id"] for f in facts}, "npi")
    coverages = _by_id(Coverage, {f["coverage_id"] for f in facts}, "member_id")
    patients = _by_id(
        Patient, {f["patient_id"] for f in facts}, "first_name", "last_name", "date_of_birth"
    )
    found = []
    for fact in facts:
        first_name, last_name, born = patients[fact["patient_id"]]
        found.append(
            SimpleNamespace(
                pk=fact["pk"],
                version=fact["version"],
                pms_claim_number=fact["pms_claim_number"],
                payer_id=payers[fact["payer_id"]][0],
                status=fact["status"],
                total_billed=fact["total_billed"],
                service_date_from=fact["service_date_from"],
                service_date_to=fact["service_date_to"],
                diagnosis_codes=fact["diagnosis_codes"],
                other_payer_paid=fact["other_payer_paid"],
                provider=SimpleNamespace(npi=providers[fact["provider_id"]][0]),
                coverage=SimpleNamespace(member_id=coverages[fact["coverage_id"]][0]),
                patient=SimpleNamespace(
                    first_name=first_name, last_name=last_name, date_of_birth=born
                ),
                lines=_Lines(),
            )
        )
    by_pk = {claim.pk: claim for claim in found}
    lines = ClaimLine.objects.filter(any_of("claim_id", by_pk)).order_by("claim_id", "line_number")
    for row in lines.values_list(*_LINE_FACTS):
        line = _Line(**dict(zip(_LINE_FACTS, row, strict=True)))
        by_pk[line.claim_id].lines.append(line)
    return found


class HeldFacts:
    """The facts ``differences`` and the digests read of a claim this import has just
    written, kept until the import's end: one slotted object a claim, its lines as their
    comparison keys (plain tuples of strings, numbers and dates, which the garbage
    collector stops tracking) rather than a namespace and three lists a line, so the
    10,000 claims of a large file do not keep ~200,000 containers for every collection
    of the import to walk again."""

    __slots__ = (*_COMPARED, "provider", "coverage", "patient", "line_keys")

    pk: int
    version: int
    pms_claim_number: str
    payer_id: str
    status: str
    total_billed: Decimal
    service_date_from: dt.date
    service_date_to: dt.date | None
    diagnosis_codes: tuple[str, ...]
    other_payer_paid: Decimal | None
    provider: Any
    coverage: Any
    patient: Any
    line_keys: tuple[tuple[Any, ...], ...]


def _held_line_key(line: dict[str, Any]) -> tuple[Any, ...]:
    """``_on_file_line_key`` of a line written from these values (``ClaimLine.all_teeth``
    of them: its teeth, else its one tooth)."""
    teeth = line["teeth"]
    if not teeth and line["tooth"]:
        teeth = [{"tooth": line["tooth"], "surfaces": line["surfaces"]}]
    return _line_key({**line, "teeth": teeth})


def held_facts(claim: Claim, lines: Iterable[dict[str, Any]]) -> HeldFacts:
    """``on_file_facts`` of a claim this import has just written, from what it holds (the
    claim as written by ``claims.bulk.claims_create_bulk`` and its lines' values) instead
    of reading it again: the same facts for ``differences`` and the digests (``tests/
    claims/test_import_digests.py`` holds the two to the same digests). Its patient,
    coverage and provider are the import's own objects, so a coverage the import corrects
    later in the file is seen as it then is (as a read at the end would see it), and the
    claim instance itself is not kept."""
    facts = HeldFacts()
    facts.pk = claim.pk
    facts.version = claim.version
    facts.pms_claim_number = claim.pms_claim_number
    facts.payer_id = claim.payer.payer_id
    facts.status = claim.status
    facts.total_billed = claim.total_billed
    facts.service_date_from = claim.service_date_from
    facts.service_date_to = claim.service_date_to
    facts.diagnosis_codes = tuple(claim.diagnosis_codes)
    facts.other_payer_paid = claim.other_payer_paid
    facts.provider = claim.provider  # .npi
    facts.coverage = claim.coverage  # .member_id
    facts.patient = claim.patient  # .first_name, .last_name, .date_of_birth
    by_number = sorted(lines, key=lambda line: line["line_number"])
    facts.line_keys = tuple(_held_line_key(line) for line in by_number)
    return facts


def _line_keys_on_file(on_file: Any) -> list[tuple[Any, ...]]:
    if type(on_file) is HeldFacts:
        return list(on_file.line_keys)
    return [_on_file_line_key(line) for line in on_file.lines.all()]


def _day(value: dt.date | None) -> str:
    return f"{value:%m/%d/%Y}" if value else "none"


def differences(on_file: Any, claim: ParsedClaim) -> list[str]:
    """What the file says differently from the claim on file (a ``Claim``, or its facts
    from ``on_file_facts``), one phrase per fact."""
    found = []
    patient = on_file.patient
    theirs = claim.patient
    if (
        (patient.first_name or "").casefold() != (theirs.first_name or "").casefold()
        or (patient.last_name or "").casefold() != (theirs.last_name or "").casefold()
        or patient.date_of_birth != theirs.dob
    ):
        found.append(
            f"patient {patient.last_name}, {patient.first_name} → "
            f"{theirs.last_name}, {theirs.first_name}"
        )
    if on_file.total_billed != claim.total_charge:
        found.append(f"total {on_file.total_billed} → {claim.total_charge}")
    if on_file.service_date_from != claim.service_date_from or (
        on_file.service_date_to != (claim.service_date_to or claim.service_date_from)
    ):
        found.append(
            f"service dates {_day(on_file.service_date_from)}-{_day(on_file.service_date_to)} → "
            f"{_day(claim.service_date_from)}-{_day(claim.service_date_to)}"
        )
    if list(on_file.diagnosis_codes) != list(claim.diagnosis_codes):
        found.append(
            f"diagnoses {','.join(on_file.diagnosis_codes) or 'none'} → "
            f"{','.join(claim.diagnosis_codes) or 'none'}"
        )
    npi = claim.rendering_npi or claim.billing_npi
    if npi and on_file.provider.npi != npi:
        found.append(f"provider NPI {on_file.provider.npi} → {npi}")
    member_id = claim.subscriber.member_id or ""
    if member_id and on_file.coverage.member_id != member_id:
        found.append(f"member id {on_file.coverage.member_id!r} → {member_id!r}")
    paid = other_payer_paid(claim)
    if on_file.other_payer_paid != paid:
        found.append(f"other payer paid {on_file.other_payer_paid} → {paid}")
    ours = _line_keys_on_file(on_file)
    wanted = [_line_key(spec) for spec in line_specs(claim)]
    if ours != wanted:
        if len(ours) != len(wanted):
            found.append(f"{len(ours)} line(s) → {len(wanted)}")
        else:
            pairs = enumerate(zip(ours, wanted, strict=True), start=1)
            changed = [str(n) for n, (a, b) in pairs if a != b]
            found.append(f"line(s) {', '.join(changed)} differ")
    return found
