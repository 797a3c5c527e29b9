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

from claims.choices import ClaimStatus
from claims.models import Claim, ClaimActivity, ClaimLine
from demo.claim_builder import Context, build_claim
from demo.claim_mix import AGE_DAYS, DEFAULT_CHARGES, OWNER_WEIGHTS, PAYER_WEIGHTS, STATUS_WEIGHTS
from practices import permissions as perms
from practices.choices import CobOrder, PracticeKind
from practices.models import Coverage, FeeScheduleLine, Practice, PracticeUserPermission

S = ClaimStatus
CLAIMS_PER_PRACTICE = 1500
BATCH_SIZE = 5000


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
        parts = build_claim(ctx, rng, number, status, payer, age)
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
) -> Context | None:
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
    return Context(
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


def _outline(ctx: Context, rng: random.Random) -> tuple[str, Any, int]:
    status = rng.choices(list(STATUS_WEIGHTS), weights=list(STATUS_WEIGHTS.values()))[0]
    payer = rng.choices(ctx.payers, weights=ctx.payer_weights)[0]
    low, high = AGE_DAYS[status]
    age = rng.randint(low, high)
    if status == S.DRAFT and rng.random() < 0.1:
        # A forgotten draft near (or past) the payer's timely-filing limit.
        age = min(max(payer.timely_filing_days - rng.randint(-10, 40), 0), 364)
    return status, payer, age


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
