"""The one way tests make claims: through ``claims.services``, status machine included.

``make_claim(status=...)`` walks the shortest path of ``claims.choices.TRANSITIONS`` with
``claim_transition``; a wanted timely-filing ``deadline`` is reached by the service date
the payer's limit derives it from (re-dated through ``claim_update_from_import`` when the
deadline has passed, which the scrubber would refuse on the way to "ready").
"""

from __future__ import annotations

import datetime as dt
from collections import deque
from decimal import Decimal
from typing import Any

from django.utils import timezone

from claims import services
from claims.choices import TRANSITIONS, UNSUBMITTED_STATUSES, ClaimStatus, NextAction
from claims.models import Claim
from claims.payments import POSTED_STATUSES, claim_record_adjudication

UNSET: Any = object()  # "not given" (None is a value a test may want to pass)


def status_path(to_status: str) -> list[str]:
    """The shortest list of statuses from draft to ``to_status`` (draft excluded)."""
    previous: dict[str, str | None] = {ClaimStatus.DRAFT: None}
    queue = deque([str(ClaimStatus.DRAFT)])
    while queue:
        status = queue.popleft()
        if status == to_status:
            break
        for following in sorted(TRANSITIONS[status]):
            if following not in previous:
                previous[following] = status
                queue.append(following)
    path: list[str] = []
    step: str | None = to_status
    while step is not None and step != ClaimStatus.DRAFT:
        path.append(step)
        step = previous[step]
    return path[::-1]


def walk(claim: Claim, actor: Any, to_status: str) -> Claim:
    """Move a draft claim along the status machine to ``to_status``."""
    for status in status_path(to_status):
        if status in POSTED_STATUSES:  # reached only by posting a payment, with amounts
            claim = post_payment(claim, actor, status)
        else:
            claim = services.claim_transition(actor=actor, claim=claim, to_status=status)
    return claim


def post_payment(claim: Claim, actor: Any, status: str) -> Claim:
    """The payer pays the claim in full ("paid") or half of it ("partially paid")."""
    billed = claim.total_billed
    paid = billed if status == ClaimStatus.PAID else (billed / 2).quantize(Decimal("0.01"))
    return claim_record_adjudication(
        actor=actor,
        claim=claim,
        to_status=status,
        allowed=billed,
        paid=paid,
        patient_responsibility=Decimal("0.00"),
        adjusted=billed - paid,
        note="Test payment.",
        next_action=claim.next_action or NextAction.CALL_PAYER,
        next_action_due=claim.next_action_due or timezone.localdate(),
        wait_reason=claim.wait_reason,
    )


def make(
    *,
    actor: Any,
    patient: Any,
    coverage: Any,
    provider: Any,
    number: str,
    owner: Any,
    status: str | None = None,
    deadline: dt.date | None = None,
    service_date_from: dt.date | None = None,
    lines: list[dict[str, Any]] | None = None,
    next_action: str = NextAction.CORRECT_AND_RESUBMIT,
    next_action_due: Any = UNSET,
    **extra: Any,
) -> Claim:
    """A claim created and moved through the services only."""
    today = timezone.localdate()
    limit = dt.timedelta(days=coverage.payer.timely_filing_days)
    passed = deadline is not None and deadline < today
    if service_date_from is None:
        service_date_from = (
            deadline - limit if deadline and not passed else today - dt.timedelta(days=10)
        )
    lines = lines or [{"procedure_code": "D1110", "charge": Decimal("120.00")}]
    claim = services.claim_create(
        actor=actor,
        patient=patient,
        coverage=coverage,
        provider=provider,
        pms_claim_number=number,
        service_date_from=service_date_from,
        lines=lines,
        owner=owner,
        next_action=next_action,
        next_action_due=today if next_action_due is UNSET else next_action_due,
        **extra,
    )
    if status is not None and status != ClaimStatus.DRAFT:
        claim = walk(claim, actor, status)
    if passed:
        assert claim.status in UNSUBMITTED_STATUSES, "a passed deadline needs an unsent claim"
        claim = services.claim_update_from_import(
            actor=actor,
            claim=claim,
            coverage=coverage,
            provider=provider,
            service_date_from=deadline - limit,
            lines=lines,
            diagnosis_codes=claim.diagnosis_codes,
            other_payer_paid=claim.other_payer_paid,
        )
    claim.refresh_from_db()
    return claim
