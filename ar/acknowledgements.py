"""Writes for 277CA acknowledgements: import a file into a practice and move its claims.

``acknowledgement_import`` parses the whole file first (a malformed segment refuses it, with
the segment named, and nothing is applied), then, in one transaction, for each claim
(HL*PT): the claim of this practice whose number is the patient control number (TRN*2)
moves from submitted to accepted (STC category A1/A2/A5) or to rejected (A3/A4/A6/A7/A8)
through ``claims.services.claim_transition``, which stores the STC codes with our wording
as the claim's rejection reason and sets the next action (correct and resubmit, due today;
or wait for adjudication). A claim number that is not this practice's is reported, not
applied. Exactly once: an applied claim acknowledgement is unique per (claim, payer claim
number, codes, date) in the database, so the same file again changes nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from ar.ack_models import Acknowledgement, AckOutcome, AckStatus, ClaimAcknowledgement
from ar.x12_277 import ParsedAcknowledgement, ParsedClaimStatus, parse_277ca
from claims.choices import ClaimStatus, NextAction
from claims.imports.results import Outcome
from claims.imports.services import decode_upload
from claims.models import Claim
from claims.services import claim_transition
from claims.x12 import X12Error, X12Errors, detect_x12
from practices import permissions as perms
from practices.models import Practice
from practices.services import require_practice_perm

if TYPE_CHECKING:
    from billing_ops.access import Actor

ADJUDICATION_WAIT_DAYS = 14
OUT = AckOutcome


@dataclass
class _Decision:
    outcome: str
    claim: Claim | None
    message: str = ""


def _x12_entries(outcome: Outcome, exc: X12Error) -> None:
    errors = exc.errors if isinstance(exc, X12Errors) else [exc]
    for error in errors:
        outcome.error(
            error.reason, segment=error.segment_index, segment_id=error.segment_id, fatal=True
        )
    if isinstance(exc, X12Errors) and exc.more:
        outcome.note(f"{exc.more} more problem(s) not listed.")


def _find_claim(claims: QuerySet[Claim], parsed: ParsedClaimStatus) -> Claim | str:
    """The practice's claim the acknowledgement is about, or why there is none."""
    found = list(claims.filter(pms_claim_number=parsed.patient_control_number)[:10])
    if len(found) > 1:  # one number sent to several payers: the one awaiting an answer
        waiting = [c for c in found if c.status == ClaimStatus.SUBMITTED]
        if parsed.amount is not None:
            waiting = [c for c in waiting if c.total_billed == parsed.amount] or waiting
        found = waiting
    if not found:
        return "is not a claim of this practice: not applied"
    if len(found) > 1:
        return "matches several claims awaiting an answer: not applied"
    return found[0]


def _decide(claims: QuerySet[Claim], parsed: ParsedClaimStatus) -> _Decision:
    claim = _find_claim(claims, parsed)
    if isinstance(claim, str):
        return _Decision(OUT.UNMATCHED, None, claim)
    if not (parsed.accepted or parsed.rejected):
        return _Decision(OUT.NOT_APPLIED, claim, "is neither accepted nor rejected: not applied")
    target = ClaimStatus.REJECTED if parsed.rejected else ClaimStatus.ACCEPTED
    applied = ClaimAcknowledgement.objects.filter(
        claim=claim,
        applied=True,
        payer_claim_number=parsed.payer_claim_number[:50],
        status_codes=parsed.codes[:100],
        status_date=parsed.status_date,
    ).exists()
    if applied:
        return _Decision(OUT.ALREADY, claim, "was already applied: nothing changed")
    if claim.status != ClaimStatus.SUBMITTED:
        label = claim.get_status_display().lower()
        if claim.status == target:
            return _Decision(OUT.ALREADY, claim, f"is already {label}: nothing changed")
        return _Decision(OUT.NOT_APPLIED, claim, f"is {label}, not awaiting an answer: not applied")
    return _Decision(OUT.REJECTED if parsed.rejected else OUT.ACCEPTED, claim)


def _record(
    batch: Acknowledgement, parsed: ParsedClaimStatus, decision: _Decision, applied: bool
) -> ClaimAcknowledgement:
    return ClaimAcknowledgement.objects.create(
        acknowledgement=batch,
        practice_id=batch.practice_id,
        claim=decision.claim,
        segment=parsed.segment,
        patient_control_number=parsed.patient_control_number[:50],
        payer_claim_number=parsed.payer_claim_number[:50],
        status_codes=parsed.codes[:100],
        reason=parsed.reason[:300],
        status_date=parsed.status_date,
        amount=parsed.amount,
        outcome=decision.outcome,
        applied=applied,
    )


def _apply(
    actor: Actor, batch: Acknowledgement, parsed: ParsedClaimStatus, decision: _Decision
) -> bool:
    """Move the claim and record it; False when a concurrent import applied it first."""
    assert decision.claim is not None
    today = timezone.localdate()
    try:
        with transaction.atomic():  # the unique index waits for a concurrent twin
            _record(batch, parsed, decision, applied=True)
    except IntegrityError:
        return False
    note = f"277CA {batch.filename}: {parsed.reason}"
    if decision.outcome == OUT.REJECTED:
        claim_transition(
            actor=actor,
            claim=decision.claim,
            to_status=ClaimStatus.REJECTED,
            note=note,
            next_action=NextAction.CORRECT_AND_RESUBMIT,
            next_action_due=today,
            wait_reason="",
            rejection_reason=parsed.reason,
            payer_claim_number=parsed.payer_claim_number,
        )
    else:
        claim_transition(
            actor=actor,
            claim=decision.claim,
            to_status=ClaimStatus.ACCEPTED,
            note=note,
            next_action=NextAction.WAIT,
            next_action_due=today + dt.timedelta(days=ADJUDICATION_WAIT_DAYS),
            wait_reason="payer adjudication",
            rejection_reason="",
            payer_claim_number=parsed.payer_claim_number,
        )
    return True


COUNTS: dict[str, str] = {
    OUT.ACCEPTED: "accepted_count",
    OUT.REJECTED: "rejected_count",
    OUT.UNMATCHED: "unmatched_count",
    OUT.ALREADY: "already_count",
    OUT.NOT_APPLIED: "not_applied_count",
}


def _run(
    actor: Actor, batch: Acknowledgement, parsed: ParsedAcknowledgement, outcome: Outcome
) -> None:
    claims = Claim.objects.filter(practice_id=batch.practice_id)
    for item in parsed.claims:
        decision = _decide(claims, item)
        applies = decision.outcome in (OUT.ACCEPTED, OUT.REJECTED)
        if applies and not batch.dry_run and not _apply(actor, batch, item, decision):
            decision = _Decision(
                OUT.ALREADY, decision.claim, "was already applied: nothing changed"
            )
            applies = False
        if not applies or batch.dry_run:
            _record(batch, item, decision, applied=False)
        field = COUNTS[decision.outcome]
        setattr(batch, field, getattr(batch, field) + 1)
        where: dict[str, Any] = {
            "segment": item.segment,
            "segment_id": "HL",
            "claim": item.patient_control_number,
        }
        if decision.outcome == OUT.UNMATCHED:
            outcome.conflict(f"claim {item.patient_control_number} {decision.message}", **where)
        elif decision.message:
            outcome.skip(f"{item.codes}: {decision.message}", **where)


@transaction.atomic
def acknowledgement_upload(
    *,
    actor: Actor,
    practice: Practice,
    content: bytes,
    filename: str,
    dry_run: bool = False,
    enqueue: bool = True,
) -> Acknowledgement:
    """Store a 277CA file as a queued import and, once committed, queue its run
    (``ar.tasks.run_acknowledgement``, the id only); ``enqueue=False``: the caller runs it."""
    require_practice_perm(actor, perms.POST_PAYMENTS, practice)
    text = decode_upload(content)
    if not detect_x12(text):
        raise ValidationError(
            {"file": "This is not an X12 277CA file: it does not start with ISA."}
        )
    batch = Acknowledgement.objects.create(
        practice=practice,
        dry_run=dry_run,
        filename=(filename or "upload.277")[-255:],
        file_hash=hashlib.sha256(content).hexdigest(),
        created_by=actor,
        status=AckStatus.PENDING,
        content=text,
    )
    if enqueue:
        from ar.tasks import run_acknowledgement

        run_acknowledgement.delay_on_commit(batch.pk)
    return batch


def acknowledgement_run(acknowledgement_id: int) -> Acknowledgement | None:
    """Apply one queued import, once: the row is locked and a finished import is returned
    as it is, so a task delivered twice changes nothing the second time. Two imports of
    the same file at once change each claim once (the applied row's unique index)."""
    with transaction.atomic():
        batch = (
            Acknowledgement.objects.select_for_update(of=("self",))
            .select_related("practice", "created_by")
            .filter(pk=acknowledgement_id)
            .first()
        )
        if batch is None or batch.status != AckStatus.PENDING:
            return batch
        outcome = Outcome()
        actor = batch.created_by
        try:
            parsed = parse_277ca(batch.content)
        except X12Error as exc:
            _x12_entries(outcome, exc)
            return _finish(batch, AckStatus.REFUSED, outcome)
        batch.payer_name, batch.trace = parsed.payer_name[:200], parsed.trace[:50]
        try:
            with transaction.atomic():
                require_practice_perm(actor, perms.POST_PAYMENTS, batch.practice)
                _run(actor, batch, parsed, outcome)
        except (ValidationError, PermissionDenied) as exc:
            outcome = Outcome()
            reasons = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            outcome.error(f"nothing was applied: {'; '.join(reasons)}", fatal=True)
            for name in COUNTS.values():
                setattr(batch, name, 0)
            return _finish(batch, AckStatus.REFUSED, outcome)
        status = AckStatus.PREVIEWED if batch.dry_run else AckStatus.APPLIED
        return _finish(batch, status, outcome)


def _finish(batch: Acknowledgement, status: str, outcome: Outcome) -> Acknowledgement:
    batch.status, batch.entries, batch.content = status, outcome.stored_entries(), ""
    batch.save()
    return batch


def acknowledgement_import(
    *,
    actor: Actor,
    practice: Practice,
    content: bytes,
    filename: str,
    dry_run: bool = False,
) -> Acknowledgement:
    """Import one 277CA file now (the page and the command): stored, then run in this
    process; the returned record says what it did (status refused: nothing applied, its
    entries name the segments)."""
    batch = acknowledgement_upload(
        actor=actor,
        practice=practice,
        content=content,
        filename=filename,
        dry_run=dry_run,
        enqueue=False,
    )
    done = acknowledgement_run(batch.pk)
    assert done is not None
    return done
