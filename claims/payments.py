"""The one way a payer's decision reaches a claim: amounts first, then the status they imply.

``claim_record_adjudication`` is called by remittance posting (835 and paper EOB, in
``ar.services``); "paid" and "partially paid" are reached only through it, never by a bare
status change. Amounts are added (a reversal adds negative ones), so the claim's totals are
always the sum of what was posted to it. A posting writes one timeline entry
(``adjudication_entry``: the status moves, the amounts, the note and the next action).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ValidationError
from django.db import transaction

from claims.choices import FINAL_STATUSES, TRANSITIONS, ActivityKind, ClaimStatus
from claims.models import Claim, ClaimActivity
from claims.timeline import next_action_text
from practices import permissions as perms
from practices.services import require_practice_perm
from work.services import lock_for_update, release_hold, save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor

S = ClaimStatus
# Statuses only a posted payment sets (the claim page and API offer no bare move to them).
POSTED_STATUSES = frozenset({S.PAID, S.PARTIALLY_PAID})
# Moves a payer's answer may make beyond the status machine: a reversal takes a decision
# back (the claim is in adjudication again), and a reprocessed claim may be paid later.
_EXTRA_MOVES: dict[str, frozenset[str]] = {
    S.PAID: frozenset({S.IN_ADJUDICATION}),
    S.PARTIALLY_PAID: frozenset({S.IN_ADJUDICATION, S.PAID}),
    S.DENIED: frozenset({S.IN_ADJUDICATION, S.PAID, S.PARTIALLY_PAID}),
}
# Where a payment may be posted: with the payer, or decided by it.
POSTABLE_STATUSES = frozenset(
    {S.SUBMITTED, S.ACCEPTED, S.IN_ADJUDICATION, S.PAID, S.PARTIALLY_PAID, S.DENIED, S.APPEALED}
)


def posting_path(current: str, to_status: str) -> list[str] | None:
    """The statuses a posting walks from ``current`` to ``to_status`` (empty: stays), or
    None when a payment cannot be posted to a claim in ``current``."""
    if current not in POSTABLE_STATUSES:
        return None
    if current == to_status:
        return []
    if to_status in TRANSITIONS[current] or to_status in _EXTRA_MOVES.get(current, ()):
        return [to_status]
    if current == S.SUBMITTED and to_status in TRANSITIONS[S.ACCEPTED]:
        return [S.ACCEPTED, to_status]  # the payer's answer implies it accepted the claim
    return None


@transaction.atomic
def claim_record_adjudication(
    *,
    actor: Actor,
    claim: Claim,
    to_status: str,
    allowed: Decimal,
    paid: Decimal,
    patient_responsibility: Decimal,
    adjusted: Decimal,
    note: str,
    next_action: str,
    next_action_due: dt.date,
    wait_reason: str = "",
    data: dict[str, Any] | None = None,
) -> Claim:
    """Add a payer's amounts to the claim and move it to the status they imply."""
    require_practice_perm(actor, perms.POST_PAYMENTS, claim.practice)
    claim = lock_for_update(claim, None)
    path = posting_path(claim.status, to_status)
    if path is None:
        raise ValidationError(
            {
                "status": f"A payment cannot be posted to a {claim.get_status_display().lower()} "
                "claim."
            }
        )
    previous = claim.status
    claim.total_allowed += allowed
    claim.total_paid += paid
    claim.patient_responsibility += patient_responsibility
    claim.total_adjusted += adjusted
    if path:
        claim.status = path[-1]
    release_hold(claim, actor)
    if claim.status in FINAL_STATUSES:
        claim.next_action, claim.next_action_due, claim.wait_reason = "", None, ""
    else:
        claim.next_action, claim.next_action_due = next_action, next_action_due
        claim.wait_reason = wait_reason
    save_checked(claim, actor)
    amounts = (allowed, paid, patient_responsibility, adjusted)
    kind, text, entry_data = adjudication_entry(claim, previous, path, amounts, note, data or {})
    ClaimActivity.objects.create(claim=claim, actor=actor, kind=kind, text=text, data=entry_data)
    return claim


def adjudication_entry(
    claim: Claim,
    previous: str,
    path: list[str],
    amounts: tuple[Decimal, Decimal, Decimal, Decimal],
    note: str,
    data: dict[str, Any],
) -> tuple[str, str, dict[str, Any]]:
    """The one timeline entry a posting writes on ``claim`` (already changed): (kind, text,
    data). It says what were once up to four entries said: the status moves (``path`` from
    ``previous``; "Submitted → Accepted → Paid."), the amounts posted, the note, and the
    next action as it now stands. A status entry (``kind`` status, ``data`` "from", "to"
    the status reached, "via" the statuses walked through) when the status moved, an edit
    otherwise; ``data`` also holds "source": "payment" and the caller's ``data``.
    ``amounts``: allowed, paid, patient responsibility, adjusted."""
    allowed, paid, patient, adjusted = amounts
    parts = []
    if path:
        parts.append(" → ".join(S(status).label for status in [previous, *path]) + ".")
    parts.append(
        f"Payment posted: allowed {allowed}, paid {paid}, patient responsibility {patient}, "
        f"adjustments {adjusted}."
    )
    if note:
        parts.append(note)
    if claim.next_action:
        parts.append(next_action_text(claim) + ".")
    entry: dict[str, Any] = {}
    kind = ActivityKind.EDIT
    if path:
        kind = ActivityKind.STATUS
        entry = {"from": previous, "to": path[-1]}
        if len(path) > 1:
            entry["via"] = path[:-1]
    return kind, " ".join(parts), {**entry, "source": "payment", **data}
