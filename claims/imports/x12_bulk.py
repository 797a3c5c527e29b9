"""The fast path of an 837 import: its NEW claims written in chunks through the bulk
services, in a number of queries per chunk that does not grow with the chunk.

``X12Import.validate`` sorts the file's claims (one query for the claims on file);
``apply`` then writes voids, replacements and estimates one by one through the claim
services, and hands the new claims here. Per chunk of ``CHUNK`` claims:

1. patients: matched as ``PatientMatcher`` does (name + date of birth, the member id
   breaks a tie), with one query for the candidates and one for their member ids; the
   missing ones created by ``practices.bulk.patients_create_bulk``;
2. payer and provider: the importer's own (created through the services the first time);
3. coverages: the importer's ``CoverageBook`` is handed the coverages of the chunk's
   patients (one query for patients on file, none for the ones this run created); the
   missing ones (first claim per patient and order) are created by
   ``practices.bulk.coverages_create_bulk``; then the book resolves every claim's
   coverage, reporting a changed member id, group or subscriber and refusing another
   payer exactly as one by one;
4. claims: ``claims.bulk.claims_create_bulk`` (rules, history, lines, timeline).

A claim without a service date has its patient and coverage found or made with the chunk,
then goes through ``claim_create`` (a draft with its scrub findings), as one by one. The
claims are taken in file order, so the notes of a new patient or coverage name the same
claim as on the one-by-one path.
The result lists the same entries as the one-by-one path; a problem of one claim is
reported under its number, and any error rejects the file as before.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models.functions import Upper
from django.utils import timezone

from billing_ops.bulk import any_of
from claims.bulk import NewClaim, claims_create_bulk
from claims.choices import NextAction
from claims.imports.reference import cob_label, coverage_label, report
from claims.imports.results import CLAIM, COVERAGE, PATIENT
from claims.imports.x12_compare import held_facts, other_payer_paid
from claims.x12 import ParsedClaim
from practices.bulk import coverages_create_bulk, patients_create_bulk
from practices.choices import Relationship
from practices.models import Coverage, Patient

if TYPE_CHECKING:
    from claims.imports.x12_import import X12Import

CHUNK = 500

PatientKey = tuple[str, str, Any]


def _who(claim: ParsedClaim) -> str:
    p = claim.patient
    return f"{p.last_name}, {p.first_name} (born {p.dob:%m/%d/%Y})"


def _key(claim: ParsedClaim) -> PatientKey:
    p = claim.patient
    return ((p.last_name or "").upper(), (p.first_name or "").upper(), p.dob)


class BulkNewClaims:
    """Writes an importer's new claims chunk by chunk; remembers the file's patients."""

    def __init__(self, importer: X12Import) -> None:
        from claims.imports.x12_import import RELATIONSHIPS, _name, derived_account

        self.importer = importer
        self.ctx = importer.ctx
        self.seen: dict[PatientKey, Patient] = {}
        self.created: set[int] = set()  # ids of the patients this run created
        # patient id -> the book's coverages of the patient (CoverageBook.know)
        self.entries: dict[int, dict[int, Coverage]] = {}
        self._relationships = RELATIONSHIPS
        self._name = _name
        self._derived_account = derived_account
        # ids of the current chunk's claims reported or written on their own (see _guarded)
        self._settled: set[int] = set()

    # --- one chunk --------------------------------------------------------------------

    def run(self, claims: Sequence[ParsedClaim], done: int = 0) -> None:
        for start in range(0, len(claims), CHUNK):
            chunk = list(claims[start : start + CHUNK])
            self._guarded(chunk, self._chunk)
            done += len(chunk)
            self.ctx.outcome.progress(done)

    def _guarded(
        self, chunk: list[ParsedClaim], write: Callable[[list[ParsedClaim]], None]
    ) -> None:
        # A refusal of the whole chunk (the actor's or the owner's permission) is reported
        # under each of its claims, as one by one: under those not already reported (a
        # claim refused on its own, an undated draft written or refused one by one).
        self._settled.clear()
        try:
            write(chunk)
        except ValidationError as exc:
            for claim in chunk:
                if id(claim) not in self._settled:
                    report(self.ctx, exc, claim=claim.claim_number)
        except PermissionDenied as exc:
            for claim in chunk:
                if id(claim) not in self._settled:
                    self.ctx.outcome.error(str(exc), claim=claim.claim_number)

    def _chunk(self, chunk: list[ParsedClaim]) -> None:
        ctx = self.ctx
        failed: set[int] = set()

        def fail(claim: ParsedClaim, exc: ValidationError) -> None:
            failed.add(id(claim))
            self._settled.add(id(claim))
            report(ctx, exc, claim=claim.claim_number)

        patients = self._patients(chunk, fail)
        live = [c for c in chunk if id(c) not in failed]
        refs: dict[int, tuple[Any, Any, list[dict[str, Any]]]] = {}
        for claim in live:
            try:
                payer = self.importer._payer(claim)
                provider = self.importer._provider(claim)
                refs[id(claim)] = (payer, provider, self.importer._lines(claim))
            except ValidationError as exc:
                fail(claim, exc)
        live = [c for c in live if id(c) not in failed]
        self._add_coverages(live, patients, refs, fail)
        book = self.importer.coverages
        new: list[NewClaim] = []
        sent: list[ParsedClaim] = []
        for claim in live:
            patient = patients[id(claim)]
            payer, provider, lines = refs[id(claim)]
            sub = claim.subscriber
            try:
                coverage = book.resolve(
                    patient,
                    payer,
                    sub.cob_order or 1,
                    member_id=sub.member_id or "",
                    group_number=sub.group_number or "",
                    subscriber_name=self._name(sub.first_name, sub.last_name),
                    relationship=self._relationships.get(
                        claim.patient.relationship, Relationship.OTHER
                    ),
                    claim=claim.claim_number,
                )
            except ValidationError as exc:
                fail(claim, exc)
                continue
            if claim.service_date_from is None:
                # Undated: a draft with its scrub findings, through claim_create (its
                # patient and coverage are on file now, found again without a note).
                self._one_by_one(claim)
                continue
            new.append(
                NewClaim(
                    patient=patient,
                    coverage=coverage,
                    provider=provider,
                    pms_claim_number=claim.claim_number,
                    service_date_from=claim.service_date_from,
                    service_date_to=claim.service_date_to,
                    diagnosis_codes=claim.diagnosis_codes,
                    lines=lines,
                    other_payer_paid=other_payer_paid(claim),
                )
            )
            sent.append(claim)
        if not new:
            return
        created = claims_create_bulk(
            actor=ctx.actor,
            practice=ctx.practice,
            claims=new,
            owner=ctx.owner,
            next_action=NextAction.PREPARE_AND_SUBMIT,
            next_action_due=timezone.localdate(),
        )
        for index, exc in created.errors.items():
            report(ctx, exc, claim=sent[index].claim_number)
        ctx.outcome.created += len(created.claims)
        if self.importer.record_digests:  # the digests' facts, without a read back
            self.importer.written += map(held_facts, created.claims, created.lines)
        for made in created.claims:  # the result page links to each (issue 7)
            ctx.outcome.record(CLAIM, made.pk, made.pms_claim_number)

    def _one_by_one(self, claim: ParsedClaim) -> None:
        self._settled.add(id(claim))
        try:
            self.importer._import(claim)
        except ValidationError as exc:
            report(self.ctx, exc, claim=claim.claim_number)
        except PermissionDenied as exc:
            self.ctx.outcome.error(str(exc), claim=claim.claim_number)

    # --- patients -----------------------------------------------------------------------

    def _patients(
        self, chunk: list[ParsedClaim], fail: Callable[[ParsedClaim, ValidationError], None]
    ) -> dict[int, Patient]:
        """claim id -> its patient (on file, or new and created here), as PatientMatcher."""
        ctx = self.ctx
        found: dict[int, Patient] = {}
        wanted: list[ParsedClaim] = []
        for claim in chunk:
            p = claim.patient
            if not (p.first_name and p.last_name and p.dob):
                fail(
                    claim,
                    ValidationError("the patient has no first name, last name or date of birth"),
                )
            elif _key(claim) in self.seen:
                found[id(claim)] = self.seen[_key(claim)]
            else:
                wanted.append(claim)
        on_file, members = self._candidates(wanted)
        to_create: list[tuple[PatientKey, ParsedClaim, Patient]] = []
        for claim in wanted:
            key = _key(claim)
            if key in self.seen:  # an earlier claim of this chunk
                found[id(claim)] = self.seen[key]
                continue
            try:
                patient = self._pick(claim, on_file.get(key, []), members)
            except ValidationError as exc:
                fail(claim, exc)
                continue
            if patient.pk is None:
                to_create.append((key, claim, patient))
            self.seen[key] = found[id(claim)] = patient
        if to_create:
            written = patients_create_bulk(
                actor=ctx.actor, practice=ctx.practice, patients=[p for _, _, p in to_create]
            )
            self.created |= {patient.pk for patient in written.created}
            for index, (key, claim, patient) in enumerate(to_create):
                if index in written.errors:
                    del self.seen[key]
                    for other in chunk:
                        if found.get(id(other)) is patient:
                            del found[id(other)]
                            fail(other, written.errors[index])
                    continue
                ctx.outcome.note(
                    f"added patient {_who(claim)} with account {patient.account_number}",
                    claim=claim.claim_number,
                )
                ctx.outcome.record(PATIENT, patient.pk, patient.account_number)
        return found

    def _candidates(
        self, claims: list[ParsedClaim]
    ) -> tuple[dict[PatientKey, list[Patient]], dict[int, set[str]]]:
        """Patients on file with the claims' names and dates of birth (one query), and
        their member ids (one more query when any is found)."""
        members: dict[int, set[str]] = defaultdict(set)
        if not claims:
            return {}, members
        keys = {_key(c) for c in claims}
        rows = Patient.objects.filter(
            any_of("date_of_birth", {k[2] for k in keys}),
            any_of(Upper("last_name"), {k[0] for k in keys}),
            practice=self.ctx.practice,
        )
        by_key: dict[PatientKey, list[Patient]] = defaultdict(list)
        for patient in rows:
            key = (patient.last_name.upper(), patient.first_name.upper(), patient.date_of_birth)
            if key in keys:
                by_key[key].append(patient)
        if by_key:
            ids = [p.pk for candidates in by_key.values() for p in candidates]
            for patient_id, member_id in Coverage.objects.filter(
                any_of("patient_id", ids)
            ).values_list("patient_id", "member_id"):
                members[patient_id].add(member_id)
        return by_key, members

    def _pick(
        self, claim: ParsedClaim, candidates: list[Patient], members: dict[int, set[str]]
    ) -> Patient:
        ctx, p = self.ctx, claim.patient
        member_id = claim.subscriber.member_id
        by_member = [c for c in candidates if member_id and member_id in members[c.pk]]
        who = _who(claim)
        if len(by_member) == 1:
            return by_member[0]
        if len(candidates) == 1:
            return candidates[0]
        if candidates:
            raise ValidationError(
                f"{len(candidates)} patients named {who} are on file and none is told apart "
                f"by member id {member_id!r}: merge them or import the claim by CSV"
            )
        if not ctx.can_edit_patients:
            raise ValidationError(
                f"patient {who} is not on file, and you may not add patients at {ctx.practice}: "
                "import the patients file first"
            )
        return Patient(
            practice=ctx.practice,
            account_number=self._derived_account(claim),
            first_name=p.first_name,
            last_name=p.last_name,
            date_of_birth=p.dob,
        )

    # --- coverages ----------------------------------------------------------------------

    def _add_coverages(
        self,
        claims: list[ParsedClaim],
        patients: dict[int, Patient],
        refs: dict[int, tuple[Any, Any, list[dict[str, Any]]]],
        fail: Callable[[ParsedClaim, ValidationError], None],
    ) -> None:
        """Hand the importer's book every coverage of the chunk's patients (one query for
        patients on file, none for patients this run created), then create the coverages
        the claims need and nobody has yet (the first claim per patient and order gives
        its fields, as one by one). The book then resolves every claim against them and
        reports a changed member id or refuses another payer as before."""
        ctx = self.ctx
        book = self.importer.coverages
        ids = {patients[id(c)].pk for c in claims}
        unknown = ids - self.entries.keys()
        on_file: dict[int, list[Coverage]] = {pk: [] for pk in unknown}
        if unknown - self.created:
            coverages = Coverage.objects.filter(any_of("patient_id", unknown - self.created))
            for coverage in coverages.select_related("payer"):
                on_file[coverage.patient_id].append(coverage)
        for pk, coverages in on_file.items():
            self.entries[pk] = book.know(pk, coverages)
        if not ctx.can_edit_patients:
            return  # CoverageBook.resolve reports each missing coverage
        planned: list[tuple[ParsedClaim, Coverage]] = []
        wanted: set[tuple[int, int]] = set()
        for claim in claims:
            patient, payer = patients[id(claim)], refs[id(claim)][0]
            sub = claim.subscriber
            order = sub.cob_order or 1
            if order in self.entries[patient.pk] or (patient.pk, order) in wanted:
                continue
            wanted.add((patient.pk, order))
            name = self._name(sub.first_name, sub.last_name)
            relationship = self._relationships.get(claim.patient.relationship, Relationship.OTHER)
            planned.append(
                (
                    claim,
                    Coverage(
                        patient=patient,
                        practice_id=patient.practice_id,  # as coverages_create_bulk sets it
                        payer=payer,
                        cob_order=order,
                        member_id=sub.member_id or "",
                        group_number=sub.group_number or "",
                        subscriber_name=name or f"{patient.first_name} {patient.last_name}",
                        subscriber_relationship=relationship or Relationship.SELF,
                    ),
                )
            )
        if not planned:
            return
        written = coverages_create_bulk(actor=ctx.actor, coverages=[c for _, c in planned])
        for index, (claim, coverage) in enumerate(planned):
            if index in written.errors:
                fail(claim, written.errors[index])
                continue
            self.entries[coverage.patient.pk][coverage.cob_order] = coverage
            ctx.outcome.note(
                f"added {cob_label(coverage.cob_order)} coverage with {coverage.payer.payer_id} "
                f"for patient {coverage.patient.account_number}",
                claim=claim.claim_number,
            )
            ctx.outcome.record(
                COVERAGE, coverage.pk, coverage_label(coverage), patient=coverage.patient.pk
            )


def apply(importer: X12Import) -> None:
    """Write an 837 import: voids, replacements and estimates one by one through the
    claim services (``X12Import.apply``), new claims in chunks (``BulkNewClaims``), in the
    one-by-one path's order (voids, replacements, new claims, estimates)."""
    importer.apply(new_claims=BulkNewClaims(importer).run)
