"""Writes for remittances: store an 835 (or a paper EOB), post it exactly once, work the
payments that did not match.

``remittance_upload`` checks the file and the importer's permission and queues
``run_remittance`` once the batch is committed. ``remittance_run`` parses and checks the
whole file, then posts every claim payment in ONE transaction: a batch posts all or nothing.
Exactly once: a posted batch is unique per (practice, payer id, trace) in the database, so
the same file again (one after the other, or two workers at once) posts nothing new, and a
reused trace with other content is quarantined.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections import Counter
from contextlib import nullcontext
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from ar import bulk_posting, matching, posting
from ar.choices import (
    FINISHED,
    ClaimPaymentState,
    PaymentSource,
    RemittanceStatus,
    UnderpaymentStatus,
    UnmatchedStatus,
)
from ar.models import (
    ClaimPayment,
    ProviderAdjustment,
    Remittance,
    Underpayment,
    UnmatchedRemittance,
)
from ar.x12_835 import (
    ParsedAdjustment,
    ParsedClaimPayment,
    ParsedRemittance,
)
from ar.x12_835_fast import parse_835
from claims.choices import ClaimStatus
from claims.imports.results import Outcome
from claims.imports.services import decode_upload
from claims.models import Claim
from claims.payments import posting_path
from claims.services import claim_add_note
from claims.x12 import X12Error, X12Errors, detect_x12
from practices import permissions as perms
from practices.models import Practice
from practices.services import require_practice_perm
from work.services import lock_for_update, save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor

logger = logging.getLogger(__name__)
S = ClaimStatus
FOLLOW_UP_DAYS = 14


# --- Upload -----------------------------------------------------------------------------


@transaction.atomic
def remittance_upload(
    *,
    actor: Actor,
    practice: Practice,
    content: bytes,
    filename: str,
    dry_run: bool = False,
    enqueue: bool = True,
) -> Remittance:
    """Store an 835 file as a pending batch and queue its run (``enqueue=False``: the
    caller runs it with ``remittance_run``)."""
    require_practice_perm(actor, perms.POST_PAYMENTS, practice)
    text = decode_upload(content)
    if not detect_x12(text):
        raise ValidationError({"file": "This is not an X12 835 file: it does not start with ISA."})
    batch = Remittance(
        practice=practice,
        source=PaymentSource.ERA,
        dry_run=dry_run,
        filename=(filename or "upload.835")[-255:],
        file_hash=hashlib.sha256(content).hexdigest(),
        created_by=actor,
    )
    name = (filename or "upload.835").rsplit("/", 1)[-1][-100:]
    batch.file.save(name, ContentFile(content), save=False)
    batch.save()
    if enqueue:
        from ar.tasks import run_remittance

        run_remittance.delay_on_commit(batch.pk)
    return batch


# --- Run --------------------------------------------------------------------------------


def _x12_entries(outcome: Outcome, exc: X12Error) -> None:
    errors = exc.errors if isinstance(exc, X12Errors) else [exc]
    for error in errors:
        outcome.error(
            error.reason, segment=error.segment_index, segment_id=error.segment_id, fatal=True
        )
    if isinstance(exc, X12Errors) and exc.more:
        outcome.note(f"{exc.more} more problem(s) not listed.")


def _header(batch: Remittance, parsed: ParsedRemittance) -> None:
    batch.payer_id, batch.trace = parsed.payer_id[:50], parsed.trace[:50]
    batch.payer_name, batch.payee_name = parsed.payer_name[:200], parsed.payee_name[:200]
    batch.payee_npi, batch.method = parsed.payee_npi[:80], parsed.method[:3]
    batch.amount, batch.payment_date = parsed.amount, parsed.payment_date
    batch.claim_count = len(parsed.claims)


def _finish(batch: Remittance, status: str, outcome: Outcome, **counts: int) -> Remittance:
    batch.status = status
    batch.entries = outcome.stored_entries()
    batch.finished_at = timezone.now()
    for name, value in counts.items():
        setattr(batch, name, value)
    batch.save()
    return batch


def _already(batch: Remittance, outcome: Outcome) -> Remittance | None:
    """A batch already posted with this payer id and trace: same file -> nothing new
    (skipped), other content -> quarantined. None when the trace is new."""
    earlier = (
        Remittance.objects.filter(
            practice_id=batch.practice_id,
            payer_id=batch.payer_id,
            trace=batch.trace,
            status=RemittanceStatus.POSTED,
        )
        .exclude(pk=batch.pk)
        .first()
    )
    if earlier is None:
        return None
    if earlier.file_hash == batch.file_hash:
        outcome.skip(
            f"trace {batch.trace} was already posted (remittance {earlier.pk}): "
            "nothing posted again"
        )
        return _finish(batch, RemittanceStatus.DUPLICATE, outcome, skipped_count=batch.claim_count)
    outcome.error(
        f"trace {batch.trace} of payer {batch.payer_id} was already posted (remittance "
        f"{earlier.pk}) with other content: quarantined, nothing posted",
        fatal=True,
    )
    return _finish(batch, RemittanceStatus.QUARANTINED, outcome)


def remittance_run(remittance_id: int, *, bulk: bool = True) -> Remittance | None:
    """Run one pending batch (once: a finished batch is returned as it is). ``bulk=False``
    posts every payment one by one (tests compare the two paths)."""
    with transaction.atomic():
        batch = (
            Remittance.objects.select_for_update(of=("self",))
            .select_related("practice", "created_by")
            .filter(pk=remittance_id)
            .first()
        )
        if batch is None or batch.status in FINISHED:
            return batch
        outcome = Outcome()
        with batch.file.open("rb") as handle:
            text = handle.read().decode("utf-8-sig")
        try:
            parsed = parse_835(text)
        except X12Error as exc:
            _x12_entries(outcome, exc)
            return _finish(batch, RemittanceStatus.REFUSED, outcome)
        _header(batch, parsed)
        for skipped in parsed.skipped:
            outcome.warn(
                skipped.reason, segment=skipped.segment_index, segment_id=skipped.segment_id
            )
        if batch.dry_run:
            return _preview(batch, parsed, outcome)
        done = _already(batch, outcome)
        if done is not None:
            return done
        try:
            with transaction.atomic():  # the unique index waits for a concurrent twin
                batch.status = RemittanceStatus.POSTED
                batch.save()
                _post_file(batch, parsed, outcome, bulk)
        except (ValidationError, PermissionDenied) as exc:
            batch.status = RemittanceStatus.PENDING
            outcome = Outcome()
            reasons = exc.messages if isinstance(exc, ValidationError) else [str(exc)]
            outcome.error(f"nothing was posted: {'; '.join(reasons)}", fatal=True)
            return _finish(batch, RemittanceStatus.REFUSED, outcome)
        except IntegrityError:
            batch.status = RemittanceStatus.PENDING
            outcome = Outcome()
            done = _already(batch, outcome)
            if done is None:
                raise
            return done
        return batch


def _preview(batch: Remittance, parsed: ParsedRemittance, outcome: Outcome) -> Remittance:
    """A dry run: what posting would do, nothing written but the batch's own report."""
    earlier = _already_posted_trace(batch)
    if earlier is not None:
        outcome.note(f"trace {batch.trace} is already posted (remittance {earlier.pk})")
    plans = matching.plan_payments(batch.practice_id, batch.payer_id, parsed.claims)
    for plan in plans:
        if plan.problem:
            _unmatched_entry(outcome, plan)
    unmatched = sum(1 for p in plans if p.problem)
    return _finish(
        batch,
        RemittanceStatus.PREVIEWED,
        outcome,
        posted_count=len(plans) - unmatched,
        unmatched_count=unmatched,
    )


def _already_posted_trace(batch: Remittance) -> Remittance | None:
    return Remittance.objects.filter(
        practice_id=batch.practice_id,
        payer_id=batch.payer_id,
        trace=batch.trace,
        status=RemittanceStatus.POSTED,
    ).first()


def _unmatched_entry(outcome: Outcome, plan: matching.Plan) -> None:
    outcome.conflict(
        f"not posted: {plan.problem}",
        segment=plan.parsed.segment,
        segment_id="CLP",
        claim=plan.parsed.patient_control_number,
    )


# --- Posting ----------------------------------------------------------------------------


def _post_file(
    batch: Remittance, parsed: ParsedRemittance, outcome: Outcome, bulk: bool = True
) -> None:
    """Post every claim payment: the plain ones in bulk (``ar.bulk_posting``), the others
    one by one (``bulk=False``: all one by one, the path the bulk one is held to).

    The bulk path streams the file: ``bulk_posting.CHUNK`` claim payments at a time are
    matched (one query for their claims), split and posted, so that the claims read for
    matching are never the whole file's. Matching reads the state before the file for
    every payment as the one pass did: a claim number the file names more than once (a
    reversal and its correction, a claim paid twice) is matched with the others of its
    number before anything is posted, and posted one by one; every other number is in one
    chunk only, and no earlier chunk wrote a row it reads."""
    actor = batch.created_by
    claims = parsed.claims
    size = bulk_posting.CHUNK if bulk else max(len(claims), 1)
    times = Counter(c.patient_control_number for c in claims)
    repeated = {number for number, n in times.items() if n > 1}
    early: dict[int, matching.Plan] = {}
    if repeated and len(claims) > size:
        twice = [c for c in claims if c.patient_control_number in repeated]
        early = {
            id(p.parsed): p
            for p in matching.plan_payments(batch.practice_id, batch.payer_id, twice)
        }
    posted, unmatched = 0, 0
    for start in range(0, len(claims), size):
        chunk = claims[start : start + size]
        fresh = [c for c in chunk if id(c) not in early]
        with bulk_posting.collector_paused() if bulk else nullcontext():
            planned = matching.plan_payments(batch.practice_id, batch.payer_id, fresh, lock=bulk)
            by_parsed = {id(p.parsed): p for p in planned}
            plans = [early.get(id(c)) or by_parsed[id(c)] for c in chunk]
            plain, plans = bulk_posting.split(plans, repeated) if bulk else ([], plans)
            bulk_posting.post_plain(batch, plain, actor)
        posted += len(plain)
        for plan in plans:
            payment = posting.store_payment(batch, plan, actor)
            if plan.problem:
                unmatched += 1
                _unmatched_entry(outcome, plan)
                posting.open_unmatched(payment, plan.problem, actor)
            else:
                posted += 1
                posting.post_to_claim(payment, plan, actor, batch)
        del plain, plans, planned, by_parsed
    ProviderAdjustment.objects.bulk_create(
        ProviderAdjustment(
            remittance=batch,
            segment=p.segment,
            provider_identifier=p.provider_identifier[:50],
            fiscal_period_date=p.fiscal_period_date,
            reason_code=p.reason_code[:2],
            reference=p.reference[:50],
            amount=p.amount,
        )
        for p in parsed.provider_adjustments
    )
    _finish(batch, RemittanceStatus.POSTED, outcome, posted_count=posted, unmatched_count=unmatched)


# --- Unmatched payments -----------------------------------------------------------------


def _stored_plan(payment: ClaimPayment, claim: Claim) -> matching.Plan:
    adjustments = [(a.group, a.reason_code, a.amount) for a in payment.adjustments.all()]
    parsed = ParsedClaimPayment(
        segment=payment.segment,
        patient_control_number=payment.patient_control_number,
        status_code=payment.status_code,
        charge=payment.charge,
        paid=payment.paid,
        patient_responsibility_given=payment.patient_responsibility,
        filing_indicator=payment.filing_indicator,
        payer_claim_number=payment.payer_claim_number,
    )
    target = matching.decide(
        payment.status_code, payment.paid, payment.patient_responsibility, adjustments
    )
    return matching.Plan(parsed, claim=claim, target=target)


@transaction.atomic
def unmatched_match(
    *,
    actor: Actor,
    item: UnmatchedRemittance,
    claim: Claim,
    expected_version: int | None = None,
) -> UnmatchedRemittance:
    """A person says which claim the payment pays: it is posted to it, as an 835 would."""
    require_practice_perm(actor, perms.POST_PAYMENTS, item.practice)
    item = lock_for_update(item, expected_version)
    if not item.is_open:
        raise ValidationError({"claim": "This payment was already resolved."})
    if claim.practice_id != item.practice_id:
        raise ValidationError({"claim": "Choose a claim of the same practice."})
    payment = ClaimPayment.objects.select_for_update().get(pk=item.payment_id)
    batch = payment.remittance
    plan = _stored_plan(payment, claim)
    if posting_path(claim.status, plan.target) is None:
        raise ValidationError({"claim": posting.refusal(claim)})
    now = timezone.now()
    payment.claim, payment.state, payment.problem = claim, ClaimPaymentState.POSTED, ""
    payment.posted_at, payment.posted_by = now, actor
    payment.save()
    lines = list(claim.lines.all())
    for row in payment.lines.all():
        match = next((ln for ln in lines if ln.procedure_code == row.procedure_code), None)
        if match is not None:
            lines.remove(match)
        row.claim_line, row.posted_at = match, now
        row.save()
    posting.post_to_claim(payment, plan, actor, batch)
    item.status, item.resolved_by, item.resolved_at = UnmatchedStatus.MATCHED, actor, now
    item.next_action, item.next_action_due, item.wait_reason = "", None, ""
    save_checked(item, actor)
    posting.log_activity(
        item, actor, "matched", f"Matched by hand to claim {claim.pms_claim_number} and posted."
    )
    return item


@transaction.atomic
def unmatched_not_ours(
    *, actor: Actor, item: UnmatchedRemittance, note: str, expected_version: int | None = None
) -> UnmatchedRemittance:
    """A person says the payment is not for this practice's claims: nothing is posted."""
    require_practice_perm(actor, perms.POST_PAYMENTS, item.practice)
    item = lock_for_update(item, expected_version)
    if not item.is_open:
        raise ValidationError({"note": "This payment was already resolved."})
    if not note.strip():
        raise ValidationError({"note": "Say why it is not ours (e.g. another practice's patient)."})
    ClaimPayment.objects.filter(pk=item.payment_id, posted_at__isnull=True).update(
        state=ClaimPaymentState.NOT_OURS
    )
    item.status, item.resolved_by, item.resolved_at = (
        UnmatchedStatus.NOT_OURS,
        actor,
        timezone.now(),
    )
    item.next_action, item.next_action_due, item.wait_reason = "", None, ""
    save_checked(item, actor)
    posting.log_activity(item, actor, "not_ours", f"Marked not ours: {note.strip()}")
    return item


# --- Paper EOB --------------------------------------------------------------------------


@transaction.atomic
def paper_eob_post(
    *,
    actor: Actor,
    claim: Claim,
    check_number: str,
    paid_on: dt.date,
    paid: Decimal,
    patient_responsibility: Decimal,
    adjustments: list[tuple[str, str, Decimal]],
    payer_claim_number: str = "",
    denied: bool = False,
) -> Remittance:
    """Post a paper EOB for one claim through the same posting as an 835: the same
    balance rule (charge - paid - adjustments = 0), rows, status and next action."""
    require_practice_perm(actor, perms.POST_PAYMENTS, claim.practice)
    check = check_number.strip()
    if not check:
        raise ValidationError({"check_number": "Enter the check or EFT number of the EOB."})
    parsed = ParsedClaimPayment(
        segment=0,
        patient_control_number=claim.pms_claim_number,
        status_code="4" if denied else "1",
        charge=claim.total_billed,
        paid=paid,
        patient_responsibility_given=patient_responsibility,
        filing_indicator="",
        payer_claim_number=payer_claim_number.strip()[:50],
        adjustments=[
            ParsedAdjustment(0, group, code, amount, None) for group, code, amount in adjustments
        ],
    )
    total = sum((a.amount for a in parsed.adjustments), Decimal("0.00"))
    if parsed.charge - paid - total:
        raise ValidationError(
            {
                "paid": f"The EOB does not balance: charge {parsed.charge} - paid {paid} - "
                f"adjustments {total} = {parsed.charge - paid - total}. Enter every adjustment "
                "(the patient's share as PR)."
            }
        )
    target = matching.decide(
        parsed.status_code,
        paid,
        patient_responsibility,
        [(a.group, a.reason_code, a.amount) for a in parsed.adjustments],
    )
    if posting_path(claim.status, target) is None:
        raise ValidationError({"paid": posting.refusal(claim)})
    batch = Remittance(
        practice_id=claim.practice_id,
        source=PaymentSource.PAPER,
        payer_id=claim.payer.payer_id,
        payer_name=claim.payer.name,
        trace=f"{check}/{claim.pms_claim_number}"[:50],
        method="CHK",
        amount=paid,
        payment_date=paid_on,
        claim_count=1,
        created_by=actor,
        status=RemittanceStatus.POSTED,
    )
    batch.file_hash = hashlib.sha256(
        f"{batch.trace}|{paid}|{patient_responsibility}|{adjustments}".encode()
    ).hexdigest()
    try:
        with transaction.atomic():
            batch.save()
    except IntegrityError:
        raise ValidationError(
            {"check_number": f"Check {check} is already posted to claim {claim.pms_claim_number}."}
        ) from None
    plan = matching.Plan(parsed, claim=claim, target=target)
    payment = posting.store_payment(batch, plan, actor)
    posting.post_to_claim(payment, plan, actor, batch)
    return _finish(batch, RemittanceStatus.POSTED, Outcome(), posted_count=1)


# --- Underpayments ----------------------------------------------------------------------


@transaction.atomic
def underpayment_resolve(
    *,
    actor: Actor,
    item: Underpayment,
    outcome: str,
    note: str,
    expected_version: int | None = None,
) -> Underpayment:
    """Close an underpayment: appealed to the payer (the appeal is worked on the claim), or
    accepted as paid; the note says why."""
    require_practice_perm(actor, perms.POST_PAYMENTS, item.practice)
    item = lock_for_update(item, expected_version)
    if not item.is_open:
        raise ValidationError({"outcome": "This underpayment was already resolved."})
    if outcome not in (UnderpaymentStatus.APPEALED, UnderpaymentStatus.ACCEPTED):
        raise ValidationError({"outcome": f"Unknown outcome {outcome!r}."})
    if not note.strip():
        raise ValidationError({"note": "Say what was done (appeal reference, or why it stands)."})
    item.status = outcome
    item.next_action, item.next_action_due, item.wait_reason = "", None, ""
    save_checked(item, actor)
    label = UnderpaymentStatus(outcome).label.lower()
    claim_add_note(
        actor=actor,
        claim=item.claim,
        text=f"Underpayment of ${item.amount:,.2f} {label}: {note.strip()}",
    )
    return item
