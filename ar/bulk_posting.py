"""Posting a file's plain payments in bulk: the same rows as ``ar.posting`` writes one claim
at a time, in a constant number of queries per chunk of claims.

A *plain* payment is one the row-by-row path would post with nothing but rows and the
claim's amounts: matched, not a reversal, the payer's answer is "paid", no line paid below
the fee schedule, no secondary coverage to draft a claim for, and the claim appears once in
the file. Everything else (denials, partial payments, reversals, underpayments, secondary
drafts, unmatched payments) goes through ``ar.posting`` one by one, in file order, after
the plain ones: it touches other claims' rows than the plain ones do, so the order
between the two groups changes nothing that is stored.

For the plain payments, per file: the claims are locked and read in one query, their
lines, fee schedule and secondary coverages in one query each; every change is computed in
Python with the rules ``claims.payments.claim_record_adjudication`` applies (status path,
hold released, next action, priority, version); then one INSERT per table (payments,
lines, adjustments, remarks, timeline), one UPDATE of the claims (``UPDATE ... FROM
unnest(...)``) and one INSERT ... SELECT of their history rows ("~", the actor), all in the
batch's transaction, ``CHUNK`` claims at a time (the rows built for one chunk are freed
before the next). The patient's share is charged to their account by the ledger's bulk
sibling (``ar.ledger_bulk.patient_shares_posted``: the same rules and rows as
``ar.ledger.patient_share_posted``, a constant number of queries per chunk).
``tests/ar/test_posting_bulk.py`` posts the same file both ways and compares every stored
row. PostgreSQL only (the UPDATE and the history copy); elsewhere
every payment takes the row-by-row path.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import Counter, defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from ar import ledger_bulk, matching, posting
from ar.bulk_sql import copy_changed_history, update_rows
from ar.choices import PaymentSource
from ar.models import Adjustment, ClaimPayment, Remark, Remittance, ServiceLinePayment
from claims.choices import FINAL_STATUSES, ActivityKind, ClaimStatus, NextAction
from claims.models import Claim, ClaimActivity, ClaimLine
from claims.payments import posting_path
from practices import permissions as perms
from practices.choices import CobOrder
from practices.models import Coverage, FeeScheduleLine
from practices.services import require_practice_perm
from work.services import check_next_action

if TYPE_CHECKING:
    from billing_ops.access import Actor

S = ClaimStatus
CHUNK = 2000  # claims posted per round of statements
CLAIM_FIELDS = [
    "total_allowed",
    "total_paid",
    "patient_responsibility",
    "total_adjusted",
    "status",
    "locked_by",
    "locked_until",
    "next_action",
    "next_action_due",
    "wait_reason",
    "priority",
    "priority_reasons",
    "version",
    "updated_at",
]


def split(plans: list[matching.Plan]) -> tuple[list[matching.Plan], list[matching.Plan]]:
    """(plain, the rest): which payments the bulk path posts, which go one by one."""
    if connection.vendor != "postgresql":
        return [], plans
    seen = Counter(p.claim.pk for p in plans if p.claim is not None)
    candidates = [
        p
        for p in plans
        if p.claim is not None
        and not p.problem
        and not p.parsed.is_reversal
        and p.target == S.PAID
        and seen[p.claim.pk] == 1
    ]
    if not candidates:
        return [], plans
    claims = [cast(Claim, p.claim) for p in candidates]
    primary = set(
        Coverage.objects.filter(
            pk__in={c.coverage_id for c in claims}, cob_order=CobOrder.PRIMARY
        ).values_list("pk", flat=True)
    )
    with_secondary = set(
        Coverage.objects.filter(
            patient_id__in={c.patient_id for c in claims if c.coverage_id in primary},
            cob_order=CobOrder.SECONDARY,
        ).values_list("patient_id", flat=True)
    )
    fees = _fees(claims, [line.procedure_code for p in candidates for line in p.parsed.lines])
    plain_ids = set()
    for plan in candidates:
        claim = cast(Claim, plan.claim)
        if claim.coverage_id in primary and claim.patient_id in with_secondary:
            continue
        claim_fees = fees.get(claim.pk, {})
        if any(posting.underpaid_by(claim_fees, line) for line in plan.parsed.lines):
            continue
        plain_ids.add(id(plan))
    plain = [p for p in plans if id(p) in plain_ids]
    rest = [p for p in plans if id(p) not in plain_ids]
    return plain, rest


def _fees(claims: list[Claim], codes: list[str]) -> dict[int, dict[str, Decimal]]:
    """Per claim, ``posting.contracted_fees`` (procedure -> contracted allowed on its
    service date), from one query for the whole file."""
    today = timezone.localdate()
    days = {c.pk: c.service_date_from or today for c in claims}
    rows = FeeScheduleLine.objects.filter(
        payer_id__in={c.payer_id for c in claims},
        procedure_code__in=set(codes),
        modifier="",
        effective_from__lte=max(days.values()),
    ).order_by("payer_id", "procedure_code", "-effective_from")
    schedule: dict[tuple[int, str], list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for row in rows.values_list("payer_id", "procedure_code", "effective_from", "allowed_amount"):
        schedule[(row[0], row[1])].append((row[2], row[3]))
    if not schedule:
        return {}
    result: dict[int, dict[str, Decimal]] = {}
    for claim in claims:
        fees: dict[str, Decimal] = {}
        for code in codes:
            for since, amount in schedule.get((claim.payer_id, code), ()):
                if since <= days[claim.pk]:
                    fees.setdefault(code, amount)
                    break
        result[claim.pk] = fees
    return result


def post_plain(batch: Remittance, plans: list[matching.Plan], actor: Actor) -> None:
    """Post the plain payments ``split`` chose, as ``store_payment`` + ``post_to_claim``
    would one by one: ``CHUNK`` claims at a time (inside the caller's one transaction), so
    that the rows built for one chunk are freed before the next is read."""
    if not plans:
        return
    require_practice_perm(actor, perms.POST_PAYMENTS, batch.practice)
    collecting = gc.isenabled()
    for start in range(0, len(plans), CHUNK):
        # A chunk builds ~20 objects per claim, freed together after it: the cyclic
        # collector would only rescan them while they are built, so it runs between chunks.
        gc.disable()
        try:
            _post_chunk(batch, plans[start : start + CHUNK], actor)
        finally:
            if collecting:
                gc.enable()


def _post_chunk(batch: Remittance, plans: list[matching.Plan], actor: Actor) -> None:
    ids = [cast(Claim, p.claim).pk for p in plans]
    locked = {
        c.pk: c
        for c in Claim.objects.select_for_update(of=("self",))
        .select_related("practice", "patient", "coverage")
        .filter(pk__in=ids)
    }
    lines_by_claim: dict[int, list[ClaimLine]] = defaultdict(list)
    for line in ClaimLine.objects.filter(claim_id__in=ids).order_by("claim", "line_number"):
        lines_by_claim[line.claim_id].append(line)
    now = timezone.now()
    payments = ClaimPayment.objects.bulk_create(
        [_payment(batch, plan, locked[cast(Claim, plan.claim).pk], actor, now) for plan in plans]
    )
    rows: list[ServiceLinePayment] = []
    for plan, payment in zip(plans, payments, strict=True):
        candidates = list(lines_by_claim.get(payment.claim_id or 0, []))
        by_code: dict[str, list[ClaimLine]] = defaultdict(list)
        for line in candidates:
            by_code[line.procedure_code].append(line)
        for parsed_line in plan.parsed.lines:
            matches = by_code.get(parsed_line.procedure_code) or []
            rows.append(_line(payment, parsed_line, matches.pop(0) if matches else None, now))
    rows = ServiceLinePayment.objects.bulk_create(rows)
    adjustments: list[Adjustment] = []
    remarks: list[Remark] = []
    row_iter = iter(rows)
    for plan, payment in zip(plans, payments, strict=True):
        parsed = plan.parsed
        adjustments += posting.adjustment_rows(payment, None, parsed.adjustments)
        remarks += [
            Remark(payment=payment, segment=r.segment, source=r.source, code=r.code[:10])
            for r in parsed.remarks
        ]
        for parsed_line in parsed.lines:
            row = next(row_iter)
            adjustments += posting.adjustment_rows(payment, row, parsed_line.adjustments)
            remarks += [
                Remark(
                    payment=payment, line=row, segment=r.segment, source=r.source, code=r.code[:10]
                )
                for r in parsed_line.remarks
            ]
    Adjustment.objects.bulk_create(adjustments)
    Remark.objects.bulk_create(remarks)
    activities: list[ClaimActivity] = []
    claims = []
    for plan, payment in zip(plans, payments, strict=True):
        claim = locked[payment.claim_id or 0]
        activities += _adjudicate(claim, plan.target, payment, batch, actor, now)
        claims.append(claim)
    update_rows(Claim, claims, CLAIM_FIELDS)
    copy_changed_history(Claim, [c.pk for c in claims], actor, now)
    ClaimActivity.objects.bulk_create(activities)
    # The patient's share as a charge on their account: the ledger's rules, in bulk.
    ledger_bulk.patient_shares_posted(actor=actor, charges=list(zip(payments, claims, strict=True)))


def _payment(
    batch: Remittance, plan: matching.Plan, claim: Claim, actor: Actor, now: dt.datetime
) -> ClaimPayment:
    parsed = plan.parsed
    return ClaimPayment(
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
        claim=claim,
        reversal_of=None,
        state=plan.state,
        problem="",
        posted_at=now,
        posted_by=actor,
    )


def _line(
    payment: ClaimPayment, parsed_line: Any, claim_line: ClaimLine | None, now: dt.datetime
) -> ServiceLinePayment:
    return ServiceLinePayment(
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
        claim_line=claim_line,
        underpaid_by=None,
        posted_at=now,
    )


def _adjudicate(
    claim: Claim,
    target: str,
    payment: ClaimPayment,
    batch: Remittance,
    actor: Actor,
    now: dt.datetime,
) -> list[ClaimActivity]:
    """``claim_record_adjudication`` on a locked claim in hand: the changes made on it, the
    timeline entries returned (not saved)."""
    path = posting_path(claim.status, target)
    if path is None:
        raise ValidationError(
            {
                "status": f"A payment cannot be posted to a {claim.get_status_display().lower()} "
                "claim."
            }
        )
    today = timezone.localdate()
    action, due, reason = posting.next_action(target, today)
    source = "paper EOB" if batch.source == PaymentSource.PAPER else "835"
    note = f"Payment from {source} trace {batch.trace} (remittance {batch.pk})."
    previous = claim.status
    claim.total_allowed += payment.allowed
    claim.total_paid += payment.paid
    claim.patient_responsibility += payment.patient_responsibility
    claim.total_adjusted += payment.adjusted
    if path:
        claim.status = path[-1]
    if actor is not None and claim.locked_by_id == actor.pk:
        claim.locked_by, claim.locked_until = None, None
    if claim.status in FINAL_STATUSES:
        claim.next_action, claim.next_action_due, claim.wait_reason = "", None, ""
        claim.locked_by, claim.locked_until = None, None
    else:
        claim.next_action, claim.next_action_due, claim.wait_reason = action, due, reason
    check_next_action(claim)
    rank = claim.compute_priority(None)
    claim.priority, claim.priority_reasons = rank.score, list(rank.reasons)
    claim.version += 1
    claim.updated_at = now
    entries = []
    status_from = previous
    for status in path:
        entries.append(
            ClaimActivity(
                claim=claim,
                actor=actor,
                kind=ActivityKind.STATUS,
                text=f"{S(status_from).label} → {S(status).label}. {note}".strip(),
                data={"from": status_from, "to": status, "source": "payment"},
            )
        )
        status_from = status
    entries.append(
        ClaimActivity(
            claim=claim,
            actor=actor,
            kind=ActivityKind.EDIT,
            text=(
                f"Payment posted: allowed {payment.allowed}, paid {payment.paid}, patient "
                f"responsibility {payment.patient_responsibility}, adjustments "
                f"{payment.adjusted}. {note}"
            ).strip(),
            data={"source": "payment", "remittance": batch.pk, "claim_payment": payment.pk},
        )
    )
    if claim.next_action:
        label = dict(NextAction.choices).get(claim.next_action, claim.next_action)
        text = f"Next: {label}, due {claim.next_action_due:%m/%d/%Y}"
        if claim.wait_reason:
            text += f" (waiting for {claim.wait_reason})"
        entries.append(
            ClaimActivity(claim=claim, actor=actor, kind=ActivityKind.NEXT_ACTION, text=text)
        )
    return entries
