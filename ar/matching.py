"""Reads for posting: which claim a claim payment pays, what status the payer's answer
implies, and what a dry run would do. No writes here.

A claim payment is posted automatically only when CLP01 names exactly one claim of the
practice whose charge and patient agree with the payment; anything else waits for a person
("Unmatched remittances"), with the reason.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import connections, router
from django.db.models import F

from ar.choices import ClaimPaymentState
from ar.models import ClaimPayment
from ar.x12_835 import ParsedClaimPayment
from billing_ops.bulk import any_of
from claims.choices import ClaimStatus
from claims.models import Claim
from claims.payments import posting_path

ZERO = Decimal("0.00")
# Adjustments that leave a claim "paid": the contracted reduction and sequestration.
CONTRACTUAL = frozenset({("CO", "45"), ("CO", "253")})
S = ClaimStatus


def decide(
    status_code: str,
    paid: Decimal,
    patient_responsibility: Decimal,
    adjustments: Iterable[tuple[str, str, Decimal]],
) -> str:
    """The claim status a payer's answer implies: denied, partially paid, paid, or (for a
    reversal) in adjudication again."""
    if status_code == "22":
        return S.IN_ADJUDICATION
    if status_code == "4" or (paid == 0 and patient_responsibility == 0):
        return S.DENIED
    reduced = any(
        amount and group != "PR" and (group, code) not in CONTRACTUAL
        for group, code, amount in adjustments
    )
    return S.PARTIALLY_PAID if reduced else S.PAID


def denied_adjustments(
    adjustments: Iterable[tuple[str, str, Decimal]],
) -> list[tuple[str, str, Decimal]]:
    """The adjustments a denial is opened for: neither the patient's share nor contractual."""
    return [
        (group, code, amount)
        for group, code, amount in adjustments
        if amount > 0 and group != "PR" and (group, code) not in CONTRACTUAL
    ]


def parsed_adjustments(parsed: ParsedClaimPayment) -> list[tuple[str, str, Decimal]]:
    return [(a.group, a.reason_code, a.amount) for a in parsed.all_adjustments()]


@dataclass
class Plan:
    """What posting will do with one claim payment of the file."""

    parsed: ParsedClaimPayment
    claim: Claim | None = None
    reversal_of: ClaimPayment | None = None
    problem: str = ""
    target: str = ""
    # The claim was read under lock (``plan_payments(lock=True)``): its values are as
    # stored now, and it stays so until the transaction ends.
    locked: bool = False

    @property
    def state(self) -> str:
        return ClaimPaymentState.UNMATCHED if self.problem else ClaimPaymentState.POSTED


def _choose(candidates: list[Claim], payer_id: str, payer_of: dict[int, str]) -> Claim | str:
    """The one live claim of the number (the file's payer's when several); else why not.
    ``payer_of``: claim id -> its payer's payer id."""
    live = [c for c in candidates if c.status != S.VOID]
    if len(live) > 1:
        live = [c for c in live if payer_of[c.pk] == payer_id] or live
    if not live:
        return "no claim with this number at this practice"
    if len(live) > 1:
        return f"{len(live)} claims have this number; choose the one it pays"
    return live[0]


def _mismatch(parsed: ParsedClaimPayment, claim: Claim, last_name: str) -> str:
    """Why a payment does not pay the claim of its number (``last_name``: its patient's)."""
    if parsed.charge != claim.total_billed:
        return (
            f"charge {parsed.charge} differs from claim {claim.pms_claim_number}'s "
            f"{claim.total_billed}"
        )
    name = parsed.patient_last_name.strip().upper()
    if name and name != last_name.strip().upper():
        return f"the patient named in the payment differs from claim {claim.pms_claim_number}'s"
    return ""


def plan_payments(
    practice_id: int, payer_id: str, claims: list[ParsedClaimPayment], *, lock: bool = False
) -> list[Plan]:
    """Match every claim payment of a file (a few queries for the whole file).

    The claims are model instances without their patient and payer: the two facts matching
    reads of those (the patient's last name, the payer's id) come as plain values of the
    same query, so that a file does not build three instances a claim.
    ``lock``: the claims of the payments' numbers are read ``FOR UPDATE`` (in id order,
    inside the caller's transaction), so that the bulk path posts what was matched
    without reading them again (``Plan.locked``). Every claim of those numbers is then
    locked until the transaction ends, those the file does not post too (a voided twin,
    another payer's claim, a mismatch): a person saving one waits for the file's end.
    A database without row locks (SQLite) takes none, and no plan says it is locked."""
    lock = lock and connections[router.db_for_write(Claim)].features.has_select_for_update
    numbers = {c.patient_control_number for c in claims}
    by_number: dict[str, list[Claim]] = defaultdict(list)
    last_name_of: dict[int, str] = {}
    payer_of: dict[int, str] = {}
    rows = Claim.objects.filter(
        any_of("pms_claim_number", numbers), practice_id=practice_id
    ).annotate(matched_last_name=F("patient__last_name"), matched_payer_id=F("payer__payer_id"))
    if lock:
        rows = rows.select_for_update(of=("self",)).order_by("pk")
    for claim in rows:
        facts = claim.__dict__
        last_name_of[claim.pk] = facts.pop("matched_last_name")
        payer_of[claim.pk] = facts.pop("matched_payer_id")
        by_number[claim.pms_claim_number].append(claim)
    posted: dict[tuple[str, str], list[ClaimPayment]] = defaultdict(list)
    earlier = ClaimPayment.objects.filter(
        any_of("patient_control_number", numbers),
        practice_id=practice_id,
        state=ClaimPaymentState.POSTED,
    ).select_related("claim__patient", "claim__payer", "remittance")
    reversed_ids = set(
        ClaimPayment.objects.filter(
            practice_id=practice_id, reversal_of__isnull=False, state=ClaimPaymentState.POSTED
        ).values_list("reversal_of_id", flat=True)
    )
    for payment in earlier.order_by("-posted_at", "-pk"):
        if payment.status_code != "22" and payment.pk not in reversed_ids:
            posted[(payment.patient_control_number, payment.payer_claim_number)].append(payment)
    plans = []
    for parsed in claims:
        plan = Plan(parsed)
        key = (parsed.patient_control_number, parsed.payer_claim_number)
        if parsed.is_reversal:
            originals = posted.get(key, [])
            if not originals:
                plan.problem = "a reversal of a payment that was not posted here"
            else:
                plan.reversal_of, plan.claim = originals[0], originals[0].claim
        elif posted.get(key):
            first = posted[key][0]
            plan.problem = (
                f"payer claim number {parsed.payer_claim_number or '(none)'} was already "
                f"posted in remittance {first.remittance.trace}"
            )
        else:
            chosen = _choose(by_number.get(parsed.patient_control_number, []), payer_id, payer_of)
            if isinstance(chosen, str):
                plan.problem = chosen
            else:
                plan.claim, plan.locked = chosen, lock
                plan.problem = _mismatch(parsed, chosen, last_name_of[chosen.pk])
        if plan.claim is not None and not plan.problem:
            plan.target = decide(
                parsed.status_code,
                parsed.paid,
                parsed.patient_responsibility,
                parsed_adjustments(parsed),
            )
            if posting_path(plan.claim.status, plan.target) is None:
                plan.problem = (
                    f"claim {plan.claim.pms_claim_number} is "
                    f"{plan.claim.get_status_display().lower()}: a payment cannot be posted to it"
                )
        plans.append(plan)
    return plans
