"""One demo claim in memory: its walk through the status machine, lines, money, next
action and activity timeline, all drawn from one ``random.Random``.

Nothing here touches the database; ``demo.claims`` gathers the context and writes.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from claims.choices import (
    FINAL_STATUSES,
    TRANSITIONS,
    ActivityKind,
    ClaimStatus,
    FollowUpChannel,
    NextAction,
)
from claims.models import Claim, ClaimActivity, ClaimLine
from claims.priority import compute
from demo.claim_mix import (
    ANTERIOR_TEETH,
    APPEAL_OUTCOMES,
    DEFAULT_CHARGES,
    DIAGNOSES,
    DUE_TODAY_SHARE,
    FOLLOW_UP_OUTCOMES,
    FOLLOW_UPS,
    NEXT_ACTIONS,
    OVERDUE_SHARE,
    PAYER_DRIVEN,
    POSTERIOR_TEETH,
    REPS,
    STATUS_NOTES,
    WAIT_REASONS,
)
from practices.choices import CobOrder
from practices.models import Coverage, Practice

S = ClaimStatus
A = NextAction
CENT = Decimal("0.01")
ZERO = Decimal("0.00")


@dataclass
class Context:
    """What one practice's claims are drawn from."""

    practice: Practice
    prefix: str
    dental: bool
    payers: list[Any]
    payer_weights: list[int]
    primaries: dict[int, list[Coverage]]
    secondaries: list[Coverage]
    providers: list[Any]
    codes: list[str]
    fees: dict[tuple[int, str], Decimal]
    owners: list[Any]
    owner_weights: list[int]
    today: dt.date
    now: dt.datetime
    tz: Any = field(default=None)


def _path(status: str, rng: random.Random) -> list[str]:
    """A valid walk through TRANSITIONS from draft to ``status``."""
    to_payer = [S.DRAFT, S.READY, S.SUBMITTED]
    accepted = [*to_payer, S.ACCEPTED]
    adjudicating = [*accepted, S.IN_ADJUDICATION] if rng.random() < 0.7 else accepted
    if status == S.CLOSED:
        outcome = rng.choices(
            ["paid", "partial", "denied", "appeal_paid", "appeal_denied"],
            weights=[75, 10, 8, 4, 3],
        )[0]
        path = {
            "paid": [*adjudicating, S.PAID],
            "partial": [*adjudicating, S.PARTIALLY_PAID],
            "denied": [*adjudicating, S.DENIED],
            "appeal_paid": [*adjudicating, S.DENIED, S.APPEALED, S.PAID],
            "appeal_denied": [*adjudicating, S.DENIED, S.APPEALED, S.DENIED],
        }[outcome] + [S.CLOSED]
    elif status == S.VOID:
        path = rng.choice([[S.DRAFT], [S.DRAFT, S.READY], [*to_payer, S.REJECTED]]) + [S.VOID]
    elif status == S.APPEALED:
        path = [*adjudicating, rng.choice([S.DENIED, S.DENIED, S.PARTIALLY_PAID]), S.APPEALED]
    elif status in (S.PAID, S.PARTIALLY_PAID, S.DENIED):
        path = [*adjudicating, status]
    else:
        path = {
            S.DRAFT: [S.DRAFT],
            S.READY: [S.DRAFT, S.READY],
            S.SUBMITTED: to_payer,
            S.ACCEPTED: accepted,
            S.REJECTED: [*to_payer, S.REJECTED],
            S.IN_ADJUDICATION: [*accepted, S.IN_ADJUDICATION],
        }[status]
    # Some claims were rejected once, fixed and sent again.
    resubmittable = S.SUBMITTED in path or status in (S.DRAFT, S.READY)
    if resubmittable and status != S.REJECTED and rng.random() < 0.08:
        path = [S.DRAFT, S.READY, S.SUBMITTED, S.REJECTED, *path]
    for before, after in zip(path, path[1:], strict=False):
        assert after in TRANSITIONS[before], (before, after)
    return path


def _lines(
    ctx: Context, rng: random.Random, payer: Any, service: dt.date
) -> tuple[list[str], list[tuple[ClaimLine, Decimal]]]:
    count = min(rng.choices([1, 2, 3, 4], weights=[40, 30, 20, 10])[0], len(ctx.codes))
    codes = rng.sample(ctx.codes, count)
    diagnoses: list[str] = []
    if not ctx.dental:
        diagnoses = rng.sample(DIAGNOSES, rng.choices([1, 2, 3, 4], weights=[45, 30, 15, 10])[0])
    lines = []
    for number, code in enumerate(codes, start=1):
        fee = ctx.fees.get((payer.pk, code)) or DEFAULT_CHARGES.get(code) or Decimal("150")
        charge = (fee * Decimal(rng.randrange(115, 161)) / 100).quantize(CENT)
        tooth, surfaces, modifiers, pointers = "", "", [], []
        if ctx.dental and code[:2] in ("D2", "D3", "D6", "D7"):
            restorative = code[:3] in ("D21", "D23")
            tooth = str(
                rng.choice(POSTERIOR_TEETH if restorative else ANTERIOR_TEETH + POSTERIOR_TEETH)
            )
            if restorative:
                n = int(code[-1]) if code[-1] in "1234" else rng.randint(1, 3)
                picked = set(rng.sample("MODBL", n))
                surfaces = "".join(s for s in "MODBL" if s in picked)
        if diagnoses:
            k = rng.randint(1, min(len(diagnoses), 4))
            pointers = sorted(rng.sample(range(1, len(diagnoses) + 1), k))
            if code.startswith("992") and count > 1 and rng.random() < 0.5:
                modifiers = ["25"]
        line = ClaimLine(
            line_number=number,
            procedure_code=code,
            modifiers=modifiers,
            diagnosis_pointers=pointers,
            tooth=tooth,
            surfaces=surfaces,
            units=Decimal("1"),
            charge=charge,
            service_date=service,
        )
        lines.append((line, min(fee.quantize(CENT), charge)))
    return diagnoses, lines


def _money(
    rng: random.Random, path: list[str], billed: Decimal, fee_allowed: Decimal, dental: bool
) -> dict[str, Decimal]:
    """Allowed, paid, patient responsibility and adjustments after the claim's last decision."""
    totals = {
        "total_allowed": ZERO,
        "total_paid": ZERO,
        "patient_responsibility": ZERO,
        "total_adjusted": ZERO,
    }
    decisions = [s for s in path if s in (S.PAID, S.PARTIALLY_PAID, S.DENIED)]
    closed = path[-1] == S.CLOSED
    if not decisions:
        return totals
    decision = decisions[-1]
    if decision == S.DENIED:
        if closed:  # written off
            totals["total_adjusted"] = billed
        return totals
    coinsurance = Decimal(rng.choice([0, 20, 20, 50] if dental else [0, 10, 20])) / 100
    share = Decimal(1) if decision == S.PAID else Decimal(rng.randrange(35, 81)) / 100
    allowed = (fee_allowed * share).quantize(CENT)
    patient = (allowed * coinsurance).quantize(CENT)
    paid = allowed - patient
    adjusted = (billed * share).quantize(CENT) - allowed  # contractual
    if closed:  # the unpaid insurance balance is written off
        adjusted = billed - paid - patient
    totals.update(
        total_allowed=allowed,
        total_paid=paid,
        patient_responsibility=patient,
        total_adjusted=max(adjusted, ZERO),
    )
    return totals


def _at(ctx: Context, day: dt.date, rng: random.Random) -> dt.datetime:
    moment = dt.datetime.combine(
        day, dt.time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=ctx.tz
    )
    return min(moment, ctx.now - dt.timedelta(minutes=5))


def build_claim(
    ctx: Context, rng: random.Random, number: str, status: str, payer: Any, age: int
) -> tuple[Claim, list[ClaimLine], list[ClaimActivity]]:
    other_payer_paid = None
    if ctx.secondaries and rng.random() < 0.04:
        coverage = rng.choice(ctx.secondaries)
    else:
        coverage = rng.choice(ctx.primaries[payer.pk])
    payer = coverage.payer
    service = ctx.today - dt.timedelta(days=age)
    created_at = _at(ctx, service + dt.timedelta(days=rng.randint(0, min(age, 2))), rng)
    diagnoses, priced = _lines(ctx, rng, payer, service)
    billed = sum((line.charge for line, _fee in priced), ZERO)
    if coverage.cob_order != CobOrder.PRIMARY:
        other_payer_paid = (billed * Decimal(rng.randrange(30, 71)) / 100).quantize(CENT)
    path = _path(status, rng)
    owner = rng.choices(ctx.owners, weights=ctx.owner_weights)[0]
    money = _money(rng, path, billed, sum((fee for _l, fee in priced), ZERO), ctx.dental)

    # Next action (open claims only).
    is_open = status not in FINAL_STATUSES
    next_action, due, wait_reason = "", None, ""
    if is_open:
        actions = NEXT_ACTIONS[status]
        next_action = rng.choices([a for a, _w in actions], weights=[w for _a, w in actions])[0]
        if next_action == A.WAIT:
            wait_reason = rng.choice(WAIT_REASONS[status])
        roll = rng.random()
        if roll < DUE_TODAY_SHARE:
            due = ctx.today
        elif roll < DUE_TODAY_SHARE + OVERDUE_SHARE:
            due = max(ctx.today - dt.timedelta(days=rng.randint(1, 21)), created_at.date())
        else:
            due = ctx.today + dt.timedelta(days=rng.randint(1, 30))

    # Timeline: created, imported as draft, each transition, follow-ups, the next action.
    lo, hi = FOLLOW_UPS.get(status, (0, 0))
    follow_ups = rng.randint(lo, hi) if S.ACCEPTED in path else 0
    span = (ctx.now - created_at).total_seconds()
    end = created_at + dt.timedelta(seconds=span * rng.uniform(0.55, 0.97))
    moves = list(zip(path, path[1:], strict=False))
    move_times = sorted(created_at + (end - created_at) * rng.random() for _ in moves)
    # Follow-ups happen once the payer has the claim (after its last acceptance).
    accepted_at = max(
        (at for (_b, after), at in zip(moves, move_times, strict=True) if after == S.ACCEPTED),
        default=created_at,
    )
    follow_times = sorted(
        accepted_at + (end - accepted_at) * rng.random() for _ in range(follow_ups)
    )

    lines = [line for line, _fee in priced]
    claim = Claim(
        practice=ctx.practice,
        patient=coverage.patient,
        coverage=coverage,
        payer=payer,
        provider=rng.choice(ctx.providers),
        pms_claim_number=number,
        claim_format=payer.claim_format,
        service_date_from=service,
        service_date_to=service,
        diagnosis_codes=diagnoses,
        status=status,
        owner=owner,
        next_action=next_action,
        next_action_due=due,
        wait_reason=wait_reason,
        total_billed=billed,
        other_payer_paid=other_payer_paid,
        timely_filing_deadline=service + dt.timedelta(days=payer.timely_filing_days),
        follow_up_count=follow_ups,
        created_at=created_at,
        updated_at=end if moves or follow_ups or is_open else created_at,
        version=1 + len(moves) + follow_ups + (1 if is_open else 0),
        **money,
    )
    _submission_flags(claim, path, move_times, rng)
    for line in lines:
        line.claim = claim
    claim.priority = compute(claim, ctx.today).score

    activities = [
        ClaimActivity(
            claim=claim,
            kind=ActivityKind.CREATED,
            actor=None,
            at=created_at,
            text=f"Created with {len(lines)} line(s).",
            data={"source": "pms"},
        ),
        ClaimActivity(
            claim=claim,
            kind=ActivityKind.STATUS,
            actor=None,
            at=created_at,
            text="Imported from the PMS as Draft.",
            data={"from": None, "to": S.DRAFT},
        ),
    ]
    for (before, after), at in zip(moves, move_times, strict=True):
        text = f"{S(before).label} → {S(after).label}."
        if after in STATUS_NOTES:
            text += " " + rng.choice(STATUS_NOTES[after])
        activities.append(
            ClaimActivity(
                claim=claim,
                kind=ActivityKind.STATUS,
                actor=None if after in PAYER_DRIVEN else owner,
                at=at,
                text=text,
                data={"from": before, "to": after},
            )
        )
    outcomes = FOLLOW_UP_OUTCOMES + (APPEAL_OUTCOMES if S.APPEALED in path else [])
    for at in follow_times:
        outcome, next_step = rng.choice(outcomes)
        channel = rng.choices([FollowUpChannel.PHONE, FollowUpChannel.PORTAL], weights=[3, 2])[0]
        contact = f"{payer.name} provider services"
        if channel == FollowUpChannel.PHONE:
            contact += f", rep {rng.choice(REPS)}"
        activities.append(
            ClaimActivity(
                claim=claim,
                kind=ActivityKind.FOLLOW_UP,
                actor=owner,
                at=at,
                text=outcome,
                channel=channel,
                contact=contact,
                outcome=outcome,
                next_step=next_step,
            )
        )
    if is_open:
        assert due is not None
        text = f"Next: {NextAction(next_action).label}, due {due:%m/%d/%Y}"
        if wait_reason:
            text += f" (waiting for {wait_reason})"
        activities.append(
            ClaimActivity(
                claim=claim,
                kind=ActivityKind.NEXT_ACTION,
                actor=owner,
                at=end,
                text=text,
                data={"next_action": next_action, "due": due.isoformat()},
            )
        )
    return claim, lines, activities


def _submission_flags(
    claim: Claim, path: list[str], times: list[dt.datetime], rng: random.Random
) -> None:
    moves = list(zip(path, path[1:], strict=False))
    submitted = [i for i, (_b, after) in enumerate(moves) if after == S.SUBMITTED]
    claim.submission_count = len(submitted)
    if not submitted:
        return
    first = submitted[0]
    claim.first_submitted_at = times[first]
    answer = moves[first + 1][1] if first + 1 < len(moves) else None
    if answer in (S.ACCEPTED, S.REJECTED):
        claim.accepted_on_first_submission = answer == S.ACCEPTED
    clean_odds = 0.3 if answer == S.REJECTED else 0.93
    claim.clean_at_first_submission = rng.random() < clean_odds
