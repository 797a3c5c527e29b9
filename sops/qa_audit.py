"""The monthly mini-audit: sample last month's denied and delayed claims, record root causes.

``sample_month`` (beat job on the 1st) opens, per active practice, one ``MiniAudit`` of the
previous month with up to ``SAMPLE_SIZE`` claims: *denied* ones (the claim's status moved to
denied during the month: its timeline says so) and *delayed* ones (submitted, not yet
answered, first submitted more than ``DELAYED_AFTER_DAYS`` before the month's end). The
choice is a seeded random one, half of each where both are there; a second run the same
month opens nothing (one audit per practice and month, also in the database).

``mini_audit_record`` stores the root cause (and a note) of some or all of the claims;
the audit is done when every claim has one.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from billing_ops.access import has_perm, holders_by_practice
from claims.choices import ActivityKind, ClaimStatus
from claims.models import Claim, ClaimActivity
from practices import permissions as perms
from practices.choices import Role
from practices.models import Membership, Practice
from sops.choices import BillingFunctionKind, QaStatus
from sops.models import BillingFunction
from sops.qa_audit_models import (
    DELAYED_AFTER_DAYS,
    ROOT_CAUSE_FUNCTION,
    SAMPLE_SIZE,
    AuditReason,
    MiniAudit,
    MiniAuditAction,
    MiniAuditClaim,
    RootCause,
)
from work.services import lock_for_update, save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor

AUDIT_DAYS = 14  # to record the root causes
AWAITING_ANSWER = (ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED, ClaimStatus.IN_ADJUDICATION)
REVIEWER_FUNCTIONS = (BillingFunctionKind.DENIAL_FOLLOW_UP, BillingFunctionKind.CODING_REVIEW)


def previous_month(today: dt.date) -> tuple[str, dt.date, dt.date]:
    """``("2026-11", first day, first day of the next month)`` of the month before today's."""
    end = today.replace(day=1)
    start = (end - dt.timedelta(days=1)).replace(day=1)
    return f"{start:%Y-%m}", start, end


def _reviewer(practice_id: int) -> tuple[BillingFunction | None, int | None]:
    """The denial follow-up (else coding review) function's owner, else the first active
    manager; with the function they review for."""
    functions = {
        f.kind: f
        for f in BillingFunction.objects.filter(
            practice_id=practice_id, kind__in=REVIEWER_FUNCTIONS
        )
    }
    owners = [functions[k].owner_id for k in REVIEWER_FUNCTIONS if k in functions]
    can_see = holders_by_practice(perms.WORK_CLAIMS, [practice_id], owners).get(practice_id)
    for kind in REVIEWER_FUNCTIONS:
        function = functions.get(kind)
        if function is not None and function.owner_id in (can_see or set()):
            return function, function.owner_id
    manager = (
        Membership.objects.filter(
            practice_id=practice_id, role=Role.PRACTICE_MANAGER, is_active=True
        )
        .order_by("pk")
        .values_list("user_id", flat=True)
        .first()
    )
    return None, manager


def _denied(practice: Practice, start: dt.date, end: dt.date) -> list[int]:
    moved = ClaimActivity.objects.filter(
        claim__practice=practice,
        kind=ActivityKind.STATUS,
        data__to=ClaimStatus.DENIED,
        at__date__gte=start,
        at__date__lt=end,
    )
    return sorted(set(moved.values_list("claim_id", flat=True)))


def _delayed(practice: Practice, end: dt.date) -> list[int]:
    cutoff = end - dt.timedelta(days=DELAYED_AFTER_DAYS)
    rows = Claim.objects.filter(
        practice=practice, status__in=AWAITING_ANSWER, first_submitted_at__date__lt=cutoff
    )
    return sorted(rows.values_list("pk", flat=True))


def choose(denied: list[int], delayed: list[int], seed: str) -> list[tuple[int, str]]:
    """Up to ``SAMPLE_SIZE`` claims: half denied, half delayed where both suffice, the
    rest from whichever has more; a claim both denied and delayed counts as denied."""
    delayed = [pk for pk in delayed if pk not in set(denied)]
    rng = random.Random(seed)
    half = SAMPLE_SIZE // 2
    n_denied = min(len(denied), max(half, SAMPLE_SIZE - len(delayed)))
    n_delayed = min(len(delayed), SAMPLE_SIZE - n_denied)
    chosen = [(pk, AuditReason.DENIED.value) for pk in rng.sample(denied, n_denied)]
    chosen += [(pk, AuditReason.DELAYED.value) for pk in rng.sample(delayed, n_delayed)]
    return sorted(chosen)


def sample_month(today: dt.date) -> int:
    """Open last month's mini-audit at every active practice that had denied or delayed
    claims; how many audits it opened (0 on a second run)."""
    month, start, end = previous_month(today)
    opened = 0
    for practice in Practice.objects.filter(is_active=True).order_by("pk"):
        if MiniAudit.objects.filter(practice=practice, month=month).exists():
            continue
        chosen = choose(
            _denied(practice, start, end), _delayed(practice, end), f"audit-{practice.pk}-{month}"
        )
        if not chosen:
            continue
        function, reviewer = _reviewer(practice.pk)
        if reviewer is None:
            continue
        try:
            with transaction.atomic():
                audit = MiniAudit(
                    practice=practice,
                    month=month,
                    function=function,
                    owner_id=reviewer,
                    next_action=MiniAuditAction.AUDIT,
                    next_action_due=today + dt.timedelta(days=AUDIT_DAYS),
                )
                save_checked(audit, None, today)
                MiniAuditClaim.objects.bulk_create(
                    MiniAuditClaim(practice=practice, audit=audit, claim_id=pk, reason=reason)
                    for pk, reason in chosen
                )
        except IntegrityError:  # a concurrent run opened it first
            continue
        opened += 1
    return opened


def may_record(actor: Any, audit: MiniAudit) -> bool:
    return actor is not None and (
        actor.pk == audit.owner_id or has_perm(actor, perms.MANAGE_SOPS, audit.practice_id)
    )


@transaction.atomic
def mini_audit_record(
    *,
    actor: Actor,
    audit: MiniAudit,
    causes: dict[int, dict[str, str]],
    expected_version: int | None = None,
) -> MiniAudit:
    """Root cause (and a note; "other" needs one) of some or all sampled claims, by claim
    id; a cause recorded again is replaced. The audit is done when every claim has one."""
    if not may_record(actor, audit):
        raise PermissionDenied("Only the audit's reviewer or a manager records root causes.")
    audit = lock_for_update(audit, expected_version)
    if not audit.is_open:
        raise ValidationError("This mini-audit is already done.")
    entries = {e.claim_id: e for e in audit.entries.select_for_update()}
    errors: dict[str, str] = {}
    for claim_id, given in causes.items():
        cause, note = given.get("root_cause", ""), str(given.get("note", "")).strip()[:500]
        if claim_id not in entries:
            errors[f"claim_{claim_id}"] = "Not a claim of this audit."
        elif cause not in RootCause.values:
            errors[f"claim_{claim_id}"] = "Choose a root cause."
        elif cause == RootCause.OTHER and not note:
            errors[f"claim_{claim_id}"] = "Say what the root cause was."
    if not causes:
        errors["causes"] = "Record at least one root cause."
    if errors:
        raise ValidationError(errors)
    kinds = {k for k in (ROOT_CAUSE_FUNCTION[c["root_cause"]] for c in causes.values()) if k}
    functions = {
        f.kind: f
        for f in BillingFunction.objects.filter(practice=audit.practice_id, kind__in=kinds)
    }
    now = timezone.now()
    for claim_id, given in causes.items():
        entry = entries[claim_id]
        function = functions.get(ROOT_CAUSE_FUNCTION[given["root_cause"]] or "")
        entry.root_cause = given["root_cause"]
        entry.note = str(given.get("note", "")).strip()[:500]
        entry.function = function
        entry.function_owner_id = function.owner_id if function else None
        entry.recorded_by, entry.recorded_at = actor, now
        entry._history_user = actor  # type: ignore[attr-defined]
        entry.save()
    if all(entry.root_cause for entry in entries.values()):
        audit.status = QaStatus.DONE
        audit.completed_by, audit.completed_at = actor, now
        audit.next_action, audit.next_action_due, audit.wait_reason = "", None, ""
    save_checked(audit, actor)
    return audit
