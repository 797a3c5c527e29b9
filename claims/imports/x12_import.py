"""Import an 837P/837D claim batch read by ``claims.x12.parse_837``.

- A malformed file (``X12Error``) is rejected whole, with the segment and the reason.
- A claim whose number (CLM01) is already on file, or earlier in the same file, is skipped
  and counted: a batch sent twice imports nothing the second time.
- Payer: the practice's payer with the file's payer id (NM1*PR09); unknown ids are created
  (name from the file, format 837P/837D, timely filing 90 days) and listed as notes.
- Provider: rendering NPI (NM1*82), else billing NPI (NM1*85); unknown NPIs are created.
- Patient: matched on name + date of birth (the subscriber's member id breaks a tie);
  a new patient gets a derived account number (see ``derived_account``).
- Coverage: the subscriber's policy at the order SBR01 gives (P=1, S=2, T=3).
- Secondary claims: ``other_payer_paid`` is what the other payers paid (AMT*D, else the
  sum of their SVD line payments).
"""

from __future__ import annotations

import hashlib
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from claims import services as claim_services
from claims.choices import NextAction
from claims.imports.reference import CoverageBook, create_payer, create_provider, report
from claims.imports.results import Context
from claims.models import Claim
from claims.x12 import ParsedClaim, X12Error, parse_837
from practices import services as practice_services
from practices.choices import Relationship
from practices.models import Patient, Payer, Provider

# X12 individual relationship codes (PAT01 / SBR02) -> ours.
RELATIONSHIPS = {"18": Relationship.SELF, "01": Relationship.SPOUSE, "19": Relationship.CHILD}


def derived_account(claim: ParsedClaim) -> str:
    """A stable account number for a patient first seen in an 837.

    CLM01 (the "patient control number") identifies the claim, not the patient: most PMSs
    put a claim or visit number there, so deriving the account from it would create one
    patient per claim. A hash of who the patient is gives the same account on every
    import instead, and fits the 40-character field.
    """
    p, member_id = claim.patient, claim.subscriber.member_id or ""
    identity = f"{p.last_name}|{p.first_name}|{p.dob}|{member_id}".upper()
    return "X12-" + hashlib.sha256(identity.encode()).hexdigest()[:12].upper()


def other_payer_paid(claim: ParsedClaim) -> Decimal | None:
    """What the earlier payers paid, from their adjudication in loops 2320/2430."""
    if not claim.other_payers:
        return None
    total = Decimal("0.00")
    for other in claim.other_payers:
        if other.paid_amount is not None:
            total += other.paid_amount
        else:
            total += sum(
                (
                    adjudication.paid_amount
                    for line in claim.lines
                    for adjudication in line.adjudications
                    if adjudication.payer_id == other.payer_id
                ),
                Decimal("0.00"),
            )
    return total


def _name(first: str | None, last: str | None) -> str:
    return " ".join(part for part in (first, last) if part)


class PatientMatcher:
    """Finds (or creates) the patient of each claim, once per person per file."""

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._seen: dict[tuple[str, str, Any], Patient] = {}

    def patient_for(self, claim: ParsedClaim) -> Patient:
        ctx, p = self.ctx, claim.patient
        if not (p.first_name and p.last_name and p.dob):
            raise ValidationError("the patient has no first name, last name or date of birth")
        key = (p.last_name.upper(), p.first_name.upper(), p.dob)
        if key in self._seen:
            return self._seen[key]
        candidates = list(
            Patient.objects.filter(
                practice=ctx.practice,
                last_name__iexact=p.last_name,
                first_name__iexact=p.first_name,
                date_of_birth=p.dob,
            )
        )
        member_id = claim.subscriber.member_id
        by_member = [
            c for c in candidates if member_id and c.coverages.filter(member_id=member_id).exists()
        ]
        who = f"{p.last_name}, {p.first_name} (born {p.dob:%m/%d/%Y})"
        if len(by_member) == 1:
            patient = by_member[0]
        elif len(candidates) == 1:
            patient = candidates[0]
        elif candidates:
            raise ValidationError(
                f"{len(candidates)} patients named {who} are on file and none is told apart "
                f"by member id {member_id!r}: merge them or import the claim by CSV"
            )
        elif not ctx.can_edit_patients:
            raise ValidationError(
                f"patient {who} is not on file, and you may not add patients at {ctx.practice}: "
                "import the patients file first"
            )
        else:
            patient = practice_services.patient_save(
                actor=ctx.actor,
                patient=Patient(),
                practice=ctx.practice,
                account_number=derived_account(claim),
                first_name=p.first_name,
                last_name=p.last_name,
                date_of_birth=p.dob,
            )
            ctx.outcome.note(
                f"added patient {who} with account {patient.account_number}",
                claim=claim.claim_number,
            )
        self._seen[key] = patient
        return patient


class X12Import:
    """One 837 interchange: ``validate()`` parses, ``apply()`` writes the new claims."""

    def __init__(self, ctx: Context, text: str) -> None:
        self.ctx = ctx
        self.text = text
        self.total = 0
        self.kind = ""
        self.todo: list[ParsedClaim] = []

    def validate(self) -> None:
        ctx = self.ctx
        try:
            batch = parse_837(self.text)
        except X12Error as exc:
            ctx.outcome.error(
                exc.reason, segment=exc.segment_index, segment_id=exc.segment_id, fatal=True
            )
            return
        self.kind = batch.kind
        self.total = len(batch.claims)
        numbers = {c.claim_number for c in batch.claims}
        on_file = dict(
            Claim.objects.filter(practice=ctx.practice, pms_claim_number__in=numbers).values_list(
                "pms_claim_number", "status"
            )
        )
        seen: set[str] = set()
        for claim in batch.claims:
            number = claim.claim_number
            if number in on_file:
                ctx.outcome.skip("already on file; not imported again", claim=number)
            elif number in seen:
                ctx.outcome.skip("appears earlier in this file; imported once", claim=number)
            else:
                self.todo.append(claim)
            seen.add(number)
        if self.todo and ctx.owner is None:
            ctx.outcome.error(
                "new claims need an owner: import as a user (--as USERNAME)", fatal=True
            )

    def apply(self) -> None:
        ctx = self.ctx
        self.payers = {p.payer_id.upper(): p for p in Payer.objects.filter(practice=ctx.practice)}
        self.providers = {p.npi: p for p in Provider.objects.filter(practice=ctx.practice)}
        self.patients = PatientMatcher(ctx)
        self.coverages = CoverageBook(ctx)
        skipped = self.total - len(self.todo)
        for done, claim in enumerate(self.todo, start=skipped + 1):
            ctx.outcome.progress(done)
            try:
                self._import(claim)
            except ValidationError as exc:
                report(ctx, exc, claim=claim.claim_number)
            except PermissionDenied as exc:
                ctx.outcome.error(str(exc), claim=claim.claim_number)

    def _payer(self, claim: ParsedClaim) -> Payer:
        if not claim.payer_id:
            raise ValidationError("the subscriber's payer (NM1*PR) has no payer id")
        payer = self.payers.get(claim.payer_id.upper())
        if payer is None:
            payer = create_payer(
                self.ctx,
                payer_id=claim.payer_id,
                name=claim.payer_name or "",
                claim_format=self.kind,
            )
            self.payers[claim.payer_id.upper()] = payer
        return payer

    def _provider(self, claim: ParsedClaim) -> Provider:
        npi = claim.rendering_npi or claim.billing_npi
        if not npi:
            raise ValidationError("the claim names no rendering or billing provider NPI")
        provider = self.providers.get(npi)
        if provider is None:
            provider = self.providers[npi] = create_provider(self.ctx, npi=npi)
        return provider

    def _lines(self, claim: ParsedClaim) -> list[dict[str, Any]]:
        lines = []
        for line in claim.lines:
            where = f"line {line.line_number}"
            surfaces = "".join(line.surfaces)
            if len(line.procedure_code) > 10:
                raise ValidationError(
                    f"{where}: procedure code {line.procedure_code!r} is too long"
                )
            if len(line.tooth_number or "") > 4 or len(surfaces) > 10:
                raise ValidationError(
                    f"{where}: tooth {line.tooth_number!r} {surfaces!r} is too long"
                )
            if len(line.teeth) > 1:
                numbers = ", ".join(t.number for t in line.teeth)
                self.ctx.outcome.note(
                    f"{where} names teeth {numbers}; only the first is kept",
                    claim=claim.claim_number,
                )
            lines.append(
                {
                    "line_number": line.line_number,
                    "procedure_code": line.procedure_code,
                    "modifiers": list(line.modifiers),
                    "diagnosis_pointers": list(line.diagnosis_pointers),
                    "tooth": line.tooth_number or "",
                    "surfaces": surfaces,
                    "units": line.units,
                    "charge": line.charge,
                    "service_date": line.service_date,
                }
            )
        return lines

    def _import(self, claim: ParsedClaim) -> None:
        ctx = self.ctx
        if claim.service_date_from is None:
            raise ValidationError("the claim has no service date (DTP*472)")
        payer, provider = self._payer(claim), self._provider(claim)
        patient = self.patients.patient_for(claim)
        sub = claim.subscriber
        coverage = self.coverages.resolve(
            patient,
            payer,
            sub.cob_order or 1,
            member_id=sub.member_id or "",
            group_number=sub.group_number or "",
            subscriber_name=_name(sub.first_name, sub.last_name),
            relationship=RELATIONSHIPS.get(claim.patient.relationship, Relationship.OTHER),
            claim=claim.claim_number,
        )
        claim_services.claim_create(
            actor=ctx.actor,
            patient=patient,
            coverage=coverage,
            provider=provider,
            pms_claim_number=claim.claim_number,
            service_date_from=claim.service_date_from,
            service_date_to=claim.service_date_to,
            diagnosis_codes=claim.diagnosis_codes,
            lines=self._lines(claim),
            owner=ctx.owner,
            next_action=NextAction.CORRECT_AND_RESUBMIT,
            next_action_due=timezone.localdate(),
            other_payer_paid=other_payer_paid(claim),
        )
        ctx.outcome.created += 1


def importer_for(ctx: Context, text: str) -> X12Import:
    """Parse and check an 837 file; returns the importer to ``apply()``."""
    importer = X12Import(ctx, text)
    importer.validate()
    return importer
