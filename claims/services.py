"""Writes for claims: creation, the status machine, next actions, notes and follow-ups.

Every service locks the claim row, checks the optimistic version the caller saw (a stale
version raises ``ClaimConflict``: nothing is saved), applies the change, re-checks the
next-action invariant, bumps the version and writes one activity entry naming the actor.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from billing_ops.access import has_perm
from claims import scrubber
from claims.choices import (
    FINAL_STATUSES,
    TRANSITIONS,
    UNSUBMITTED_STATUSES,
    ActivityKind,
    ClaimStatus,
    NextAction,
    Severity,
)
from claims.models import Claim, ClaimActivity, ClaimLine, Estimate, ScrubFinding
from claims.payments import POSTED_STATUSES
from practices import permissions as perms
from practices.models import Coverage, Patient, Provider
from practices.services import require_practice_perm
from work.services import (
    ItemConflict,
    item_set_next_action,
    lock_for_update,
    release_hold,
    save_checked,
)

if TYPE_CHECKING:
    from billing_ops.access import Actor

# A stale version: the work core's conflict, under the name claim callers know.
ClaimConflict = ItemConflict


def _money(value: Any, field: str) -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except ArithmeticError:
        raise ValidationError({field: f"{value!r} is not an amount of money."}) from None
    return amount


def _activity(
    claim: Claim, actor: Actor, kind: str, text: str = "", **fields: Any
) -> ClaimActivity:
    return ClaimActivity.objects.create(claim=claim, actor=actor, kind=kind, text=text, **fields)


def log_activity(claim: Claim, actor: Actor, kind: str, text: str) -> None:
    """The claim's timeline entry for a work-core change (next action, owner, bulk)."""
    _activity(claim, actor, kind, text)


def _locked(claim: Claim, expected_version: int | None) -> Claim:
    return lock_for_update(claim, expected_version)


def build_lines(specs: Iterable[dict[str, Any]]) -> list[ClaimLine]:
    """Unsaved, validated claim lines; errors name the line ("lines[2].charge")."""
    built, errors = [], {}
    for number, spec in enumerate(specs, start=1):
        try:
            teeth = _teeth(spec)
            first = teeth[0] if teeth else {"tooth": "", "surfaces": spec.get("surfaces", "")}
            line = ClaimLine(
                line_number=spec.get("line_number", number),
                procedure_code=str(spec.get("procedure_code", "")).strip().upper(),
                modifiers=list(spec.get("modifiers", [])),
                diagnosis_pointers=[int(p) for p in spec.get("diagnosis_pointers", [])],
                tooth=first["tooth"],
                surfaces=first["surfaces"],
                teeth=teeth,
                units=_money(spec.get("units", 1), "units"),
                unit_basis=spec.get("unit_basis", ""),
                charge=_money(spec.get("charge"), "charge"),
                service_date=spec.get("service_date"),
                service_date_to=spec.get("service_date_to"),
            )
            line.full_clean(exclude=["claim"])
            if line.service_date_to and (
                not line.service_date or line.service_date_to < line.service_date
            ):
                raise ValidationError({"service_date_to": "The range ends before it starts."})
        except (ValueError, TypeError):
            errors[f"lines[{number}]"] = ["Diagnosis pointers must be whole numbers."]
            continue
        except ValidationError as exc:
            for field, messages in exc.message_dict.items():
                errors[f"lines[{number}].{field}"] = messages
            continue
        built.append(line)
    if not built and not errors:
        errors["lines"] = ["A claim needs at least one service line."]
    if errors:
        raise ValidationError(errors)
    return built


def _teeth(spec: dict[str, Any]) -> list[dict[str, str]]:
    """Every tooth of a line spec: ``teeth`` [{tooth, surfaces}], else ``tooth``/``surfaces``."""
    given = spec.get("teeth")
    if given is None:
        tooth = str(spec.get("tooth", "") or "").strip()
        given = [{"tooth": tooth, "surfaces": spec.get("surfaces", "")}] if tooth else []
    teeth = []
    for item in given:
        tooth = str(item.get("tooth", "")).strip().upper()
        surfaces = str(item.get("surfaces", "") or "").strip().upper()
        if not tooth or len(tooth) > 4 or len(surfaces) > 10:
            raise ValidationError(
                {
                    "teeth": f"Tooth {tooth!r} with surfaces {surfaces!r} is not a tooth number "
                    "(1-4 characters) with at most 10 surfaces."
                }
            )
        teeth.append({"tooth": tooth, "surfaces": surfaces})
    return teeth


def _check_owner(owner: Any, practice: Any) -> None:
    if owner is not None and not has_perm(owner, perms.WORK_CLAIMS, practice.pk):
        raise ValidationError({"owner": f"{owner} cannot work claims of {practice}."})


# The claim's foreign keys a creating service receives as objects (or None).
RELATED_FIELDS = ("practice", "patient", "coverage", "payer", "provider", "owner", "locked_by")


@transaction.atomic
def claim_create(
    *,
    actor: Actor,
    patient: Patient,
    coverage: Coverage,
    provider: Provider,
    pms_claim_number: str,
    service_date_from: dt.date | None,
    service_date_to: dt.date | None = None,
    diagnosis_codes: Iterable[str] = (),
    lines: Iterable[dict[str, Any]],
    owner: Any,
    next_action_due: dt.date,
    next_action: str = NextAction.PREPARE_AND_SUBMIT,
    wait_reason: str = "",
    other_payer_paid: Decimal | None = None,
    check_unique: bool = True,
) -> Claim:
    """Create a draft claim with its lines, owner and next action.

    Without a service date (a PMS export of work not yet dated) the draft is created with
    its scrub findings stored, so the missing date shows as an error that blocks "ready".
    ``check_unique=False``: the caller has already checked (practice, PMS claim number,
    payer) against the claims on file, as an import does (the constraint still holds).
    """
    practice = patient.practice
    require_practice_perm(actor, perms.WORK_CLAIMS, practice)
    errors = {
        name: f"Must belong to {practice}."
        for name, obj in (("coverage", coverage), ("provider", provider))
        if obj.practice_id != practice.pk
    }
    if coverage.patient_id != patient.pk:
        errors.setdefault("coverage", "The coverage belongs to another patient.")
    if errors:
        raise ValidationError(errors)
    _check_owner(owner, practice)
    payer = coverage.payer
    claim = Claim(
        practice=practice,
        patient=patient,
        coverage=coverage,
        payer=payer,
        provider=provider,
        pms_claim_number=pms_claim_number.strip(),
        claim_format=payer.claim_format,
        service_date_from=service_date_from,
        service_date_to=service_date_to or service_date_from,
        diagnosis_codes=list(diagnosis_codes),
        owner=owner,
        next_action=next_action,
        next_action_due=next_action_due,
        wait_reason=wait_reason,
        other_payer_paid=other_payer_paid,
        timely_filing_deadline=filing_deadline(service_date_from, payer),
        version=0,
    )
    # Every value rule; not the related rows' existence (the caller passed them in, and
    # their practice was checked above), so no query per foreign key.
    claim.clean_fields(exclude=[*RELATED_FIELDS, "version"])
    claim.clean()
    if check_unique:
        claim.validate_unique(exclude=["version"])
        claim.validate_constraints(exclude=["version"])
    line_objects = build_lines(lines)
    claim.total_billed = sum((line.charge for line in line_objects), Decimal("0.00"))
    save_checked(claim, actor)
    for line in line_objects:
        line.claim = claim
        line._history_user = actor  # type: ignore[attr-defined]
        line.save()
    _activity(claim, actor, ActivityKind.CREATED, f"Created with {len(line_objects)} line(s).")
    if service_date_from is None:
        claim_scrub(claim=claim)
    return claim


def filing_deadline(service_date: dt.date | None, payer: Any) -> dt.date | None:
    """The payer's timely-filing limit, counted from the date of service (none while undated)."""
    if service_date is None:
        return None
    return service_date + dt.timedelta(days=payer.timely_filing_days)


@transaction.atomic
def estimate_create(
    *,
    actor: Actor,
    patient: Patient,
    coverage: Coverage,
    provider: Provider,
    pms_claim_number: str,
    diagnosis_codes: Iterable[str] = (),
    lines: Iterable[dict[str, Any]],
) -> Estimate:
    """Record a pre-treatment estimate (predetermination) with its planned lines."""
    practice = patient.practice
    require_practice_perm(actor, perms.WORK_CLAIMS, practice)
    if coverage.patient_id != patient.pk:
        raise ValidationError({"coverage": "The coverage belongs to another patient."})
    if provider.practice_id != practice.pk:
        raise ValidationError({"provider": f"Must belong to {practice}."})
    built = build_lines(lines)  # the same line rules as a claim's
    estimate = Estimate(
        practice=practice,
        patient=patient,
        coverage=coverage,
        payer=coverage.payer,
        provider=provider,
        pms_claim_number=pms_claim_number.strip(),
        diagnosis_codes=list(diagnosis_codes),
        lines=[
            {
                "line_number": line.line_number,
                "procedure_code": line.procedure_code,
                "modifiers": line.modifiers,
                "teeth": line.teeth,
                "units": str(line.units),
                "charge": str(line.charge),
                "service_date": line.service_date.isoformat() if line.service_date else None,
            }
            for line in built
        ],
        total_billed=sum((line.charge for line in built), Decimal("0.00")),
        created_by=actor,
    )
    estimate.full_clean()
    estimate._history_user = actor  # type: ignore[attr-defined]
    estimate.save()
    return estimate


def claim_scrub(*, claim: Claim, today: dt.date | None = None) -> list[ScrubFinding]:
    """Scrub a claim and replace its stored findings with the new ones."""
    findings = scrubber.scrub(claim, today)
    claim.findings.all().delete()
    return ScrubFinding.objects.bulk_create(
        ScrubFinding(
            claim=claim,
            rule=f.rule,
            severity=f.severity,
            message=f.message,
            line_number=f.line_number,
        )
        for f in findings
    )


@transaction.atomic
def claim_transition(
    *,
    actor: Actor,
    claim: Claim,
    to_status: str,
    expected_version: int | None = None,
    note: str = "",
    next_action: str | None = None,
    next_action_due: dt.date | None = None,
    wait_reason: str | None = None,
    rejection_reason: str | None = None,
    payer_claim_number: str | None = None,
) -> Claim:
    """Move a claim along the status machine; an invalid move is refused with the reason.

    A 277CA acknowledgement also gives the rejection reason and the payer's claim number."""
    require_practice_perm(actor, perms.WORK_CLAIMS, claim.practice)
    claim = _locked(claim, expected_version)
    if to_status not in ClaimStatus.values:
        raise ValidationError({"status": f"Unknown status {to_status!r}."})
    allowed = TRANSITIONS[claim.status]
    if to_status not in allowed:
        names = ", ".join(sorted(ClaimStatus(s).label for s in allowed)) or "nothing (it is final)"
        raise ValidationError(
            {
                "status": f"A {claim.get_status_display().lower()} claim cannot become "
                f"{ClaimStatus(to_status).label.lower()}; it can become: {names}."
            }
        )
    if to_status in POSTED_STATUSES:
        raise ValidationError(
            {
                "status": f"A claim becomes {ClaimStatus(to_status).label.lower()} only when a "
                "payment is posted with its amounts: an 835, or a paper EOB from the claim page."
            }
        )
    if to_status == ClaimStatus.READY:
        errors = [f for f in claim_scrub(claim=claim) if f.severity == Severity.ERROR]
        if errors:
            raise ValidationError(
                {"status": [f"Scrub errors block “ready”: {f.message}" for f in errors]}
            )
    now = timezone.now()
    if to_status == ClaimStatus.SUBMITTED:
        claim.submission_count += 1
        if claim.first_submitted_at is None:
            claim.first_submitted_at = now
            claim.clean_at_first_submission = not claim_scrub(claim=claim)
    first_answer = claim.submission_count == 1 and claim.accepted_on_first_submission is None
    if to_status in (ClaimStatus.ACCEPTED, ClaimStatus.REJECTED) and first_answer:
        claim.accepted_on_first_submission = to_status == ClaimStatus.ACCEPTED
    previous = claim.status
    claim.status = to_status
    if rejection_reason is not None:
        claim.rejection_reason = rejection_reason[:300]
    if payer_claim_number:
        claim.payer_claim_number = payer_claim_number[:50]
    release_hold(claim, actor)
    if to_status in FINAL_STATUSES:
        claim.next_action, claim.next_action_due, claim.wait_reason = "", None, ""
        claim.locked_by, claim.locked_until = None, None
    else:
        if next_action is not None:
            claim.next_action = next_action
        if next_action_due is not None:
            claim.next_action_due = next_action_due
        if wait_reason is not None:
            claim.wait_reason = wait_reason
    save_checked(claim, actor)
    text = f"{ClaimStatus(previous).label} → {ClaimStatus(to_status).label}"
    _activity(
        claim,
        actor,
        ActivityKind.STATUS,
        f"{text}. {note}".strip(),
        data={"from": previous, "to": to_status},
    )
    return claim


def claim_set_next_action(
    *,
    actor: Actor,
    claim: Claim,
    next_action: str,
    next_action_due: dt.date,
    wait_reason: str = "",
    owner: Any = None,
    expected_version: int | None = None,
) -> Claim:
    """Set the one next action (and optionally a new owner) of an open claim."""
    return item_set_next_action(
        actor=actor,
        item=claim,
        next_action=next_action,
        next_action_due=next_action_due,
        wait_reason=wait_reason,
        owner=owner,
        expected_version=expected_version,
    )


@transaction.atomic
def claim_add_note(*, actor: Actor, claim: Claim, text: str) -> ClaimActivity:
    """Add a note to the claim's timeline."""
    require_practice_perm(actor, perms.WORK_CLAIMS, claim.practice)
    if not text.strip():
        raise ValidationError({"text": "The note is empty."})
    return _activity(claim, actor, ActivityKind.NOTE, text.strip())


@transaction.atomic
def claim_log_follow_up(
    *,
    actor: Actor,
    claim: Claim,
    channel: str,
    contact: str,
    outcome: str,
    next_step: str,
    expected_version: int | None = None,
) -> ClaimActivity:
    """Record a follow-up attempt (channel, contact, outcome, next step) and count it."""
    require_practice_perm(actor, perms.WORK_CLAIMS, claim.practice)
    claim = _locked(claim, expected_version)
    errors = {
        name: "This field is required."
        for name, value in (("channel", channel), ("contact", contact), ("outcome", outcome))
        if not str(value).strip()
    }
    if errors:
        raise ValidationError(errors)
    claim.follow_up_count += 1
    save_checked(claim, actor)
    return _activity(
        claim,
        actor,
        ActivityKind.FOLLOW_UP,
        outcome.strip(),
        channel=channel,
        contact=contact.strip(),
        outcome=outcome.strip(),
        next_step=next_step.strip(),
    )


# Re-importing a claim from the PMS may change it only while the payer does not have it.
IMPORT_UPDATABLE_STATUSES = UNSUBMITTED_STATUSES


@transaction.atomic
def claim_update_from_import(
    *,
    actor: Actor,
    claim: Claim,
    coverage: Coverage,
    provider: Provider,
    service_date_from: dt.date | None,
    service_date_to: dt.date | None = None,
    diagnosis_codes: Iterable[str] = (),
    lines: Iterable[dict[str, Any]],
    other_payer_paid: Decimal | None = None,
) -> Claim:
    """Replace a not-yet-submitted claim's fields and lines with the PMS's newer export."""
    require_practice_perm(actor, perms.WORK_CLAIMS, claim.practice)
    claim = _locked(claim, None)
    if claim.status not in IMPORT_UPDATABLE_STATUSES:
        raise ValidationError(
            {"status": f"A {claim.get_status_display().lower()} claim is not changed by imports."}
        )
    if coverage.patient_id != claim.patient_id:
        raise ValidationError({"coverage": "The coverage belongs to another patient."})
    if provider.practice_id != claim.practice_id:
        raise ValidationError({"provider": f"Must belong to {claim.practice}."})
    payer = coverage.payer
    undated = claim.service_date_from is None or service_date_from is None
    claim.coverage, claim.payer, claim.provider = coverage, payer, provider
    claim.claim_format = payer.claim_format
    claim.service_date_from = service_date_from
    claim.service_date_to = service_date_to or service_date_from
    claim.timely_filing_deadline = filing_deadline(service_date_from, payer)
    claim.diagnosis_codes = list(diagnosis_codes)
    claim.other_payer_paid = other_payer_paid
    new_lines = build_lines(lines)
    for line in new_lines:
        line.claim = claim
    claim.total_billed = sum((line.charge for line in new_lines), Decimal("0.00"))
    previous = claim.status
    if previous == ClaimStatus.READY:
        claim.status = ClaimStatus.DRAFT  # changed content must be scrubbed again
    claim.full_clean(exclude=["version"])
    save_checked(claim, actor)
    for old in claim.lines.all():
        old._history_user = actor  # type: ignore[attr-defined]
        old.delete()
    for line in new_lines:
        line._history_user = actor  # type: ignore[attr-defined]
        line.save()
    text = f"Updated from a PMS import: {len(new_lines)} line(s), billed {claim.total_billed}."
    if previous != claim.status:
        text += " Back to draft: scrub it again before submitting."
    _activity(
        claim,
        actor,
        ActivityKind.EDIT,
        text,
        data={"source": "import", "from": previous, "to": claim.status},
    )
    if undated:  # the missing-date finding appears, or goes once the PMS sends the date
        claim_scrub(claim=claim)
    return claim
