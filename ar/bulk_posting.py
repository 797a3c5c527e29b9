"""Posting a file's plain payments in bulk: the same rows as ``ar.posting`` writes one claim
at a time, in a constant number of queries per chunk of claims.

A *plain* payment is one the row-by-row path would post with nothing but rows and the
claim's amounts: matched, not a reversal, the payer's answer is "paid", no line paid below
the fee schedule, no secondary coverage to draft a claim for, and the claim (its number)
appears once in the file. Everything else (denials, partial payments, reversals,
underpayments, secondary drafts, unmatched payments) goes through ``ar.posting`` one by
one, in file order, after the chunk's plain ones: it touches other claims' rows than the
plain ones do, so the order between the two groups changes nothing that is stored.

``ar.services`` streams the file through matching and posting ``CHUNK`` claims at a time,
inside the batch's one transaction. Per chunk: the claims are locked and read in one
query, their lines, fee schedule and secondary coverages in one query each; every change
is computed in Python with the rules ``claims.payments.claim_record_adjudication`` applies
(status path, hold released, next action, priority, version); the new rows are plain
tuples written with ``COPY ... FROM STDIN`` (``ar.bulk_sql.Copier``; the ids other rows
refer to reserved from the sequences in one query per table): payments, lines,
adjustments, remarks, timeline; then one UPDATE of the claims (``UPDATE ... FROM
unnest(...)``) and one INSERT ... SELECT of their history rows ("~", the actor). The
patient's share is charged to their account by the ledger's bulk sibling
(``ar.ledger_bulk.patient_shares_posted``: the same rules and rows as
``ar.ledger.patient_share_posted``, a constant number of queries per chunk).
``tests/ar/test_posting_bulk.py`` and ``tests/ar/test_posting_copy.py`` post the same file
both ways and compare every stored row. PostgreSQL only (COPY, the UPDATE and the history
copy); elsewhere (SQLite) ``split`` sends every payment the row-by-row path.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import Counter, defaultdict
from collections.abc import Collection, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from ar import ledger_bulk, matching, posting
from ar.bulk_sql import Copier, update_rows
from ar.choices import PaymentSource
from ar.models import Adjustment, ClaimPayment, Remark, Remittance, ServiceLinePayment
from billing_ops.bulk import any_of, copy_history, reserve_ids
from claims.choices import FINAL_STATUSES, ClaimStatus
from claims.models import Claim, ClaimActivity, ClaimLine
from claims.payments import adjudication_entry, posting_path
from practices import permissions as perms
from practices.choices import CobOrder
from practices.models import Coverage, FeeScheduleLine
from practices.services import require_practice_perm
from work.services import check_next_action

if TYPE_CHECKING:
    from billing_ops.access import Actor

S = ClaimStatus
# Claims posted per round of statements. 5,000 rather than 2,000: 5 rounds for a
# 25,000-claim file instead of 13, 127 queries instead of 311, 0.2-0.3 CPU s less on each
# side (this process, PostgreSQL); peak RSS 183 -> 204 MB (the target is 300 MB).
CHUNK = 5000
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


def split(
    plans: list[matching.Plan], repeated: Collection[str] = ()
) -> tuple[list[matching.Plan], list[matching.Plan]]:
    """(plain, the rest): which payments the bulk path posts, which go one by one.
    ``repeated``: claim numbers the whole file names more than once (one by one)."""
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
        and p.parsed.patient_control_number not in repeated
    ]
    if not candidates:
        return [], plans
    claims = [cast(Claim, p.claim) for p in candidates]
    primary = set(
        Coverage.objects.filter(
            any_of("pk", {c.coverage_id for c in claims}), cob_order=CobOrder.PRIMARY
        ).values_list("pk", flat=True)
    )
    with_secondary = set(
        Coverage.objects.filter(
            any_of("patient_id", {c.patient_id for c in claims if c.coverage_id in primary}),
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
    for start in range(0, len(plans), CHUNK):
        with collector_paused():
            _post_chunk(batch, plans[start : start + CHUNK], actor)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off for one chunk (matched, split, posted), on
    again after it, as it was. A chunk builds ~20 objects per claim, freed together after
    it: the collector would only rescan them, and the parsed file's objects, while they are
    built (0.5 CPU s of a 25,000-claim file, most of it in matching), so it runs between
    chunks. The switch is process-wide: posting runs in Celery's prefork children, one
    thread each. In a threaded process the other threads' cyclic garbage would wait for the
    chunk's end (seconds); the state found is the state restored."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


PAYMENT_COLUMNS = [
    "id",
    "remittance_id",
    "practice_id",
    "segment",
    "patient_control_number",
    "payer_claim_number",
    "status_code",
    "charge",
    "paid",
    "patient_responsibility",
    "allowed",
    "adjusted",
    "filing_indicator",
    "patient_last_name",
    "patient_first_name",
    "member_id",
    "service_date_from",
    "service_date_to",
    "claim_id",
    "reversal_of_id",
    "state",
    "problem",
    "posted_at",
    "posted_by_id",
]
LINE_COLUMNS = [
    "id",
    "payment_id",
    "segment",
    "procedure_code",
    "modifiers",
    "charge",
    "paid",
    "allowed",
    "patient_responsibility",
    "units",
    "service_date_from",
    "service_date_to",
    "claim_line_id",
    "underpaid_by",
    "posted_at",
]
ADJUSTMENT_COLUMNS = [
    "payment_id",
    "line_id",
    "segment",
    "group",
    "reason_code",
    "amount",
    "quantity",
]
REMARK_COLUMNS = ["payment_id", "line_id", "segment", "source", "code"]
ACTIVITY_COLUMNS = ["claim_id", "actor_id", "kind", "text", "data"]


def _post_chunk(batch: Remittance, plans: list[matching.Plan], actor: Actor) -> None:
    """One chunk: the claims locked and read, their lines read, then the new rows as plain
    tuples written with ``COPY`` (ids reserved from the sequences where a row is referred
    to), one UPDATE of the claims, their "~" history copied, the patient's shares."""
    ids = [cast(Claim, p.claim).pk for p in plans]
    locked = _lock(plans)
    lines_by_claim: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for pk, claim_id, code in (
        ClaimLine.objects.filter(any_of("claim_id", ids))
        .order_by("claim", "line_number")
        .values_list("pk", "claim_id", "procedure_code")
    ):
        lines_by_claim[claim_id].append((pk, code))
    now = timezone.now()
    today = timezone.localdate(now)
    actor_id = getattr(actor, "pk", None)
    payment_ids = reserve_ids(ClaimPayment, len(plans))
    line_ids = iter(reserve_ids(ServiceLinePayment, sum(len(p.parsed.lines) for p in plans)))
    payments: list[tuple[Any, ...]] = []
    lines: list[tuple[Any, ...]] = []
    adjustments: list[tuple[Any, ...]] = []
    remarks: list[tuple[Any, ...]] = []
    activities: list[tuple[Any, ...]] = []
    charges: list[tuple[ledger_bulk.Charge, Claim]] = []
    claims = []
    for plan, payment_id in zip(plans, payment_ids, strict=True):
        parsed = plan.parsed
        claim = locked[cast(Claim, plan.claim).pk]
        payments.append(_payment(batch, plan, claim.pk, payment_id, actor_id, now))
        by_code: dict[str, list[int]] = defaultdict(list)
        for pk, code in lines_by_claim.get(claim.pk, ()):
            by_code[code].append(pk)
        for a in parsed.adjustments:
            adjustments.append(_adjustment(payment_id, None, a))
        for r in parsed.remarks:
            remarks.append((payment_id, None, r.segment, r.source, r.code[:10]))
        for parsed_line in parsed.lines:
            line_id = next(line_ids)
            matches = by_code.get(parsed_line.procedure_code)
            claim_line_id = matches.pop(0) if matches else None
            lines.append(_line(payment_id, line_id, parsed_line, claim_line_id, now))
            for a in parsed_line.adjustments:
                adjustments.append(_adjustment(payment_id, line_id, a))
            for r in parsed_line.remarks:
                remarks.append((payment_id, line_id, r.segment, r.source, r.code[:10]))
        amounts = (parsed.allowed, parsed.paid, parsed.patient_responsibility, parsed.adjusted)
        activities += _adjudicate(claim, plan.target, amounts, payment_id, batch, actor, now, today)
        claims.append(claim)
        charges.append((ledger_bulk.Charge(payment_id, parsed.patient_responsibility), claim))
    Copier(ClaimPayment, PAYMENT_COLUMNS, now).write(payments)
    Copier(ServiceLinePayment, LINE_COLUMNS, now).write(lines)
    Copier(Adjustment, ADJUSTMENT_COLUMNS, now).write(adjustments)
    Copier(Remark, REMARK_COLUMNS, now).write(remarks)
    update_rows(Claim, claims, CLAIM_FIELDS)
    copy_history(Claim, [c.pk for c in claims], actor, now, history_type="~")
    Copier(ClaimActivity, ACTIVITY_COLUMNS, now).write(activities)
    # The patient's share as a charge on their account: the ledger's rules, in bulk.
    # ``split`` left out the claims whose patient has a secondary coverage to charge first,
    # from their coverage as read under lock (matching's lock; else the ledger reads again).
    checked = all(p.locked for p in plans)
    ledger_bulk.patient_shares_posted(actor=actor, charges=charges, secondaries_checked=checked)


CLAIM_ATTNAMES = [f.attname for f in Claim._meta.concrete_fields]
CLAIM_FKS = [f.attname for f in Claim._meta.concrete_fields if f.is_relation]


def _lock(plans: list[matching.Plan]) -> dict[int, Claim]:
    """The plans' claims locked (``SELECT ... FOR UPDATE``) and read again, as a locked
    read gives them: every column's value as stored now, set on the instance matching
    built (no new model instance per claim; a changed foreign key drops the related
    object matching cached, so it is read again if asked for). A claim matching read
    under lock (``Plan.locked``: the file's stream) is taken as it is."""
    locked = {cast(Claim, p.claim).pk: cast(Claim, p.claim) for p in plans if p.locked}
    claims = {cast(Claim, p.claim).pk: cast(Claim, p.claim) for p in plans if not p.locked}
    if not claims:
        return locked
    rows = (
        Claim.objects.select_for_update(of=("self",))
        .filter(any_of("pk", claims))
        .order_by("pk")
        .values_list(*CLAIM_ATTNAMES)
    )
    for row in rows:
        claim = claims[row[0]]
        values = dict(zip(CLAIM_ATTNAMES, row, strict=True))
        state = claim.__dict__
        if any(state.get(name) != values[name] for name in CLAIM_FKS):
            claim._state.fields_cache.clear()
        state.update(values)
        locked[claim.pk] = claim
    return locked


def _payment(
    batch: Remittance,
    plan: matching.Plan,
    claim_id: int,
    payment_id: int,
    actor_id: Any,
    now: dt.datetime,
) -> tuple[Any, ...]:
    """A ``ClaimPayment`` row (``PAYMENT_COLUMNS``) as ``posting.store_payment`` writes it."""
    parsed = plan.parsed
    return (
        payment_id,
        batch.pk,
        batch.practice_id,
        parsed.segment,
        parsed.patient_control_number[:50],
        parsed.payer_claim_number[:50],
        parsed.status_code[:2],
        parsed.charge,
        parsed.paid,
        parsed.patient_responsibility,
        parsed.allowed,
        parsed.adjusted,
        parsed.filing_indicator[:2],
        parsed.patient_last_name[:100],
        parsed.patient_first_name[:100],
        parsed.member_id[:80],
        parsed.date_from,
        parsed.date_to,
        claim_id,
        None,
        plan.state,
        "",
        now,
        actor_id,
    )


def _line(
    payment_id: int, line_id: int, parsed_line: Any, claim_line_id: int | None, now: dt.datetime
) -> tuple[Any, ...]:
    """A ``ServiceLinePayment`` row (``LINE_COLUMNS``)."""
    return (
        line_id,
        payment_id,
        parsed_line.segment,
        parsed_line.procedure_code[:10],
        parsed_line.modifiers,
        parsed_line.charge,
        parsed_line.paid,
        parsed_line.allowed,
        parsed_line.patient_responsibility,
        parsed_line.units,
        parsed_line.date_from,
        parsed_line.date_to,
        claim_line_id,
        None,
        now,
    )


def _adjustment(payment_id: int, line_id: int | None, a: Any) -> tuple[Any, ...]:
    """An ``Adjustment`` row (``ADJUSTMENT_COLUMNS``) as ``posting.adjustment_rows``."""
    return (payment_id, line_id, a.segment, a.group, a.reason_code[:5], a.amount, a.quantity)


def _adjudicate(
    claim: Claim,
    target: str,
    amounts: tuple[Decimal, Decimal, Decimal, Decimal],
    payment_id: int,
    batch: Remittance,
    actor: Actor,
    now: dt.datetime,
    today: dt.date,
) -> list[tuple[Any, ...]]:
    """``claim_record_adjudication`` on a locked claim in hand: the changes made on it, the
    timeline entry (``claims.payments.adjudication_entry``) returned as a ``ClaimActivity``
    row (``ACTIVITY_COLUMNS``), not saved.
    ``amounts``: the payment's allowed, paid, patient responsibility and adjusted;
    ``today``: the chunk's local date (read once, as ``now``)."""
    path = posting_path(claim.status, target)
    if path is None:
        raise ValidationError(
            {
                "status": f"A payment cannot be posted to a {claim.get_status_display().lower()} "
                "claim."
            }
        )
    allowed, paid, patient, adjusted = amounts
    action, due, reason = posting.next_action(target, today)
    source = "paper EOB" if batch.source == PaymentSource.PAPER else "835"
    note = f"Payment from {source} trace {batch.trace} (remittance {batch.pk})."
    previous = claim.status
    claim.total_allowed += allowed
    claim.total_paid += paid
    claim.patient_responsibility += patient
    claim.total_adjusted += adjusted
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
    rank = claim.compute_priority(today)
    claim.priority, claim.priority_reasons = rank.score, list(rank.reasons)
    claim.version += 1
    claim.updated_at = now
    data = {"remittance": batch.pk, "claim_payment": payment_id}
    kind, text, entry = adjudication_entry(claim, previous, path, amounts, note, data)
    return [(claim.pk, getattr(actor, "pk", None), kind, text, entry)]
