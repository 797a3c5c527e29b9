"""Writes for 271 imports: apply a payer's answers to the practice's open eligibility checks.

``response_import`` parses the whole file first (a malformed segment refuses it, with the
segment named, and no check changes), then, in one transaction, for each member (HL 22
subscriber, HL 23 dependent) finds the open checks of this practice it answers: same
payer (NM1*PR id), same member id (then the patient's name and date of birth), and, when
our 270's trace number comes back (TRN*2 = "E-12"), that check. Each match gets the
member's ``CheckResult`` through ``eligibility.services.check_record_result`` (active
closes the check; inactive or an AAA rejection asks the patient for information, with the
reason in words). A member that matches no open check is reported as unmatched, never
dropped. Exactly once: an applied answer is unique per (check, fingerprint of the answer)
in the database, so the same file again changes nothing.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from claims.imports.results import Outcome
from claims.imports.services import decode_upload
from claims.x12 import X12Error, X12Errors, detect_x12
from eligibility.models import EligibilityCheck
from eligibility.response_models import (
    EligibilityResponseImport,
    EligibilityResponseMember,
    MemberOutcome,
    ResponseStatus,
)
from eligibility.results import CheckResult
from eligibility.services import check_record_result, require_verify_perm
from eligibility.x12_271 import ParsedMember, parse_271
from practices.choices import Relationship
from practices.models import Practice

if TYPE_CHECKING:
    from billing_ops.access import Actor

OUT = MemberOutcome
COUNTS: dict[str, str] = {
    OUT.APPLIED: "applied_count",
    OUT.ALREADY: "already_count",
    OUT.UNMATCHED: "unmatched_count",
    OUT.AMBIGUOUS: "other_count",
    OUT.NO_INFO: "other_count",
    OUT.NOT_APPLIED: "other_count",
}


def _norm(value: str) -> str:
    return "".join(value.split()).upper()


def fingerprint(member: ParsedMember, result: CheckResult) -> str:
    """The same answer about the same person gives the same digest, whatever file it is in."""
    data = {
        "payer": member.payer_id,
        "person": [member.level, member.last_name, member.first_name, str(member.date_of_birth)],
        "member_id": member.member_id,
        "trace": member.trace,
        "result": asdict(result),
    }
    return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()).hexdigest()


def _same_person(check: EligibilityCheck, member: ParsedMember) -> bool:
    patient = check.appointment.patient
    return (
        _norm(patient.last_name) == _norm(member.last_name)
        and _norm(patient.first_name) == _norm(member.first_name)
        and member.date_of_birth is not None
        and patient.date_of_birth == member.date_of_birth
    )


def match_checks(pool: list[EligibilityCheck], member: ParsedMember) -> list[EligibilityCheck]:
    """The open checks (of the member's payer) this member answers: by member id, then
    name and date of birth; narrowed by our trace number when it came back."""
    found = []
    if member.member_id:
        wanted = _norm(member.member_id)
        found = [c for c in pool if _norm(c.coverage.member_id or c.member_id) == wanted]
        # A subscriber and dependents share the id: the person decides; a subscriber also
        # answers for the checks of coverages where the patient is the subscriber.
        same = [c for c in found if _same_person(c, member)]
        own = [c for c in found if c.coverage.subscriber_relationship == Relationship.SELF]
        found = same if member.level == "dependent" else same or own
    if not found:
        found = [c for c in pool if _same_person(c, member)]
    if member.trace:
        traced = [c for c in found if c.number == member.trace]
        found = traced or found
    return found


def _record(
    batch: EligibilityResponseImport,
    member: ParsedMember,
    result: CheckResult,
    digest: str,
    outcome: str,
    check: EligibilityCheck | None = None,
    message: str = "",
    applied: bool = False,
) -> EligibilityResponseMember:
    return EligibilityResponseMember.objects.create(
        response=batch,
        practice_id=batch.practice_id,
        check_item=check,
        segment=member.segment,
        level=member.level,
        last_name=member.last_name[:100],
        first_name=member.first_name[:100],
        date_of_birth=member.date_of_birth,
        member_id=member.member_id[:80],
        trace=member.trace[:80],
        result_status=result.status,
        problems=list(result.problems),
        outcome=outcome,
        message=message[:300],
        fingerprint=digest,
        applied=applied,
    )


def _apply(
    actor: Actor,
    batch: EligibilityResponseImport,
    member: ParsedMember,
    result: CheckResult,
    digest: str,
    check: EligibilityCheck,
) -> tuple[str, str]:
    """Record the answer on one check: (outcome, message)."""
    try:
        with transaction.atomic():  # the unique index waits for a concurrent twin
            _record(batch, member, result, digest, OUT.APPLIED, check, applied=True)
            check_record_result(actor=actor, check=check, result=result)
    except IntegrityError:
        message = "was already applied: nothing changed"
        _record(batch, member, result, digest, OUT.ALREADY, check, message)
        return OUT.ALREADY, message
    except ValidationError as exc:
        message = f"not applied: {' '.join(exc.messages)}"
        _record(batch, member, result, digest, OUT.NOT_APPLIED, check, message)
        return OUT.NOT_APPLIED, message
    return OUT.APPLIED, ""


def _member(
    actor: Actor,
    batch: EligibilityResponseImport,
    member: ParsedMember,
    pool: list[EligibilityCheck],
) -> list[tuple[str, str]]:
    """Decide and apply one member; one (outcome, message) per check it touched."""
    result = member.result()
    digest = fingerprint(member, result)
    done = set(
        EligibilityResponseMember.objects.filter(
            practice_id=batch.practice_id, applied=True, fingerprint=digest
        ).values_list("check_item_id", flat=True)
    )
    matches = match_checks(pool, member)
    if not member.has_information:
        message = "the 271 says nothing about this member (only about dependents): not applied"
        _record(
            batch, member, result, digest, OUT.NO_INFO, matches[0] if matches else None, message
        )
        return [(OUT.NO_INFO, message)]
    todo = [c for c in matches if c.pk not in done]
    if not todo and done:
        message = "was already applied: nothing changed"
        _record(batch, member, result, digest, OUT.ALREADY, None, message)
        return [(OUT.ALREADY, message)]
    if not todo:
        message = "matches no open eligibility check of this practice: not applied"
        _record(batch, member, result, digest, OUT.UNMATCHED, None, message)
        return [(OUT.UNMATCHED, message)]
    if len({c.appointment.patient_id for c in todo}) > 1:
        message = "matches open checks of several patients: not applied"
        _record(batch, member, result, digest, OUT.AMBIGUOUS, None, message)
        return [(OUT.AMBIGUOUS, message)]
    # The same patient and payer may have several visits ahead: the answer holds for each.
    return [_apply(actor, batch, member, result, digest, check) for check in todo]


def _x12_entries(outcome: Outcome, exc: X12Error) -> None:
    errors = exc.errors if isinstance(exc, X12Errors) else [exc]
    for error in errors:
        outcome.error(
            error.reason, segment=error.segment_index, segment_id=error.segment_id, fatal=True
        )
    if isinstance(exc, X12Errors) and exc.more:
        outcome.note(f"{exc.more} more problem(s) not listed.")


def _open_checks(practice: Practice, payer_ids: set[str]) -> dict[str, list[EligibilityCheck]]:
    rows = (
        EligibilityCheck.objects.filter(
            practice=practice, closed_at__isnull=True, payer__payer_id__in=payer_ids
        )
        .select_related("appointment__patient", "coverage", "payer")
        .order_by("appointment__starts_at", "pk")
    )
    pools: dict[str, list[EligibilityCheck]] = {}
    for check in rows:
        pools.setdefault(check.payer.payer_id, []).append(check)
    return pools


def _label(member: ParsedMember) -> str:
    born = f", born {member.date_of_birth:%m/%d/%Y}" if member.date_of_birth else ""
    return f"{member.level} {member.name} ({member.member_id or 'no member id'}{born})"


@transaction.atomic
def response_import(
    *, actor: Actor, practice: Practice, content: bytes, filename: str
) -> EligibilityResponseImport:
    """Import one 271 file now; the returned record says what it did (status refused:
    nothing applied, its entries name the segments)."""
    require_verify_perm(actor, practice.pk)
    text = decode_upload(content)
    if not detect_x12(text):
        raise ValidationError({"file": "This is not an X12 271 file: it does not start with ISA."})
    batch = EligibilityResponseImport(
        practice=practice,
        filename=(filename or "upload.271")[-255:],
        file_hash=hashlib.sha256(content).hexdigest(),
        created_by=actor,
        status=ResponseStatus.APPLIED,
    )
    outcome = Outcome()
    try:
        parsed = parse_271(text)
    except X12Error as exc:
        _x12_entries(outcome, exc)
        batch.status = ResponseStatus.REFUSED
        batch.entries = outcome.stored_entries()
        batch.save()
        return batch
    batch.payer_name = ", ".join(dict.fromkeys(parsed.payer_names))[:200]
    batch.member_count = len(parsed.members)
    batch.save()
    for rejection in parsed.rejections:
        outcome.conflict(
            f"the payer answered nobody below the {rejection.about}: {rejection.text}",
            segment=rejection.segment,
            segment_id="AAA",
        )
    pools = _open_checks(practice, {m.payer_id for m in parsed.members})
    for member in parsed.members:
        result = member.result()
        if result.status != "active" and member.has_information:
            batch.problem_count += 1
        decisions = _member(actor, batch, member, pools.get(member.payer_id, []))
        for decision, message in decisions:
            field = COUNTS[decision]
            setattr(batch, field, getattr(batch, field) + 1)
            where: dict[str, Any] = {"segment": member.segment, "segment_id": "HL"}
            if decision == OUT.UNMATCHED:
                outcome.conflict(f"{_label(member)} {message}", **where)
            elif decision != OUT.APPLIED:
                outcome.skip(f"{_label(member)} {message}", **where)
    batch.entries = outcome.stored_entries()
    batch.save()
    return batch
