"""Reference data an import resolves on the way: coverages, payers and providers.

Patients and coverages are written through ``practices.services`` (so the importer needs
edit_patients to add or change them); payers and providers have no service yet, so the
two small creators here validate the row and record the importer in its history.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from claims.imports.results import COVERAGE, PAYER, PROVIDER, Context
from practices import services as practice_services
from practices.choices import ClaimFormat, CobOrder, Relationship
from practices.models import Coverage, Patient, Payer, Provider

DEFAULT_TIMELY_FILING_DAYS = 90


def report(
    ctx: Context,
    exc: ValidationError,
    *,
    row: int | None = None,
    claim: str | None = None,
    columns: dict[str, str] | None = None,
) -> None:
    """File a service's ValidationError under the row (or claim) it came from."""
    columns = columns or {}
    if hasattr(exc, "error_dict"):
        for name, messages in exc.message_dict.items():
            column = "" if name == NON_FIELD_ERRORS else columns.get(name, name)
            for message in messages:
                ctx.outcome.error(message, row=row, field=column, claim=claim)
    else:
        for message in exc.messages:
            ctx.outcome.error(message, row=row, claim=claim)


_COB_LABELS = {value: str(label).lower() for value, label in CobOrder.choices}


def cob_label(order: int) -> str:
    return _COB_LABELS.get(order) or f"order-{order}"


class CoverageBook:
    """The coverages of one file's patients: the one to bill, added or corrected if allowed.

    A coverage on file with another payer at the same coordination-of-benefits order is
    never switched by a claim import: other claims point at it, so it is an error.
    """

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self._by_patient: dict[int, dict[int, Coverage]] = {}

    def preload(self, patient_ids: set[int]) -> None:
        coverages = Coverage.objects.filter(patient_id__in=patient_ids).select_related("payer")
        for patient_id in patient_ids:
            self._by_patient.setdefault(patient_id, {})
        for coverage in coverages:
            self._by_patient[coverage.patient_id][coverage.cob_order] = coverage

    def know(self, patient_id: int, coverages: Iterable[Coverage]) -> dict[int, Coverage]:
        """All of a patient's coverages, read by the caller (the bulk import path), so
        ``resolve`` needs no query for this patient. Returns the book's entry for the
        patient (order -> coverage): the caller adds the coverages it creates to it."""
        entry = self._by_patient[patient_id] = {c.cob_order: c for c in coverages}
        return entry

    def _of(self, patient: Patient) -> dict[int, Coverage]:
        if patient.pk not in self._by_patient:
            self.preload({patient.pk})
        return self._by_patient[patient.pk]

    def resolve(
        self,
        patient: Patient,
        payer: Payer,
        order: int,
        *,
        member_id: str = "",
        group_number: str = "",
        subscriber_name: str = "",
        relationship: str = "",
        **where: Any,
    ) -> Coverage:
        """The coverage to bill; raises ValidationError keyed by column name.

        ``where`` (row, claim) locates the note about an added coverage."""
        ctx = self.ctx
        coverages = self._of(patient)
        current = coverages.get(order)
        who = f"patient {patient.account_number}"
        if current is not None and current.payer_id != payer.pk:
            raise ValidationError(
                {
                    "payer_id": f"{who}'s {cob_label(order)} coverage on file is with "
                    f"{current.payer} ({current.payer.payer_id}), not {payer.payer_id}; "
                    "change the coverage first (patients import)."
                }
            )
        wanted = {
            "member_id": member_id,
            "group_number": group_number,
            "subscriber_name": subscriber_name,
            "subscriber_relationship": relationship,
        }
        if current is None:
            if not ctx.can_edit_patients:
                raise ValidationError(
                    {
                        "payer_id": f"{who} has no {cob_label(order)} coverage with "
                        f"{payer.payer_id} on file, and you may not add coverages at "
                        f"{ctx.practice}: import the patients file first."
                    }
                )
            wanted["subscriber_name"] = (
                subscriber_name or f"{patient.first_name} {patient.last_name}"
            )
            wanted["subscriber_relationship"] = relationship or Relationship.SELF
            coverage = practice_services.coverage_save(
                actor=ctx.actor,
                coverage=Coverage(patient=patient),
                payer=payer,
                cob_order=order,
                **wanted,
            )
            coverages[order] = coverage
            ctx.outcome.record(COVERAGE, coverage.pk, coverage_label(coverage), patient=patient.pk)
            ctx.outcome.note(
                f"added {cob_label(order)} coverage with {payer.payer_id} for {who}", **where
            )
            return coverage
        changes = {
            k: v
            for k, v in wanted.items()
            if v and str(getattr(current, k)).casefold() != v.casefold()
        }
        if changes:
            if not ctx.can_edit_patients:
                name = next(iter(changes))
                raise ValidationError(
                    {
                        name: f"{changes[name]!r} differs from the {cob_label(order)} coverage "
                        f"on file ({getattr(current, name)!r}), and you may not change "
                        f"coverages at {ctx.practice}."
                    }
                )
            before = {k: getattr(current, k) for k in changes}
            practice_services.coverage_save(actor=ctx.actor, coverage=current, **changes)
            ctx.outcome.record(
                COVERAGE, current.pk, coverage_label(current), "updated", patient=patient.pk
            )
            used_by = current.claims.count()
            said = "; ".join(f"{_LABELS[k]} {before[k]!r} → {v!r}" for k, v in changes.items())
            ctx.outcome.changed(
                f"updated the {cob_label(order)} coverage with {payer.payer_id} of {who} "
                f"(used by {used_by} claim(s) on file): {said}",
                {k: [before[k], v] for k, v in changes.items()},
                **where,
            )
        return current


def coverage_label(coverage: Coverage) -> str:
    return (
        f"{coverage.patient.account_number}: {cob_label(coverage.cob_order)} "
        f"{coverage.payer.payer_id} {coverage.member_id}"
    ).strip()


_LABELS = {
    "member_id": "member id",
    "group_number": "group number",
    "subscriber_name": "subscriber",
    "subscriber_relationship": "relationship",
}


def create_payer(ctx: Context, *, payer_id: str, name: str, claim_format: str) -> Payer:
    """A payer first seen in a claim file, with default timely filing (90 days)."""
    payer = practice_services.payer_create(
        actor=ctx.actor,
        practice=ctx.practice,
        payer_id=payer_id,
        name=name or payer_id,
        claim_format=claim_format if claim_format in ClaimFormat.values else ClaimFormat.PAPER,
        timely_filing_days=DEFAULT_TIMELY_FILING_DAYS,
    )
    ctx.outcome.record(PAYER, payer.pk, f"{payer.name} ({payer_id})")
    ctx.outcome.note(
        f"created payer {payer.name} ({payer_id}) with timely filing "
        f"{DEFAULT_TIMELY_FILING_DAYS} days: check its settings"
    )
    return payer


def create_provider(ctx: Context, *, npi: str) -> Provider:
    """A provider first seen in a claim file; the file gives only the NPI, not the name."""
    provider = practice_services.provider_create(
        actor=ctx.actor, practice=ctx.practice, first_name="NPI", last_name=npi, npi=npi
    )
    ctx.outcome.record(PROVIDER, provider.pk, f"NPI {npi}")
    ctx.outcome.note(f"created provider with NPI {npi}: fill in the name")
    return provider
