"""Writes for denials: opening one (by hand or from an 835), mapping codes to a category,
choosing the owner, and the work on it (correct and resubmit, records, write-off, close).

Every service records the actor, locks the denial (``work.services.lock_for_update``) and
ends with ``save_checked``. One thing, one row: while a denial is open it carries the next
action and its claim waits on it ("denial D-12 is being worked"); closing the denial gives
the claim its next action back (``docs/work-items.md``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from billing_ops.access import has_perm, holders
from claims.choices import NextAction as ClaimNextAction
from claims.models import Claim, ClaimLine
from claims.services import claim_set_next_action
from denials import approvals, codes, loop
from denials.choices import (
    ActivityKind,
    CodeKind,
    DenialCategory,
    DenialStatus,
    GroupCode,
    Outcome,
    RootCause,
    Route,
    Source,
    WriteOffStatus,
)
from denials.models import CategoryRule, Denial, DenialActivity, ReasonCode, WriteOffRequest
from practices import permissions as perms
from practices.selectors import approval_thresholds
from work.choices import WAIT
from work.functions import function_holders
from work.services import lock_for_update, release_hold, save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor

DENIAL_FOLLOW_UP = "denial_follow_up"  # sops.choices.BillingFunctionKind
CLAIM_FOLLOW_UP = "claim_follow_up"
# The first next action is due this many days after the denial is opened (never after
# the appeal deadline).
FIRST_ACTION_DAYS = 3


def require_denial_perm(actor: Actor, practice_id: int) -> None:
    """Refuse unless the actor (None: the system, e.g. 835 posting) may work denials there."""
    if actor is not None and not has_perm(actor, perms.WORK_CLAIMS, practice_id):
        raise PermissionDenied("You may not work denials at this practice.")


def money(value: Any, field: str = "amount") -> Decimal:
    try:
        amount = Decimal(str(value)).quantize(Decimal("0.01"))
    except (InvalidOperation, ArithmeticError):
        raise ValidationError({field: f"{value!r} is not an amount of money."}) from None
    if not amount.is_finite():
        raise ValidationError({field: f"{value!r} is not an amount of money."})
    return amount


def activity(denial: Denial, actor: Actor, kind: str, text: str) -> DenialActivity:
    return DenialActivity.objects.create(denial=denial, actor=actor, kind=kind, text=text)


def log_activity(denial: Denial, actor: Actor, kind: str, text: str) -> None:
    """The denial's timeline entry for a work-core change (next action, owner, bulk)."""
    activity(denial, actor, kind if kind in ActivityKind.values else ActivityKind.EDIT, text)


def categorize(*, practice_id: int, payer_id: int, carc: str) -> tuple[str, str]:
    """(category, route) of a CARC at a practice: the payer's override, else the practice's
    rule, else our default table; a rule without a route takes its category's."""
    rule = (
        CategoryRule.objects.filter(practice_id=practice_id, carc=carc)
        .filter(Q(payer_id=payer_id) | Q(payer__isnull=True))
        .order_by("payer_id")  # NULLs last on PostgreSQL and first on SQLite: sorted below
        .values_list("payer_id", "category", "route")
    )
    rows = sorted(rule, key=lambda row: row[0] is None)
    category = rows[0][1] if rows else codes.default_category(carc)
    route = (rows[0][2] if rows else "") or codes.GUIDANCE[category].route
    return category, route


def appeal_window_days(claim: Claim) -> int:
    """The payer's appeal window (``Payer.appeal_window_days``, 180 unless a manager set it)."""
    return int(claim.payer.appeal_window_days)


def choose_owner(claim: Claim, actor: Actor) -> Any:
    """Who owns a new denial: the practice's denial follow-up owner (or backup), else the
    claim follow-up owner (or backup), else the claim's owner, else the actor: the first of
    them who is active and may work denials at the practice (else anybody who may)."""
    practice_id = claim.practice_id
    candidates = [
        *function_holders(practice_id, DENIAL_FOLLOW_UP),
        *function_holders(practice_id, CLAIM_FOLLOW_UP),
    ]
    if claim.owner_id is not None:
        candidates.append(claim.owner_id)
    if actor is not None:
        candidates.append(actor.pk)
    users = get_user_model().objects.in_bulk(set(candidates))
    for user_id in candidates:
        user = users.get(user_id)
        if user is not None and user.is_active and has_perm(user, perms.WORK_CLAIMS, practice_id):
            return user
    # Nobody named can: the first of the practice's people who can (an 835 posted by the
    # system must not fail on a departed claim owner); the Unassigned view shows it.
    fallback = holders(perms.WORK_CLAIMS, practice_id).order_by("pk").first()
    if fallback is not None:
        return fallback
    raise ValidationError(
        {"owner": "Nobody can work denials at this practice: set its denial follow-up owner."}
    )


def _clean_codes(group_code: str, carc: str, rarcs: Iterable[str]) -> tuple[str, str, list[str]]:
    group = str(group_code).strip().upper()
    if group not in GroupCode.values:
        raise ValidationError({"group_code": f"{group_code!r} is not a CAS group code."})
    code = str(carc).strip().upper()
    if not code or len(code) > 10 or not code.isalnum():
        raise ValidationError({"carc": f"{carc!r} is not a reason code."})
    remarks = []
    for remark in rarcs:
        value = str(remark).strip().upper()
        if not value or len(value) > 10 or not value.isalnum():
            raise ValidationError({"rarcs": f"{remark!r} is not a remark code."})
        if value not in remarks:
            remarks.append(value)
    return group, code, remarks


def _wait_claim_on(denial: Denial, actor: Actor) -> None:
    """The claim leaves the queues while the denial is worked (one thing, one row)."""
    claim = denial.claim
    if not claim.is_open or denial.next_action_due is None:
        return
    # Rechecked at the appeal deadline (or the denial's own due date, if later): until then
    # the denial carries the work and the claim stays out of My day.
    claim_set_next_action(
        actor=actor,
        claim=claim,
        next_action=ClaimNextAction.WAIT,
        next_action_due=max(denial.appeal_deadline, denial.next_action_due),
        wait_reason=f"denial {denial.number} is being worked",
    )


@transaction.atomic
def open_denial(
    *,
    actor: Actor,
    claim: Claim,
    line: ClaimLine | None = None,
    group_code: str,
    carc: str,
    rarcs: Iterable[str] = (),
    amount: Decimal | str | int,
    received_on: dt.date,
    source: str = Source.MANUAL,
    source_ref: str = "",
    today: dt.date | None = None,
) -> Denial:
    """Open (or return the already open) denial of a claim or line for one group + CARC.

    Idempotent on (claim, line, group, CARC, source_ref): the same 835 posted twice, or
    two workers at once, open one denial. The category and route come from the code map,
    the appeal deadline from the payer's appeal window, the owner from the practice's
    denial follow-up function; the first next action follows the category and the claim
    waits on the denial.
    """
    require_denial_perm(actor, claim.practice_id)
    group, code, remarks = _clean_codes(group_code, carc, rarcs)
    if source not in Source.values:
        raise ValidationError({"source": f"Unknown source {source!r}."})
    if line is not None and line.claim_id != claim.pk:
        raise ValidationError({"line": "The line belongs to another claim."})
    value = money(amount)
    if value < 0:
        raise ValidationError({"amount": "A denied amount is not negative."})
    ref = source_ref.strip()[:100]
    key = {"claim": claim, "line": line, "group_code": group, "carc": code, "source_ref": ref}
    existing = Denial.objects.filter(**key).first()
    if existing is not None:
        return existing
    today = today or timezone.localdate()
    claim = Claim.objects.select_related("payer", "practice").get(pk=claim.pk)
    category, route = categorize(practice_id=claim.practice_id, payer_id=claim.payer_id, carc=code)
    deadline = received_on + dt.timedelta(days=appeal_window_days(claim))
    guidance = codes.GUIDANCE[category]
    due = min(max(today, received_on) + dt.timedelta(days=FIRST_ACTION_DAYS), deadline)
    denial = Denial(
        practice_id=claim.practice_id,
        claim=claim,
        line=line,
        group_code=group,
        carc=code,
        rarcs=remarks,
        amount=value,
        received_on=received_on,
        category=category,
        route=route,
        appeal_deadline=deadline,
        source=source,
        source_ref=ref,
        owner=choose_owner(claim, actor),
        next_action=guidance.next_action,
        next_action_due=max(due, today),
        created_by=actor,
        version=0,
    )
    try:
        with transaction.atomic():  # a concurrent twin wins: return it
            save_checked(denial, actor, today)
    except IntegrityError:
        return Denial.objects.get(**key)
    text = (
        f"{group}-{code} {codes.carc_label(code)}: ${value:,.2f}, "
        f"{DenialCategory(category).label}, routed to {Route(route).label.split(':')[0]}."
    )
    activity(denial, actor, ActivityKind.CREATED, text)
    _wait_claim_on(denial, actor)
    loop.note_pattern(denial)
    return denial


def release_claim(denial: Denial, actor: Actor, next_action: str, due: dt.date) -> None:
    """Give the claim its next action back when the denial no longer carries it."""
    claim = denial.claim
    if not claim.is_open:
        return
    if claim.next_action == WAIT and denial.number in claim.wait_reason:
        claim_set_next_action(
            actor=actor, claim=claim, next_action=next_action, next_action_due=due
        )


def lock(denial: Denial, expected_version: int | None) -> Denial:
    return lock_for_update(denial, expected_version, "claim", "owner")


def finish(denial: Denial, actor: Actor) -> Denial:
    release_hold(denial, actor)
    return save_checked(denial, actor)


def _open_locked(denial: Denial, actor: Actor, expected_version: int | None) -> Denial:
    require_denial_perm(actor, denial.practice_id)
    denial = lock(denial, expected_version)
    if not denial.is_open:
        raise ValidationError({"status": f"Denial {denial.number} is closed."})
    return denial


def _set_next(denial: Denial, next_action: str, due: dt.date, wait_reason: str = "") -> None:
    denial.next_action, denial.next_action_due = next_action, due
    denial.wait_reason = wait_reason if next_action == WAIT else ""


def _days_from_today(days: int, today: dt.date | None = None) -> dt.date:
    return (today or timezone.localdate()) + dt.timedelta(days=days)


PAYER_ANSWER_DAYS = 30
RECORDS_DAYS = 7
APPROVAL_DAYS = 5


@transaction.atomic
def denial_update(
    *,
    actor: Actor,
    denial: Denial,
    expected_version: int | None = None,
    category: str | None = None,
    route: str | None = None,
    root_cause: str | None = None,
) -> Denial:
    """Recategorize, reroute or record the root cause of an open or closed denial."""
    require_denial_perm(actor, denial.practice_id)
    denial = lock(denial, expected_version)
    changes = []
    for field, value, choices in (
        ("category", category, DenialCategory),
        ("route", route, Route),
        ("root_cause", root_cause, RootCause),
    ):
        if value is None or value == getattr(denial, field):
            continue
        if value not in choices.values and not (field == "root_cause" and value == ""):
            raise ValidationError({field: f"Unknown {field.replace('_', ' ')} {value!r}."})
        changes.append(f"{field.replace('_', ' ')}: {getattr(denial, field) or '—'} → {value}")
        setattr(denial, field, value)
    if not changes:
        return denial
    save_checked(denial, actor)
    activity(denial, actor, ActivityKind.EDIT, "; ".join(changes).capitalize())
    return denial


@transaction.atomic
def denial_resubmitted(
    *, actor: Actor, denial: Denial, note: str, expected_version: int | None = None
) -> Denial:
    """The claim was corrected and resubmitted: wait for the payer's answer."""
    denial = _open_locked(denial, actor, expected_version)
    if not note.strip():
        raise ValidationError({"note": "Say what was corrected."})
    due = _days_from_today(PAYER_ANSWER_DAYS)
    _set_next(denial, WAIT, due, "the payer's answer to the corrected claim")
    finish(denial, actor)
    activity(denial, actor, ActivityKind.RESUBMITTED, note.strip())
    _wait_claim_on(denial, actor)
    return denial


@transaction.atomic
def denial_request_records(
    *,
    actor: Actor,
    denial: Denial,
    what: str,
    due: dt.date | None = None,
    expected_version: int | None = None,
) -> Denial:
    """Ask the practice for clinical records: the denial is routed to the practice and
    waits for them (overdue, it escalates to the practice contact)."""
    denial = _open_locked(denial, actor, expected_version)
    if not what.strip():
        raise ValidationError({"what": "Say which records the payer needs."})
    due = due or _days_from_today(RECORDS_DAYS)
    if due < timezone.localdate():
        raise ValidationError({"due": "The due date is in the past."})
    denial.route = Route.PRACTICE
    _set_next(denial, WAIT, due, f"records from the practice: {what.strip()}"[:300])
    finish(denial, actor)
    activity(denial, actor, ActivityKind.RECORDS, what.strip())
    _wait_claim_on(denial, actor)
    return denial


def write_off_threshold(practice_id: int) -> Decimal:
    """Above this a write-off needs a manager: the live vendor engagement's adjustment
    threshold (the practice's own default without one)."""
    return approval_thresholds(practice_id)[0]


@transaction.atomic
def denial_write_off(
    *,
    actor: Actor,
    denial: Denial,
    amount: Decimal | str | None = None,
    reason: str,
    expected_version: int | None = None,
) -> WriteOffRequest:
    """Write the denied amount off: at or under the threshold (or by someone who approves
    adjustments) it closes the denial; above it, it records an approval request and the
    denial waits for the manager."""
    denial = _open_locked(denial, actor, expected_version)
    value = money(denial.amount if amount is None else amount)
    if value <= 0 or value > denial.amount:
        raise ValidationError({"amount": f"Write off between $0.01 and ${denial.amount:,.2f}."})
    if not reason.strip():
        raise ValidationError({"reason": "Say why this is written off."})
    if denial.write_offs.filter(status=WriteOffStatus.PENDING).exists():
        raise ValidationError({"amount": "A write-off of this denial already awaits approval."})
    approver = actor is None or has_perm(actor, perms.APPROVE_ADJUSTMENTS, denial.practice_id)
    needs_approval = value > write_off_threshold(denial.practice_id) and not approver
    request = WriteOffRequest(
        denial=denial,
        amount=value,
        reason=reason.strip()[:500],
        requested_by=actor,
        status=WriteOffStatus.PENDING if needs_approval else WriteOffStatus.APPROVED,
    )
    if not needs_approval:
        request.decided_by, request.decided_at = actor, timezone.now()
    request._history_user = actor  # type: ignore[attr-defined]
    request.save()
    if needs_approval:
        _set_next(
            denial, WAIT, _days_from_today(APPROVAL_DAYS), f"approval of a ${value:,.2f} write-off"
        )
        finish(denial, actor)
        activity(
            denial, actor, ActivityKind.WRITE_OFF, f"${value:,.2f} requested: {reason.strip()}"
        )
        _wait_claim_on(denial, actor)
        # Decided in the one Approvals queue (ar registers the router): see
        # denials.approvals and denials.write_offs.
        approvals.route_write_off(request, actor)
    else:
        activity(
            denial, actor, ActivityKind.WRITE_OFF, f"${value:,.2f} written off: {reason.strip()}"
        )
        _close(denial, actor, Outcome.WRITTEN_OFF, note="")
    return request


def _close(
    denial: Denial,
    actor: Actor,
    outcome: str,
    note: str,
    amount_recovered: Decimal | None = None,
    root_cause: str | None = None,
) -> Denial:
    denial.status, denial.outcome, denial.closed_at = DenialStatus.CLOSED, outcome, timezone.now()
    if amount_recovered is not None:
        denial.amount_recovered = amount_recovered
    if root_cause is not None:
        denial.root_cause = root_cause
    denial.next_action, denial.next_action_due, denial.wait_reason = "", None, ""
    finish(denial, actor)
    text = f"Closed: {Outcome(outcome).label}" + (f". {note}" if note else "")
    activity(denial, actor, ActivityKind.CLOSED, text)
    release_claim(denial, actor, ClaimNextAction.POST_AND_CLOSE, timezone.localdate())
    return denial


@transaction.atomic
def denial_close(
    *,
    actor: Actor,
    denial: Denial,
    outcome: str,
    note: str = "",
    amount_recovered: Decimal | str | None = None,
    root_cause: str | None = None,
    expected_version: int | None = None,
) -> Denial:
    """Close a denial with its outcome; the claim gets its next action back."""
    denial = _open_locked(denial, actor, expected_version)
    if outcome not in Outcome.values:
        raise ValidationError({"outcome": "Choose how the denial ended."})
    if outcome == Outcome.WRITTEN_OFF:
        raise ValidationError({"outcome": "Write-offs go through the write-off action."})
    if root_cause is not None and root_cause not in RootCause.values and root_cause != "":
        raise ValidationError({"root_cause": f"Unknown root cause {root_cause!r}."})
    recovered = (
        None if amount_recovered in (None, "") else money(amount_recovered, "amount_recovered")
    )
    if recovered is not None and recovered < 0:
        raise ValidationError({"amount_recovered": "A recovered amount is not negative."})
    return _close(denial, actor, outcome, note.strip(), recovered, root_cause)


@transaction.atomic
def category_rule_set(
    *, actor: Actor, practice: Any, carc: str, category: str, route: str = "", payer: Any = None
) -> CategoryRule:
    """A manager maps a CARC to a category (and route) for the practice or one payer;
    denials opened from now on follow it."""
    if actor is not None and not has_perm(actor, perms.MANAGE_SOPS, practice.pk):
        raise PermissionDenied("Only managers change the denial category map.")
    _group, code, _remarks = _clean_codes("CO", carc, ())
    if category not in DenialCategory.values:
        raise ValidationError({"category": f"Unknown category {category!r}."})
    if route and route not in Route.values:
        raise ValidationError({"route": f"Unknown route {route!r}."})
    if payer is not None and payer.practice_id != practice.pk:
        raise ValidationError({"payer": "Choose a payer of this practice."})
    rule = CategoryRule.objects.filter(practice=practice, payer=payer, carc=code).first()
    rule = rule or CategoryRule(practice=practice, payer=payer, carc=code)
    rule.category, rule.route = category, route
    rule._history_user = actor  # type: ignore[attr-defined]
    rule.save()
    return rule


@transaction.atomic
def category_rule_delete(*, actor: Actor, rule: CategoryRule) -> None:
    """Drop a manager's rule: the code falls back to the practice's rule or our default."""
    if actor is not None and not has_perm(actor, perms.MANAGE_SOPS, rule.practice_id):
        raise PermissionDenied("Only managers change the denial category map.")
    rule._history_user = actor  # type: ignore[attr-defined]
    rule.delete()


@transaction.atomic
def reason_codes_load(*, actor: Actor, rows: Iterable[tuple[str, str, str]]) -> dict[str, int]:
    """Store the official CARC/RARC texts (kind, code, text) a practice licenses; our own
    labels stay as they are. Loading the same file again changes nothing."""
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for kind, raw_code, text in rows:
        code = raw_code.strip().upper()
        if kind not in CodeKind.values:
            raise ValidationError({"kind": f"{kind!r} is neither carc nor rarc."})
        if not code or len(code) > 10 or not code.isalnum():
            raise ValidationError({"code": f"{raw_code!r} is not a reason code."})
        existing = ReasonCode.objects.filter(kind=kind, code=code).first()
        if existing is None:
            ReasonCode.objects.create(kind=kind, code=code, official_text=text.strip())
            counts["created"] += 1
        elif existing.official_text != text.strip():
            existing.official_text = text.strip()
            existing.save()
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
    return counts
