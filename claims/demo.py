"""Demo claims for ``manage.py seed_demo`` (and the queue benchmark): a year of work.

``seed_claims`` gives a practice ~1,500 claims over the last twelve months in every
status, with a weighted payer mix, lines in the practice's codes, money that adds up,
first-submission flags, follow-ups, an activity timeline and a stored priority. Open
claims keep the next-action invariant (owner, next action, due date; "wait" has a
reason) so they land in the owners' queues; about one in six is due today or overdue,
which fills "My day".

Everything is built in memory from one ``random.Random`` and written with
``bulk_create`` in batches (with history for claims and lines, by the system actor).
Claim numbers are ``<initials>-000001``... in date-of-service order; a claim whose number
exists is left alone, so a second run creates nothing.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import DateTimeField
from django.utils import timezone
from simple_history.utils import bulk_create_with_history

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
from practices import permissions as perms
from practices.choices import CobOrder, PracticeKind
from practices.models import Coverage, FeeScheduleLine, Practice, PracticeUserPermission

S = ClaimStatus
A = NextAction
CENT = Decimal("0.01")
ZERO = Decimal("0.00")
CLAIMS_PER_PRACTICE = 1500
BATCH_SIZE = 5000

# Share of claims per status (percent); closed dominates a year of history.
STATUS_WEIGHTS: dict[str, int] = {
    S.DRAFT: 6,
    S.READY: 3,
    S.SUBMITTED: 7,
    S.ACCEPTED: 5,
    S.REJECTED: 4,
    S.IN_ADJUDICATION: 10,
    S.PAID: 6,
    S.PARTIALLY_PAID: 5,
    S.DENIED: 7,
    S.APPEALED: 3,
    S.CLOSED: 40,
    S.VOID: 4,
}
# Days from the date of service to today, by status.
AGE_DAYS: dict[str, tuple[int, int]] = {
    S.DRAFT: (0, 25),
    S.READY: (1, 10),
    S.SUBMITTED: (2, 21),
    S.ACCEPTED: (5, 35),
    S.REJECTED: (3, 45),
    S.IN_ADJUDICATION: (12, 120),
    S.PAID: (18, 90),
    S.PARTIALLY_PAID: (20, 150),
    S.DENIED: (20, 200),
    S.APPEALED: (50, 300),
    S.CLOSED: (30, 364),
    S.VOID: (3, 364),
}
# Weighted payer mix by electronic payer id (unknown payers weigh 10).
PAYER_WEIGHTS: dict[str, int] = {
    "DDPA1": 40,  # Delta Dental
    "65978": 25,  # MetLife
    "62308": 20,  # Cigna
    "64246": 15,  # Guardian
    "BCBS1": 35,
    "87726": 25,  # UnitedHealthcare
    "60054": 20,  # Aetna
    "MCRB1": 20,  # Medicare Part B
}
# Who owns the work, per practice (users able to work claims there; unknown users weigh 10).
OWNER_WEIGHTS: dict[str, dict[str, int]] = {
    "sunrise-dental": {
        "bill.biller": 40,
        "vera.vendor": 40,
        "val.vendorlead": 12,
        "sam.manager": 8,
    },
    "maple-family-medicine": {"val.vendorlead": 65, "mia.manager": 35},
}
DUE_TODAY_SHARE = 0.07
OVERDUE_SHARE = 0.11

NEXT_ACTIONS: dict[str, list[tuple[str, int]]] = {
    S.DRAFT: [
        (A.CORRECT_AND_RESUBMIT, 5),
        (A.REQUEST_INFO_PRACTICE, 3),
        (A.REQUEST_INFO_PATIENT, 2),
    ],
    S.READY: [(A.WAIT, 1)],
    S.SUBMITTED: [(A.WAIT, 1)],
    S.ACCEPTED: [(A.WAIT, 6), (A.CALL_PAYER, 2)],
    S.REJECTED: [
        (A.CORRECT_AND_RESUBMIT, 6),
        (A.REQUEST_INFO_PRACTICE, 2),
        (A.REQUEST_INFO_PATIENT, 2),
    ],
    S.IN_ADJUDICATION: [(A.WAIT, 5), (A.CALL_PAYER, 4), (A.REQUEST_INFO_PRACTICE, 1)],
    S.PAID: [(A.POST_AND_CLOSE, 1)],
    S.PARTIALLY_PAID: [
        (A.APPEAL, 3),
        (A.CALL_PAYER, 2),
        (A.POST_AND_CLOSE, 3),
        (A.REQUEST_INFO_PATIENT, 1),
    ],
    S.DENIED: [
        (A.APPEAL, 4),
        (A.CALL_PAYER, 2),
        (A.REQUEST_INFO_PRACTICE, 3),
        (A.POST_AND_CLOSE, 1),
    ],
    S.APPEALED: [(A.WAIT, 6), (A.CALL_PAYER, 3)],
}
WAIT_REASONS: dict[str, list[str]] = {
    S.READY: ["tonight's clearinghouse batch", "the provider's signature on the batch"],
    S.SUBMITTED: ["the clearinghouse acknowledgement (277CA)", "payer acceptance of the batch"],
    S.ACCEPTED: ["the payer's decision (accepted, not yet in process)"],
    S.IN_ADJUDICATION: [
        "the payer's decision; portal shows in process",
        "records the payer requested from the practice",
        "the payer's medical review",
    ],
    S.APPEALED: ["the level 1 appeal decision", "the payer's reconsideration"],
}
STATUS_NOTES: dict[str, list[str]] = {
    S.SUBMITTED: ["Sent in the daily 837 batch."],
    S.ACCEPTED: ["277CA: accepted by the payer."],
    S.REJECTED: [
        "277CA A7/562: subscriber id not found.",
        "277CA A7/255: diagnosis pointer invalid.",
        "Clearinghouse: rendering provider NPI missing.",
    ],
    S.IN_ADJUDICATION: ["Payer portal: claim in process."],
    S.PAID: ["835 posted: paid as billed less contractual adjustment."],
    S.PARTIALLY_PAID: ["835 posted: paid in part (CO-45, PR-2)."],
    S.DENIED: [
        "835: CO-197 authorization absent.",
        "835: CO-16 missing information.",
        "835: CO-50 not medically necessary.",
        "835: CO-29 timely filing.",
        "835: CO-22 other coverage primary.",
        "835: PR-119 benefit maximum reached.",
    ],
    S.APPEALED: ["Level 1 appeal sent with narrative and records."],
    S.CLOSED: ["Balance resolved; claim closed."],
    S.VOID: ["Duplicate of another PMS claim; voided."],
}
# Who moves a claim into a status: the owner, or the payer/clearinghouse (no actor).
PAYER_DRIVEN = frozenset(
    {S.ACCEPTED, S.REJECTED, S.IN_ADJUDICATION, S.PAID, S.PARTIALLY_PAID, S.DENIED}
)
FOLLOW_UPS: dict[str, tuple[int, int]] = {
    S.ACCEPTED: (0, 1),
    S.IN_ADJUDICATION: (0, 3),
    S.PAID: (0, 1),
    S.PARTIALLY_PAID: (0, 2),
    S.DENIED: (0, 2),
    S.APPEALED: (1, 4),
    S.CLOSED: (0, 2),
}
FOLLOW_UP_OUTCOMES = [
    ("Claim on file, in process; decision expected within 14 days.", "Recheck the portal"),
    ("Payer needs the clinical notes for the service.", "Ask the practice for records"),
    ("Claim processed; EOB mailed last week.", "Look for the ERA and post"),
    ("Rep could not find the claim; sent the clearinghouse report.", "Recheck in 7 days"),
]
APPEAL_OUTCOMES = [
    ("Rep confirmed the appeal was received.", "Recheck in 30 days"),
    ("Appeal under review; no decision yet.", "Recheck the portal in 14 days"),
]
REPS = ["Ana", "Brian", "Carla", "Dev", "Erin", "Femi", "Gina", "Hal"]
DIAGNOSES = [
    "Z0000",
    "I10",
    "E119",
    "E785",
    "J069",
    "J029",
    "Z23",
    "R519",
    "M5450",
    "N390",
    "K219",
    "R509",
]
# Usual charges when the fee schedule has no line for a code.
DEFAULT_CHARGES: dict[str, Decimal] = {
    "D0120": Decimal("65"),
    "D1110": Decimal("120"),
    "D0274": Decimal("85"),
    "D2392": Decimal("210"),
    "D2740": Decimal("1250"),
    "D4341": Decimal("260"),
    "99213": Decimal("130"),
    "99214": Decimal("190"),
    "99395": Decimal("240"),
    "36415": Decimal("20"),
    "81002": Decimal("15"),
    "90686": Decimal("45"),
}
POSTERIOR_TEETH = [2, 3, 4, 5, 12, 13, 14, 15, 18, 19, 20, 21, 28, 29, 30, 31]
ANTERIOR_TEETH = [6, 7, 8, 9, 10, 11, 22, 23, 24, 25, 26, 27]


@dataclass
class _Context:
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


@dataclass
class _Built:
    claims: list[Claim] = field(default_factory=list)
    lines: list[ClaimLine] = field(default_factory=list)
    activities: list[ClaimActivity] = field(default_factory=list)


def prefix_for(practice: Practice) -> str:
    """Claim-number prefix: the initials of the practice's first two words ("SD", "MF")."""
    words = [w for w in practice.name.split() if w[:1].isalnum()] or [practice.slug]
    return "".join(w[0] for w in words[:2]).upper()


def claim_number(prefix: str, n: int) -> str:
    return f"{prefix}-{n:06d}"


def seed_claims(
    practice: Practice,
    users: dict[str, Any],
    rng: random.Random,
    *,
    count: int = CLAIMS_PER_PRACTICE,
    today: dt.date | None = None,
    batch_size: int = BATCH_SIZE,
) -> int:
    """Give ``practice`` ``count`` demo claims (numbers 1..count); returns how many were new.

    ``users`` maps usernames to users; those holding work_claims on the practice own the
    claims. Call inside a transaction; the same ``rng`` seed gives the same claims.
    """
    prefix = prefix_for(practice)
    existing = set(
        Claim.objects.filter(
            practice=practice, pms_claim_number__startswith=f"{prefix}-"
        ).values_list("pms_claim_number", flat=True)
    )
    if all(claim_number(prefix, n) in existing for n in range(1, count + 1)):
        return 0
    ctx = _context(practice, users, prefix, today or timezone.localdate())
    if ctx is None:
        return 0
    # First the status, payer and age of every claim, so numbers follow the date of service.
    outline = [_outline(ctx, rng) for _ in range(count)]
    order = sorted(range(count), key=lambda i: (-outline[i][2], i))
    created = 0
    built = _Built()
    for n, index in enumerate(order, start=1):
        status, payer, age = outline[index]
        number = claim_number(prefix, n)
        # Always draw, so a claim's details never depend on which others exist.
        parts = _claim(ctx, rng, number, status, payer, age)
        if number in existing:
            continue
        claim, lines, activities = parts
        built.claims.append(claim)
        built.lines.extend(lines)
        built.activities.extend(activities)
        if len(built.claims) >= batch_size:
            created += _write(built, batch_size)
            built = _Built()
    return created + _write(built, batch_size)


def _context(
    practice: Practice, users: dict[str, Any], prefix: str, today: dt.date
) -> _Context | None:
    coverages = list(
        Coverage.objects.filter(practice=practice)
        .select_related("patient", "payer")
        .order_by("patient__account_number", "cob_order", "pk")
    )
    primaries: dict[int, list[Coverage]] = {}
    secondaries = []
    for coverage in coverages:
        if coverage.cob_order == CobOrder.PRIMARY:
            primaries.setdefault(coverage.payer_id, []).append(coverage)
        else:
            secondaries.append(coverage)
    payers = [p for p in practice.payers.order_by("payer_id") if p.pk in primaries]
    providers = list(practice.providers.order_by("npi"))
    can_work = set(
        PracticeUserPermission.objects.filter(
            content_object=practice, permission__codename=perms.WORK_CLAIMS
        ).values_list("user_id", flat=True)
    )
    weights = OWNER_WEIGHTS.get(practice.slug, {})
    owners = [(name, u) for name, u in sorted(users.items()) if u.pk in can_work]
    if not (payers and providers and owners):
        return None
    fees: dict[tuple[int, str], Decimal] = {}
    for payer_id, code, amount in FeeScheduleLine.objects.filter(
        practice=practice, modifier=""
    ).values_list("payer_id", "procedure_code", "allowed_amount"):
        fees[(payer_id, code)] = amount
    codes = sorted({code for _payer, code in fees}) or sorted(
        c for c in DEFAULT_CHARGES if c.startswith("D") == (practice.kind == PracticeKind.DENTAL)
    )
    return _Context(
        practice=practice,
        prefix=prefix,
        dental=practice.kind == PracticeKind.DENTAL,
        payers=payers,
        payer_weights=[PAYER_WEIGHTS.get(p.payer_id, 10) for p in payers],
        primaries=primaries,
        secondaries=secondaries,
        providers=providers,
        codes=codes,
        fees=fees,
        owners=[u for _name, u in owners],
        owner_weights=[weights.get(name, 10) for name, _u in owners],
        today=today,
        now=timezone.now(),
        tz=timezone.get_current_timezone(),
    )


def _outline(ctx: _Context, rng: random.Random) -> tuple[str, Any, int]:
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    payer = rng.choices(ctx.payers, weights=ctx.payer_weights)[0]
    low, high = AGE_DAYS[status]
    age = rng.randint(low, high)
    if status == S.DRAFT and rng.random() < 0.1:
        # A forgotten draft near (or past) the payer's timely-filing limit.
        age = min(max(payer.timely_filing_days - rng.randint(-10, 40), 0), 364)
    return status, payer, age


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
    ctx: _Context, rng: random.Random, payer: Any, service: dt.date
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


def _at(ctx: _Context, day: dt.date, rng: random.Random) -> dt.datetime:
    moment = dt.datetime.combine(
        day, dt.time(rng.randint(8, 17), rng.randint(0, 59)), tzinfo=ctx.tz
    )
    return min(moment, ctx.now - dt.timedelta(minutes=5))


def _claim(
    ctx: _Context, rng: random.Random, number: str, status: str, payer: Any, age: int
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


@contextmanager
def _explicit_timestamps(*fields: DateTimeField) -> Iterator[None]:
    """Let bulk_create keep the historical timestamps we set (no auto_now/auto_now_add)."""
    saved = [(f, f.auto_now, f.auto_now_add) for f in fields]
    for f in fields:
        f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def _write(built: _Built, batch_size: int) -> int:
    if not built.claims:
        return 0
    stamps = [
        Claim._meta.get_field("created_at"),
        Claim._meta.get_field("updated_at"),
        ClaimActivity._meta.get_field("at"),
    ]
    with transaction.atomic(), _explicit_timestamps(*stamps):  # type: ignore[arg-type]
        bulk_create_with_history(
            built.claims, Claim, batch_size=batch_size, default_change_reason="Demo data"
        )
        for line in built.lines:
            line.claim_id = line.claim.pk
        bulk_create_with_history(
            built.lines, ClaimLine, batch_size=batch_size, default_change_reason="Demo data"
        )
        for activity in built.activities:
            activity.claim_id = activity.claim.pk
        ClaimActivity.objects.bulk_create(built.activities, batch_size=batch_size)
    return len(built.claims)
