"""Bulk writes of patients and coverages (claim imports): the rules of
``practices.services.patient_save`` / ``coverage_save`` for many new rows at once.

The importer's permission is checked once per call (not once per row), every row is
validated in Python (field lengths, choices, required values: ``clean_fields``; the
foreign keys are objects the caller already holds, so they are not looked up again), the
unique keys are checked with one query per call plus the rows of the call itself, and the
rows and their history (naming the actor) are written with one COPY and one INSERT
(``practices.copy_rows``).

A row that breaks a rule is not written; its ValidationError is returned under the row's
index, so the caller can report it where it came from.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from billing_ops.bulk import any_of, clean_new_fields
from practices import permissions as perms
from practices.copy_rows import copy_with_history
from practices.models import Coverage, Patient, Practice
from practices.services import _same_practice, require_practice_perm

# Foreign keys are objects in hand: ``clean_fields`` would look each one up again.
_PATIENT_FKS = ["practice"]
_COVERAGE_FKS = ["practice", "patient", "payer"]


@dataclass
class Written[T]:
    """What a bulk write did: the rows written (with ids) and the refused rows' errors."""

    created: list[T] = field(default_factory=list)
    errors: dict[int, ValidationError] = field(default_factory=dict)


@transaction.atomic
def patients_create_bulk(
    *, actor: Any, practice: Practice, patients: Sequence[Patient]
) -> Written[Patient]:
    """Create new patients of one practice (account numbers unique within the practice)."""
    require_practice_perm(actor, perms.EDIT_PATIENTS, practice)
    result: Written[Patient] = Written()
    numbers = {p.account_number for p in patients}
    taken = set(
        Patient.objects.filter(any_of("account_number", numbers), practice=practice).values_list(
            "account_number", flat=True
        )
    )
    good = []
    for index, patient in enumerate(patients):
        if patient.pk is not None:
            raise ValueError("patients_create_bulk creates new patients only")
        patient.practice = practice
        try:
            clean_new_fields(patient, _PATIENT_FKS)
            if patient.account_number in taken:
                raise ValidationError(
                    {"account_number": f"Account {patient.account_number} is already on file."}
                )
        except ValidationError as exc:
            result.errors[index] = exc
            continue
        taken.add(patient.account_number)
        good.append(patient)
    if good:
        result.created = copy_with_history(good, Patient, actor)
    return result


@transaction.atomic
def coverages_create_bulk(*, actor: Any, coverages: Sequence[Coverage]) -> Written[Coverage]:
    """Create new coverages (one per patient and coordination-of-benefits order); each
    coverage's payer must be of its patient's practice."""
    result: Written[Coverage] = Written()
    practices = {c.patient.practice_id: c.patient.practice for c in coverages}
    for practice in practices.values():
        require_practice_perm(actor, perms.EDIT_PATIENTS, practice)
    patient_ids = {c.patient.pk for c in coverages}
    taken = set(
        Coverage.objects.filter(any_of("patient_id", patient_ids)).values_list(
            "patient_id", "cob_order"
        )
    )
    good = []
    for index, coverage in enumerate(coverages):
        if coverage.pk is not None:
            raise ValueError("coverages_create_bulk creates new coverages only")
        coverage.practice_id = coverage.patient.practice_id
        try:
            _same_practice(coverage.patient.practice, payer=coverage.payer)
            clean_new_fields(coverage, _COVERAGE_FKS)
            key = (coverage.patient.pk, coverage.cob_order)
            if key in taken:
                raise ValidationError(
                    {"cob_order": "The patient already has a coverage at this order."}
                )
        except ValidationError as exc:
            result.errors[index] = exc
            continue
        taken.add(key)
        good.append(coverage)
    if good:
        result.created = copy_with_history(good, Coverage, actor)
    return result
