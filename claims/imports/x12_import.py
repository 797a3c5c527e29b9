"""Import an 837P/837D claim batch read by ``claims.x12.parse_837``.

- A malformed file is rejected whole, with every problem found (up to 200), each with its
  segment and reason. An encounter file (BHT06 = RP) is refused: encounters are not billable.
- A claim is keyed on its number (CLM01) AND its payer: the same number to another payer
  (a secondary claim, SBR*S) is a separate claim. A claim on file that the file repeats
  with the same content is skipped (a batch sent twice imports nothing the second time); a
  replacement (CLM05-3 = 7) replaces it through ``claim_update_from_import`` (history kept,
  only while the payer does not have it); a void (8) voids it through ``claim_transition``;
  any other difference is a conflict: listed with what differs, counted, never written.
- Payer: the practice's payer with the file's payer id (NM1*PR09); unknown ids are created
  (name from the file, format 837P/837D, timely filing 90 days) and listed as notes.
- Provider: rendering NPI (NM1*82), else billing NPI (NM1*85); unknown NPIs are created.
- Patient: matched on name + date of birth (the subscriber's member id breaks a tie);
  a new patient gets a derived account number (see ``derived_account``).
- Coverage: the subscriber's policy at the order SBR01 gives (P=1, S=2, T=3).
- Secondary claims: ``other_payer_paid`` is what the other payers paid (AMT*D, else the
  sum of their SVD line payments); empty when the file gives no other-payer payment.
- Lines keep every tooth (TOO) with its surfaces, date ranges (RD8) and the unit basis.
- A claim without a service date (no DTP*472 on the claim or its lines) that is not a
  predetermination imports as an undated draft: the scrubber's error blocks it until dated.
"""

from __future__ import annotations

import hashlib
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from billing_ops.bulk import any_of
from claims import services as claim_services
from claims.choices import TRANSITIONS, ClaimStatus, NextAction
from claims.imports import digests
from claims.imports.reference import CoverageBook, create_payer, create_provider, report
from claims.imports.results import CLAIM, ESTIMATE, PATIENT, Context
from claims.imports.x12_compare import (
    differences,
    line_specs,
    on_file_facts,
    other_payer_paid,
)
from claims.models import Claim, Estimate
from claims.x12 import ParsedClaim, X12Error, parse_837
from claims.x12.spans import claim_spans
from practices import services as practice_services
from practices.choices import ClaimFormat, PracticeKind, Relationship
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


def undated_warning(claim: Claim) -> str:
    """What the result says of a claim imported without a service date."""
    return (
        f"no service date (DTP*472): claim #{claim.pk} is a draft with a scrub error until "
        "the date of service is entered"
    )


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
            ctx.outcome.record(PATIENT, patient.pk, patient.account_number)
        self._seen[key] = patient
        return patient


SAME = "already on file with the same content; not imported again"
# Claims of the file sorted against the claims on file per query (numbers in one IN list).
SORT_CHUNK = 2000
# CLM05-3 claim frequency codes.
REPLACEMENT, VOID = "7", "8"
KIND_OF_FORMAT = {
    ClaimFormat.PROFESSIONAL: PracticeKind.MEDICAL,
    ClaimFormat.DENTAL: PracticeKind.DENTAL,
}


def _key(claim: ParsedClaim) -> tuple[str, str]:
    return claim.claim_number, (claim.payer_id or "").upper()


class X12Import:
    """One 837 interchange: ``validate()`` parses and sorts the claims (new, same, replace,
    void, conflict) without writing; ``apply()`` writes through the claim services."""

    def __init__(self, ctx: Context, text: str) -> None:
        self.ctx = ctx
        self.text = text
        self.total = 0
        self.kind = ""
        self.todo: list[ParsedClaim] = []  # new claims
        self.replace: list[tuple[ParsedClaim, Claim, list[str]]] = []
        self.void: list[tuple[ParsedClaim, Claim]] = []
        self.estimates: list[ParsedClaim] = []  # predeterminations (CLM19 = PB)
        # Span digests (claims.imports.digests): of the claims read, by id(); the claims
        # skipped unread; the claims left on file as the file says, to record.
        self.digests: dict[int, tuple[str, str, str]] = {}
        self.unread: list[Any] = []
        self.as_filed: list[ParsedClaim] = []
        # The facts of the claims the bulk path wrote (x12_compare.held_facts): their
        # digests are recorded from these, not from a read of what was written.
        self.written: list[Any] = []
        # False for a preview: its writes are rolled back, digests with them (none read).
        self.record_digests = True

    def validate(self) -> None:
        ctx = self.ctx
        spans = claim_spans(self.text)
        self.unread = digests.unchanged(ctx.practice.pk, spans)
        try:
            batch = parse_837(self.text, drop=[(s.start, s.end) for s in self.unread])
        except X12Error as exc:
            for problem in getattr(exc, "errors", [exc]):
                ctx.outcome.error(
                    problem.reason,
                    segment=problem.segment_index,
                    segment_id=problem.segment_id,
                    fatal=True,
                )
            more = getattr(exc, "more", 0)
            if more:
                ctx.outcome.note(f"{more} more problem(s) in the file not listed")
            return
        self.kind = batch.kind
        self.total = len(batch.claims) + len(self.unread)
        self._digests_of(spans, batch.claims)
        if batch.transaction_type == "RP":
            ctx.outcome.error(
                "this is an encounter report (BHT06 = RP), not a claim batch: encounters "
                "record care that is not billed by claim (e.g. capitated), so nothing was "
                "imported. Export the claims (BHT06 = CH) from the PMS instead.",
                segment=4,
                segment_id="BHT",
                fatal=True,
            )
            return
        expected = KIND_OF_FORMAT.get(batch.kind)
        if expected and ctx.practice.kind and ctx.practice.kind != expected:
            ctx.outcome.warn(
                f"this is an {batch.kind} file and {ctx.practice} is a "
                f"{ctx.practice.get_kind_display().lower()} practice: check that the file is "
                "for this practice"
            )
        for span in self.unread:  # on file as this file says, unchanged since
            ctx.outcome.skip(SAME, claim=span.number)
        self._sort(batch.claims)
        if self.todo and ctx.owner is None:
            ctx.outcome.error(
                "new claims need an owner: import as a user (--as USERNAME)", fatal=True
            )

    def _digests_of(self, spans: list[Any], claims: tuple[ParsedClaim, ...]) -> None:
        """Each read claim's span digest (numbers the file names once), to record."""
        unread = {span.start for span in self.unread}
        read = [span for span in spans if span.start not in unread]
        if len(read) != len(claims):
            return  # the spans did not follow the parse: nothing recorded
        once = {span.start for span in digests.skippable(spans)}
        for span, claim in zip(read, claims, strict=True):
            if span.start in once and span.number == claim.claim_number:
                payer = (claim.payer_id or "").upper()
                self.digests[id(claim)] = (claim.claim_number, payer, span.digest)

    def _record_digests(self) -> None:
        rows = [(*self.digests[id(c)], c) for c in self.as_filed if id(c) in self.digests]
        digests.record(self.ctx.practice.pk, rows, self.written)

    def _sort(self, claims: tuple[ParsedClaim, ...]) -> None:
        """Sort the file's claims against the claims on file, in chunks of numbers: each
        chunk reads the facts of its claims on file (two queries, no model instances);
        only the claims a new one names, a void voids or a difference reports are then
        read whole (a re-import of an identical file reads none)."""
        self._seen: dict[tuple[str, str], ParsedClaim] = {}  # across chunks: the file's
        for start in range(0, len(claims), SORT_CHUNK):
            self._sort_chunk(claims[start : start + SORT_CHUNK])

    def _sort_chunk(self, claims: tuple[ParsedClaim, ...]) -> None:
        ctx, outcome = self.ctx, self.ctx.outcome
        numbers = {c.claim_number for c in claims}
        on_file: dict[tuple[str, str], Any] = {}
        by_number: dict[str, list[Any]] = {}
        for facts in on_file_facts(ctx.practice, numbers):
            on_file[(facts.pms_claim_number, facts.payer_id.upper())] = facts
            by_number.setdefault(facts.pms_claim_number, []).append(facts)
        estimates = {
            (e.pms_claim_number, e.payer.payer_id.upper()): e
            for e in Estimate.objects.filter(
                any_of("pms_claim_number", numbers), practice=ctx.practice
            ).select_related("payer")
        }
        first: list[ParsedClaim] = []  # each (number, payer)'s first claim in the file
        keys = set(self._seen)
        for claim in claims:
            if _key(claim) not in keys:
                keys.add(_key(claim))
                first.append(claim)
        changes: dict[int, list[str]] = {}
        wanted: set[int] = set()  # claims on file to read whole
        for claim in first:
            if claim.predetermination:
                continue
            existing = on_file.get(_key(claim))
            if existing is None:
                wanted |= {other.pk for other in by_number.get(claim.claim_number, [])}
            elif claim.frequency_code == VOID:
                wanted.add(existing.pk)
            else:
                changes[id(claim)] = differences(existing, claim)
                if changes[id(claim)]:
                    wanted.add(existing.pk)
        whole: dict[int, Claim] = {}
        if wanted:
            whole = {
                c.pk: c
                for c in Claim.objects.filter(pk__in=wanted)
                .select_related("payer", "patient", "coverage", "provider")
                .prefetch_related("lines")
            }
        seen = self._seen
        for claim in claims:
            key, number = _key(claim), claim.claim_number
            earlier = seen.get(key)
            seen.setdefault(key, claim)
            if earlier is not None:
                if earlier == claim:
                    outcome.skip("appears earlier in this file; imported once", claim=number)
                else:
                    outcome.conflict(
                        "appears twice in this file for the same payer with different "
                        "content; only the first is imported: fix the file",
                        claim=number,
                    )
                continue
            if claim.predetermination:
                self._estimate(claim, estimates.get(key))
                continue
            existing = on_file.get(key)
            if existing is None:
                self._new(claim, [whole[o.pk] for o in by_number.get(number, [])])
            elif claim.frequency_code == VOID:
                self._void(claim, whole[existing.pk])
            elif not changes[id(claim)]:
                outcome.skip(SAME, claim=number)
                self.as_filed.append(claim)
            else:
                self._compare(claim, whole[existing.pk], changes[id(claim)])

    def _new(self, claim: ParsedClaim, same_number: list[Claim]) -> None:
        outcome, number = self.ctx.outcome, claim.claim_number
        if claim.frequency_code == VOID:
            outcome.skip(
                f"void (CLM05-3 = 8) of a claim to payer {claim.payer_id} that is not on file; "
                "nothing to void",
                claim=number,
            )
            return
        if claim.frequency_code == REPLACEMENT:
            outcome.note(
                f"replacement (CLM05-3 = 7) of a claim to payer {claim.payer_id} that is not on "
                "file: imported as a new claim",
                claim=number,
            )
        for other in same_number:
            outcome.note(
                f"the number is also on file for payer {other.payer.payer_id} (claim #{other.pk},"
                f" {other.coverage.get_cob_order_display().lower()}): imported as a separate claim"
                f" to payer {claim.payer_id}",
                claim=number,
            )
        self.todo.append(claim)

    def _estimate(self, claim: ParsedClaim, existing: Estimate | None) -> None:
        outcome, number = self.ctx.outcome, claim.claim_number
        if existing is None:
            self.estimates.append(claim)
        elif existing.total_billed == claim.total_charge and len(existing.lines) == len(
            claim.lines
        ):
            outcome.skip("pre-treatment estimate already on file; not imported again", claim=number)
        else:
            outcome.conflict(
                f"differs from pre-treatment estimate #{existing.pk} on file (total "
                f"{existing.total_billed} → {claim.total_charge}); not changed",
                claim=number,
            )

    def _void(self, claim: ParsedClaim, existing: Claim) -> None:
        outcome, number = self.ctx.outcome, claim.claim_number
        if existing.status == ClaimStatus.VOID:
            outcome.skip("already void; not changed", claim=number)
        elif ClaimStatus.VOID not in TRANSITIONS[existing.status]:
            outcome.conflict(
                f"the file voids (CLM05-3 = 8) claim #{existing.pk}, which is "
                f"{existing.get_status_display().lower()}: a claim the payer has is not voided "
                "by an import; resolve it on the claim page",
                claim=number,
            )
        else:
            self.void.append((claim, existing))

    def _compare(self, claim: ParsedClaim, existing: Claim, changes: list[str]) -> None:
        outcome, number = self.ctx.outcome, claim.claim_number
        what = "; ".join(changes)
        if claim.frequency_code != REPLACEMENT:
            outcome.conflict(
                f"differs from claim #{existing.pk} on file ({what}); not changed: send it as a "
                "replacement (CLM05-3 = 7) or correct the claim on file",
                claim=number,
            )
        elif any(change.startswith("patient ") for change in changes):
            outcome.conflict(
                f"replacement (CLM05-3 = 7) of claim #{existing.pk} names another patient "
                f"({what}); not changed: void the claim on file and send a new one",
                claim=number,
            )
        elif existing.status not in claim_services.IMPORT_UPDATABLE_STATUSES:
            outcome.conflict(
                f"replacement (CLM05-3 = 7) of claim #{existing.pk}, which is "
                f"{existing.get_status_display().lower()} ({what}): imports do not change a claim "
                "the payer has; resolve it on the claim page",
                claim=number,
            )
        else:
            self.replace.append((claim, existing, changes))

    def apply(self, new_claims: Any = None) -> None:
        """Write voids, replacements, new claims and estimates, in this order.

        ``new_claims(claims, done)``: writes the new claims instead of one by one here
        (``x12_bulk``: in chunks); ``done`` is the progress count before them."""
        ctx = self.ctx
        self.payers = {p.payer_id.upper(): p for p in Payer.objects.filter(practice=ctx.practice)}
        self.providers = {p.npi: p for p in Provider.objects.filter(practice=ctx.practice)}
        self.patients = PatientMatcher(ctx)
        self.coverages = CoverageBook(ctx)
        skipped = self.total - len(self.todo) - len(self.replace) - len(self.void)
        skipped -= len(self.estimates)
        self._existing = {id(c): e for c, e in self.void} | {id(c): e for c, e, _ in self.replace}
        self._changes = {id(c): ch for c, _, ch in self.replace}
        done = self._write_each(
            [
                *((c, self._void_one) for c, _ in self.void),
                *((c, self._replace_one) for c, _, _ in self.replace),
            ],
            skipped,
        )
        if new_claims is None:
            done = self._write_each([(c, self._import) for c in self.todo], done)
        else:
            new_claims(self.todo, done)
            done += len(self.todo)
        self._write_each([(c, self._import_estimate) for c in self.estimates], done)
        self.as_filed += self.todo  # the ones not written are not on file: no row
        if self.record_digests:
            self._record_digests()

    def _write_each(self, work: list[tuple[ParsedClaim, Any]], done: int) -> int:
        ctx = self.ctx
        for claim, write in work:
            done += 1
            ctx.outcome.progress(done)
            try:
                write(claim)
            except ValidationError as exc:
                report(ctx, exc, claim=claim.claim_number)
            except PermissionDenied as exc:
                ctx.outcome.error(str(exc), claim=claim.claim_number)
        return done

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
        for line in claim.lines:
            if len(line.procedure_code) > 10:
                raise ValidationError(
                    f"line {line.line_number}: procedure code {line.procedure_code!r} is too long"
                )
        return line_specs(claim)

    def _fields(self, claim: ParsedClaim, patient: Patient) -> dict[str, Any]:
        """What the claim services take, with payer, provider and coverage resolved."""
        payer, provider = self._payer(claim), self._provider(claim)
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
        return {
            "coverage": coverage,
            "provider": provider,
            "service_date_from": claim.service_date_from,
            "service_date_to": claim.service_date_to,
            "diagnosis_codes": claim.diagnosis_codes,
            "lines": self._lines(claim),
            "other_payer_paid": other_payer_paid(claim),
        }

    def _import(self, claim: ParsedClaim) -> None:
        ctx = self.ctx
        patient = self.patients.patient_for(claim)
        undated = claim.service_date_from is None
        created = claim_services.claim_create(
            actor=ctx.actor,
            patient=patient,
            pms_claim_number=claim.claim_number,
            owner=ctx.owner,
            # Undated: someone must get the date of service from the practice first.
            next_action=(
                NextAction.REQUEST_INFO_PRACTICE if undated else NextAction.PREPARE_AND_SUBMIT
            ),
            next_action_due=timezone.localdate(),
            check_unique=False,  # _sort matched the file against the claims on file
            **self._fields(claim, patient),
        )
        ctx.outcome.created += 1
        ctx.outcome.record(CLAIM, created.pk, claim.claim_number)
        if undated:
            ctx.outcome.warn(undated_warning(created), claim=claim.claim_number)

    def _import_estimate(self, claim: ParsedClaim) -> None:
        ctx = self.ctx
        patient = self.patients.patient_for(claim)
        fields = self._fields(claim, patient)
        estimate = claim_services.estimate_create(
            actor=ctx.actor,
            patient=patient,
            coverage=fields["coverage"],
            provider=fields["provider"],
            pms_claim_number=claim.claim_number,
            diagnosis_codes=claim.diagnosis_codes,
            lines=fields["lines"],
        )
        ctx.outcome.created += 1
        ctx.outcome.record(ESTIMATE, estimate.pk, claim.claim_number, patient=patient.pk)
        ctx.outcome.note(
            f"imported as pre-treatment estimate #{estimate.pk} (CLM19 = PB): tracked, not a "
            "claim (not billed, not in A/R)",
            claim=claim.claim_number,
        )

    def _replace_one(self, claim: ParsedClaim) -> None:
        existing: Claim = self._existing[id(claim)]
        changes = self._changes[id(claim)]
        fields = self._fields(claim, existing.patient)
        claim_services.claim_update_from_import(actor=self.ctx.actor, claim=existing, **fields)
        if fields["service_date_from"] is None:
            self.ctx.outcome.warn(undated_warning(existing), claim=claim.claim_number)
        self.ctx.outcome.record(CLAIM, existing.pk, claim.claim_number, "replaced")
        self.as_filed.append(claim)
        self.ctx.outcome.changed(
            f"replaced claim #{existing.pk} (CLM05-3 = 7): {'; '.join(changes)}",
            {"replacement": [claim.payer_claim_number or "", claim.claim_number]},
            claim=claim.claim_number,
        )

    def _void_one(self, claim: ParsedClaim) -> None:
        existing: Claim = self._existing[id(claim)]
        claim_services.claim_transition(
            actor=self.ctx.actor,
            claim=existing,
            to_status=ClaimStatus.VOID,
            note="Voided by a PMS import (CLM05-3 = 8).",
        )
        self.ctx.outcome.record(CLAIM, existing.pk, claim.claim_number, "voided")
        self.ctx.outcome.changed(
            f"voided claim #{existing.pk} (CLM05-3 = 8)",
            {"status": [existing.status, ClaimStatus.VOID]},
            claim=claim.claim_number,
        )


def importer_for(ctx: Context, text: str) -> X12Import:
    """Parse and check an 837 file; returns the importer to ``apply()``."""
    importer = X12Import(ctx, text)
    importer.validate()
    return importer
