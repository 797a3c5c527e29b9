"""Bulk creation of claims (imports): ``claims.services.claim_create`` for many claims of
one practice in a constant number of queries.

Every rule of ``claim_create`` holds, checked in Python once per row instead of with
``full_clean``'s queries:

- the actor may work claims at the practice and the owner may work them there: both
  checked once per call (kernel ``billing_ops.access``), not once per claim;
- coverage and provider belong to the practice, the coverage to the patient;
- field rules (lengths, choices, required values) by ``clean_fields``; the lines by
  ``build_lines`` (the same function ``claim_create`` uses), line numbers unique;
- (practice, PMS claim number, payer) is unique: one query per call for the numbers on
  file, plus the rows of the call;
- the next-action invariant, the priority and its reasons, the version and the history
  naming the actor: ``work.services`` (``check_next_action`` per row, then
  ``create_checked_bulk``);
- lines are written with their history, and each claim gets its "created" timeline entry.

A claim that breaks a rule is not written; its ValidationError is returned under its
index. Lines and timeline entries are written by COPY from plain values, without a model
instance (``practices.copy_rows.copy_values``). Queries
per call: numbers on file 1, claims 2 (rows, history), lines 3 (ids, COPY, history),
timeline 2 (ids, COPY)
(plus the actor's and the owner's grants when they are not cached).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing_ops.bulk import any_of, clean_new_fields, clean_new_values
from claims.choices import ActivityKind
from claims.models import Claim, ClaimActivity, ClaimLine
from claims.services import _check_owner, _money, _teeth
from practices import permissions as perms
from practices.copy_rows import copy_values, copy_values_with_history
from practices.models import Coverage, Patient, Practice, Provider
from practices.services import require_practice_perm
from work.services import check_next_action, create_checked_bulk

if TYPE_CHECKING:
    from billing_ops.access import Actor

# Foreign keys are objects in hand (checked above): ``clean_fields`` would look each up.
_CLAIM_SKIP = ["practice", "owner", "locked_by", "patient", "coverage", "payer", "provider"]
_CLAIM_SKIP += ["version"]


@dataclass
class NewClaim:
    """One claim to create, as ``claim_create`` takes it (owner and next action are the
    call's)."""

    patient: Patient
    coverage: Coverage
    provider: Provider
    pms_claim_number: str
    service_date_from: dt.date
    service_date_to: dt.date | None = None
    diagnosis_codes: Sequence[str] = ()
    lines: Sequence[dict[str, Any]] = ()
    other_payer_paid: Decimal | None = None


@dataclass
class Created:
    """The claims written (with ids, in the order given) and the refused rows' errors."""

    claims: list[Claim] = field(default_factory=list)
    errors: dict[int, ValidationError] = field(default_factory=dict)
    # Each written claim's lines as the values written (``LINE_COLUMNS`` but the claim),
    # in the order of ``claims``: what the import's span digests are recorded from.
    lines: list[list[dict[str, Any]]] = field(default_factory=list)


# A line's columns as ``copy_values`` writes them (every column but the id).
LINE_COLUMNS = (
    "claim_id",
    "line_number",
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
_ACTIVITY_COLUMNS = ("claim_id", "kind", "actor_id", "at", "text")
_ACTIVITY_COLUMNS += ("channel", "contact", "outcome", "next_step", "data")


def line_values_bulk(specs: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """``claims.services.build_lines`` as plain values (attname -> value, no claim yet):
    the same rules and errors ("lines[2].charge"), the field check of each line done by
    ``clean_new_values`` on the values a ``ClaimLine`` would hold (``tests/claims/
    test_bulk_import.py`` holds the two to the same answers)."""
    built, errors = [], {}
    for number, spec in enumerate(specs, start=1):
        try:
            teeth = _teeth(spec)
            first = teeth[0] if teeth else {"tooth": "", "surfaces": spec.get("surfaces", "")}
            values = {
                "line_number": spec.get("line_number", number),
                "procedure_code": str(spec.get("procedure_code", "")).strip().upper(),
                "modifiers": list(spec.get("modifiers", [])),
                "diagnosis_pointers": [int(p) for p in spec.get("diagnosis_pointers", [])],
                "tooth": first["tooth"],
                "surfaces": first["surfaces"],
                "teeth": teeth,
                "units": _money(spec.get("units", 1), "units"),
                "unit_basis": spec.get("unit_basis", ""),
                "charge": _money(spec.get("charge"), "charge"),
                "service_date": spec.get("service_date"),
                "service_date_to": spec.get("service_date_to"),
            }
            # full_clean(exclude=["claim"]) of a new line is its clean_fields: the one
            # unique constraint names the claim, and ClaimLine has no clean().
            values = clean_new_values(ClaimLine, values, ["claim"])
            if values["service_date_to"] and (
                not values["service_date"] or values["service_date_to"] < values["service_date"]
            ):
                raise ValidationError({"service_date_to": "The range ends before it starts."})
        except (ValueError, TypeError):
            errors[f"lines[{number}]"] = ["Diagnosis pointers must be whole numbers."]
            continue
        except ValidationError as exc:
            for field_name, messages in exc.message_dict.items():
                errors[f"lines[{number}].{field_name}"] = messages
            continue
        built.append(values)
    if not built and not errors:
        errors["lines"] = ["A claim needs at least one service line."]
    if errors:
        raise ValidationError(errors)
    return built


def build_lines_bulk(specs: Sequence[dict[str, Any]]) -> list[ClaimLine]:
    """``line_values_bulk`` as unsaved ``ClaimLine`` instances."""
    return [ClaimLine(**values) for values in line_values_bulk(specs)]


def _build(
    practice: Practice, new: NewClaim, owner: Any, next_action: str, due: dt.date, wait: str
) -> tuple[Claim, list[dict[str, Any]]]:
    """The unsaved claim and its lines' values, with the checks ``claim_create`` makes
    (no queries)."""
    errors = {
        name: f"Must belong to {practice}."
        for name, obj in (("coverage", new.coverage), ("provider", new.provider))
        if obj.practice_id != practice.pk
    }
    if new.coverage.patient_id != new.patient.pk:
        errors.setdefault("coverage", "The coverage belongs to another patient.")
    if new.patient.practice_id != practice.pk:
        errors.setdefault("patient", f"Must belong to {practice}.")
    if errors:
        raise ValidationError(errors)
    payer = new.coverage.payer
    claim = Claim(
        practice=practice,
        patient=new.patient,
        coverage=new.coverage,
        payer=payer,
        provider=new.provider,
        pms_claim_number=new.pms_claim_number.strip(),
        claim_format=payer.claim_format,
        service_date_from=new.service_date_from,
        service_date_to=new.service_date_to or new.service_date_from,
        diagnosis_codes=list(new.diagnosis_codes),
        owner=owner,
        next_action=next_action,
        next_action_due=due,
        wait_reason=wait,
        other_payer_paid=new.other_payer_paid,
        timely_filing_deadline=new.service_date_from + dt.timedelta(days=payer.timely_filing_days),
        version=0,
        locked_by_id=None,  # its default, given: Model.__init__ asks the field otherwise
    )
    clean_new_fields(claim, _CLAIM_SKIP)
    lines = line_values_bulk(new.lines)
    numbers = [line["line_number"] for line in lines]
    if len(set(numbers)) != len(numbers):
        raise ValidationError({"lines": "Two lines of the claim have the same line number."})
    claim.total_billed = sum((line["charge"] for line in lines), Decimal("0.00"))
    check_next_action(claim)
    return claim, lines


@transaction.atomic
def claims_create_bulk(
    *,
    actor: Actor,
    practice: Practice,
    claims: Sequence[NewClaim],
    owner: Any,
    next_action: str,
    next_action_due: dt.date,
    wait_reason: str = "",
    today: dt.date | None = None,
) -> Created:
    """Create draft claims with their lines, one owner and one next action for all."""
    require_practice_perm(actor, perms.WORK_CLAIMS, practice)
    _check_owner(owner, practice)
    result = Created()
    numbers = {new.pms_claim_number.strip() for new in claims}
    taken = set(
        Claim.objects.filter(any_of("pms_claim_number", numbers), practice=practice).values_list(
            "pms_claim_number", "payer_id"
        )
    )
    built: list[tuple[Claim, list[dict[str, Any]]]] = []
    for index, new in enumerate(claims):
        try:
            claim, lines = _build(practice, new, owner, next_action, next_action_due, wait_reason)
            key = (claim.pms_claim_number, claim.payer_id)
            if key in taken:
                raise ValidationError(
                    {
                        "pms_claim_number": f"Claim {claim.pms_claim_number} to this payer is "
                        "already on file."
                    }
                )
        except ValidationError as exc:
            result.errors[index] = exc
            continue
        taken.add(key)
        built.append((claim, lines))
    if not built:
        return result
    result.claims = create_checked_bulk([claim for claim, _ in built], actor, today)
    result.lines = [lines for _, lines in built]
    # Lines and timeline entries as plain rows (no model instance): the lines' values were
    # checked by line_values_bulk, the entries hold constants, the claim's id and the actor.
    rows = [
        (claim.pk, *[line[name] for name in LINE_COLUMNS[1:]])
        for claim, lines in built
        for line in lines
    ]
    copy_values_with_history(ClaimLine, LINE_COLUMNS, rows, actor)
    actor_id, now, kind = getattr(actor, "pk", None), timezone.now(), ActivityKind.CREATED.value
    copy_values(
        ClaimActivity,
        _ACTIVITY_COLUMNS,
        [
            (
                claim.pk,
                kind,
                actor_id,
                now,
                f"Created with {len(lines)} line(s).",
                "",
                "",
                "",
                "",
                {},
            )
            for claim, lines in built
        ],
    )
    return result
