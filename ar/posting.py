"""Posting one claim payment: its rows as the file has them, the claim's amounts and status
(``claims.payments``), denials for denied amounts (``denials.services``), the secondary
claim draft after the primary paid, and the unmatched item when it cannot post by itself.

Called inside the batch's transaction by ``ar.services`` (835, paper EOB, matching by hand).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils import timezone

from ar import ledger, matching
from ar.choices import PaymentSource, UnderpaymentAction, UnmatchedAction
from ar.models import (
    Adjustment,
    ClaimPayment,
    Remark,
    Remittance,
    ServiceLinePayment,
    Underpayment,
    UnmatchedActivity,
    UnmatchedRemittance,
)
from ar.x12_835 import ParsedAdjustment, ParsedLine
from billing_ops.access import holders
from claims.choices import ClaimStatus, NextAction
from claims.models import Claim
from claims.payments import claim_record_adjudication
from claims.services import claim_add_note, claim_create
from denials.choices import Source
from denials.services import open_denial
from practices import permissions as perms
from practices.choices import CobOrder
from practices.models import Coverage, FeeScheduleLine
from work.services import save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor

S = ClaimStatus
FOLLOW_UP_DAYS = 14


def adjustment_rows(
    payment: ClaimPayment, line: ServiceLinePayment | None, items: list[ParsedAdjustment]
) -> list[Adjustment]:
    return [
        Adjustment(
            payment=payment,
            line=line,
            segment=a.segment,
            group=a.group,
            reason_code=a.reason_code[:5],
            amount=a.amount,
            quantity=a.quantity,
        )
        for a in items
    ]


def contracted_fees(claim: Claim, codes: list[str]) -> dict[str, Decimal]:
    """procedure code -> the payer's contracted allowed amount in force on the service date."""
    day = claim.service_date_from or timezone.localdate()
    rows = FeeScheduleLine.objects.filter(
        payer_id=claim.payer_id, procedure_code__in=codes, modifier="", effective_from__lte=day
    ).order_by("procedure_code", "-effective_from")
    fees: dict[str, Decimal] = {}
    for row in rows:
        fees.setdefault(row.procedure_code, row.allowed_amount)
    return fees


def underpaid_by(fees: dict[str, Decimal], line: ParsedLine) -> Decimal | None:
    """Contracted allowed x units minus what the line got (paid + patient share), if above 0.

    A denied part of the line (an adjustment a denial is opened for) is not also an
    underpayment: it is worked once, as the denial."""
    fee = fees.get(line.procedure_code)
    if fee is None:
        return None
    denied = sum(
        (
            amount
            for _, _, amount in matching.denied_adjustments(
                (a.group, a.reason_code, a.amount) for a in line.adjustments
            )
        ),
        Decimal("0"),
    )
    contracted = (fee * line.units).quantize(Decimal("0.01"))
    short = contracted - line.paid - line.patient_responsibility - denied
    return short if short > 0 else None


def store_payment(batch: Remittance, plan: matching.Plan, actor: Actor) -> ClaimPayment:
    """The claim payment with its lines, adjustments and remarks, as the file has them."""
    parsed = plan.parsed
    now = timezone.now() if not plan.problem else None
    lines_by_code: dict[str, list[Any]] = {}
    fees: dict[str, Decimal] = {}
    if plan.claim is not None and not plan.problem:
        for line in plan.claim.lines.all():
            lines_by_code.setdefault(line.procedure_code, []).append(line)
        if not parsed.is_reversal:
            fees = contracted_fees(plan.claim, [line.procedure_code for line in parsed.lines])
    payment = ClaimPayment.objects.create(
        remittance=batch,
        practice_id=batch.practice_id,
        segment=parsed.segment,
        patient_control_number=parsed.patient_control_number[:50],
        payer_claim_number=parsed.payer_claim_number[:50],
        status_code=parsed.status_code[:2],
        charge=parsed.charge,
        paid=parsed.paid,
        patient_responsibility=parsed.patient_responsibility,
        allowed=parsed.allowed,
        adjusted=parsed.adjusted,
        filing_indicator=parsed.filing_indicator[:2],
        patient_last_name=parsed.patient_last_name[:100],
        patient_first_name=parsed.patient_first_name[:100],
        member_id=parsed.member_id[:80],
        service_date_from=parsed.date_from,
        service_date_to=parsed.date_to,
        claim=None if plan.problem else plan.claim,
        reversal_of=None if plan.problem else plan.reversal_of,
        state=plan.state,
        problem=plan.problem[:300],
        posted_at=now,
        posted_by=actor if now else None,
    )
    adjustments = adjustment_rows(payment, None, parsed.adjustments)
    remarks = [
        Remark(payment=payment, segment=r.segment, source=r.source, code=r.code[:10])
        for r in parsed.remarks
    ]
    for parsed_line in parsed.lines:
        candidates = lines_by_code.get(parsed_line.procedure_code) or []
        row = ServiceLinePayment.objects.create(
            payment=payment,
            segment=parsed_line.segment,
            procedure_code=parsed_line.procedure_code[:10],
            modifiers=parsed_line.modifiers,
            charge=parsed_line.charge,
            paid=parsed_line.paid,
            allowed=parsed_line.allowed,
            patient_responsibility=parsed_line.patient_responsibility,
            units=parsed_line.units,
            service_date_from=parsed_line.date_from,
            service_date_to=parsed_line.date_to,
            claim_line=candidates.pop(0) if candidates else None,
            underpaid_by=underpaid_by(fees, parsed_line),
            posted_at=now,
        )
        adjustments += adjustment_rows(payment, row, parsed_line.adjustments)
        remarks += [
            Remark(payment=payment, line=row, segment=r.segment, source=r.source, code=r.code[:10])
            for r in parsed_line.remarks
        ]
    Adjustment.objects.bulk_create(adjustments)
    Remark.objects.bulk_create(remarks)
    return payment


def next_action(target: str, today: dt.date) -> tuple[str, dt.date, str]:
    """The claim's next action after a payer's answer."""
    if target == S.PAID:
        return NextAction.POST_AND_CLOSE, today, ""
    if target == S.IN_ADJUDICATION:
        return (
            NextAction.WAIT,
            today + dt.timedelta(days=FOLLOW_UP_DAYS),
            "the payer reversed its payment: waiting for the corrected claim",
        )
    return NextAction.APPEAL, today + dt.timedelta(days=FOLLOW_UP_DAYS), ""


def post_to_claim(
    payment: ClaimPayment, plan: matching.Plan, actor: Actor, batch: Remittance
) -> Claim:
    claim = plan.claim
    assert claim is not None
    today = timezone.localdate()
    action, due, reason = next_action(plan.target, today)
    what = "Reversal" if payment.is_reversal else "Payment"
    source = "paper EOB" if batch.source == PaymentSource.PAPER else "835"
    claim = claim_record_adjudication(
        actor=actor,
        claim=claim,
        to_status=plan.target,
        allowed=payment.allowed,
        paid=payment.paid,
        patient_responsibility=payment.patient_responsibility,
        adjusted=payment.adjusted,
        note=f"{what} from {source} trace {batch.trace} (remittance {batch.pk}).",
        next_action=action,
        next_action_due=due,
        wait_reason=reason,
        data={"remittance": batch.pk, "claim_payment": payment.pk},
    )
    # The patient's share becomes a charge on their account (a reversal reverses it).
    ledger.patient_share_posted(actor=actor, payment=payment, claim=claim)
    if plan.target in (S.DENIED, S.PARTIALLY_PAID):
        open_denials(payment, claim, actor, batch)
    if plan.target in (S.PAID, S.PARTIALLY_PAID):
        secondary_draft(claim, payment, actor)
        open_underpayments(payment, claim, actor, batch)
    return claim


def open_underpayments(
    payment: ClaimPayment, claim: Claim, actor: Actor, batch: Remittance
) -> list[Underpayment]:
    """An Underpayment item per line paid below the fee schedule, due a week before the
    payer's appeal window closes (today at the latest)."""
    today = timezone.localdate()
    received = batch.payment_date or today
    deadline = received + dt.timedelta(days=claim.payer.appeal_window_days)
    items = []
    for line in payment.lines.filter(underpaid_by__isnull=False):
        assert line.underpaid_by is not None
        item = Underpayment(
            practice_id=claim.practice_id,
            line=line,
            claim=claim,
            contracted=line.underpaid_by + line.paid + line.patient_responsibility,
            received=line.paid + line.patient_responsibility,
            amount=line.underpaid_by,
            appeal_deadline=deadline,
            owner=owner_for(actor, claim.practice_id),
            next_action=UnderpaymentAction.APPEAL,
            next_action_due=max(today, min(today + dt.timedelta(days=7), deadline)),
            version=0,
        )
        items.append(save_checked(item, actor))
        claim_add_note(
            actor=actor,
            claim=claim,
            text=f"Line {line.procedure_code} underpaid by ${line.underpaid_by:,.2f} against "
            f"the fee schedule; appeal by {deadline:%m/%d/%Y}.",
        )
    return items


def secondary_draft(claim: Claim, payment: ClaimPayment, actor: Actor) -> Claim | None:
    """After the primary paid: the same claim as a draft to the patient's secondary payer,
    carrying the primary's adjudication (paid amount, adjustments), to submit. Once."""
    if claim.coverage.cob_order != CobOrder.PRIMARY:
        return None
    secondary = (
        Coverage.objects.filter(patient_id=claim.patient_id, cob_order=CobOrder.SECONDARY)
        .select_related("payer")
        .first()
    )
    if (
        secondary is None
        or Claim.objects.filter(
            practice_id=claim.practice_id,
            pms_claim_number=claim.pms_claim_number,
            payer_id=secondary.payer_id,
        ).exists()
    ):
        return None
    lines = [
        {
            "line_number": line.line_number,
            "procedure_code": line.procedure_code,
            "modifiers": line.modifiers,
            "diagnosis_pointers": line.diagnosis_pointers,
            "teeth": line.teeth,
            "units": line.units,
            "unit_basis": line.unit_basis,
            "charge": line.charge,
            "service_date": line.service_date,
            "service_date_to": line.service_date_to,
        }
        for line in claim.lines.all()
    ]
    adjustments = ", ".join(
        f"{a.group}-{a.reason_code} {a.amount}" for a in payment.adjustments.all()
    )
    draft = claim_create(
        actor=actor,
        patient=claim.patient,
        coverage=secondary,
        provider=claim.provider,
        pms_claim_number=claim.pms_claim_number,
        service_date_from=claim.service_date_from,
        service_date_to=claim.service_date_to,
        diagnosis_codes=claim.diagnosis_codes,
        lines=lines,
        owner=claim.owner,
        next_action=NextAction.SUBMIT_TO_SECONDARY,
        next_action_due=timezone.localdate(),
        other_payer_paid=claim.total_paid,
    )
    claim_add_note(
        actor=actor,
        claim=draft,
        text=(
            f"Primary {claim.payer.name} paid {claim.total_paid} (allowed "
            f"{claim.total_allowed}, patient responsibility {claim.patient_responsibility}; "
            f"{adjustments or 'no adjustments'}; claim payment {payment.pk}). "
            f"Submit to {secondary.payer.name}."
        ),
    )
    return draft


def open_denials(payment: ClaimPayment, claim: Claim, actor: Actor, batch: Remittance) -> None:
    """A denial per denied claim or line adjustment (denials.services, idempotent)."""
    received = batch.payment_date or timezone.localdate()
    remarks: dict[int | None, list[str]] = {}
    for remark in payment.remarks.all():
        remarks.setdefault(remark.line_id, []).append(remark.code)
    lines = {row.pk: row for row in payment.lines.select_related("claim_line")}
    for adjustment in payment.adjustments.all():
        denied = matching.denied_adjustments(
            [(adjustment.group, adjustment.reason_code, adjustment.amount)]
        )
        if not denied:
            continue
        row = lines.get(adjustment.line_id) if adjustment.line_id else None
        open_denial(
            actor=actor,
            claim=claim,
            line=row.claim_line if row is not None else None,
            group_code=adjustment.group,
            carc=adjustment.reason_code,
            rarcs=remarks.get(adjustment.line_id, []) + remarks.get(None, []),
            amount=adjustment.amount,
            received_on=received,
            source=Source.ERA,
            source_ref=f"{batch.trace}/{payment.payer_claim_number}",
        )


def refusal(claim: Claim) -> str:
    return f"A payment cannot be posted to a {claim.get_status_display().lower()} claim."


def log_activity(item: UnmatchedRemittance, actor: Actor, kind: str, text: str) -> None:
    """The unmatched payment's timeline entry for a work-core change."""
    UnmatchedActivity.objects.create(item=item, actor=actor, kind=kind, text=text)


def owner_for(actor: Actor, practice_id: int) -> Any:
    """Who owns an item posting opens: the poster, else (the system posting, e.g. the
    command without --user) the first person who posts payments at the practice."""
    if actor is not None:
        return actor
    return holders(perms.POST_PAYMENTS, practice_id).order_by("username").first()


def open_unmatched(payment: ClaimPayment, reason: str, actor: Actor) -> UnmatchedRemittance:
    item = UnmatchedRemittance(
        practice_id=payment.practice_id,
        payment=payment,
        reason=reason[:300],
        owner=owner_for(actor, payment.practice_id),
        next_action=UnmatchedAction.MATCH,
        next_action_due=timezone.localdate(),
        version=0,
    )
    save_checked(item, actor)
    log_activity(item, actor, "created", f"Not posted: {reason}.")
    return item
