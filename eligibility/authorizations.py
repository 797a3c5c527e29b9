"""Writes and rules for prior authorizations: create, change status, use units, renew, the
nightly sweep (expire and alert), the scrub rule, and the day sheet's status per visit.

Every write records the actor, locks the item (``work.services.lock_for_update``) and
ends with ``save_checked``. The next action follows the status: needed -> request it,
requested -> follow up, approved -> renew it ``alert_days`` before it ends (or at once
when its units are used up); denied and expired close the item.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from billing_ops.access import has_perm, holder_condition, holders
from claims.choices import Severity
from claims.models import Claim, ClaimLine, PayerRule
from claims.scrubber import Finding
from eligibility.auth_models import (
    AuthActivityKind,
    AuthClosedReason,
    AuthNextAction,
    AuthorizationActivity,
    AuthStatus,
    PriorAuthorization,
)
from practices import permissions as perms
from practices.models import Appointment, Patient, Payer
from work.choices import NotificationKind
from work.functions import function_holders
from work.models import Notification
from work.notifications import BATCH, insert_new
from work.registry import registry
from work.reminders import notification_for
from work.services import check_owner, lock_for_update, release_hold, save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor

PERM = perms.VERIFY_ELIGIBILITY
PRIOR_AUTH_KEY = "prior_auth"  # the work item type (eligibility.auth_queues)
ELIGIBILITY_FUNCTION = "eligibility"  # sops.choices.BillingFunctionKind
FOLLOW_UP_DAYS = 7
# Status order of the day sheet: the worst need of a visit is what its row shows.
WORST_FIRST = ("denied", "expired", "needed", "requested", "approved")
TRANSITIONS: dict[str, frozenset[str]] = {
    AuthStatus.NEEDED: frozenset({AuthStatus.REQUESTED, AuthStatus.APPROVED, AuthStatus.DENIED}),
    AuthStatus.REQUESTED: frozenset({AuthStatus.APPROVED, AuthStatus.DENIED}),
    AuthStatus.APPROVED: frozenset({AuthStatus.APPROVED, AuthStatus.EXPIRED}),
    AuthStatus.DENIED: frozenset(),
    AuthStatus.EXPIRED: frozenset(),
}


def alert_days() -> int:
    """Days before ``valid_to`` that the renewal falls due and the owner is alerted."""
    return int(getattr(settings, "PRIOR_AUTH_EXPIRY_ALERT_DAYS", 14))


def units_low() -> int:
    """Units left at or below which the owner is alerted (and the renewal falls due)."""
    return int(getattr(settings, "PRIOR_AUTH_UNITS_LOW", 1))


def require_perm(actor: Actor, practice_id: int) -> None:
    if actor is not None and not has_perm(actor, PERM, practice_id):
        raise PermissionDenied("You may not work prior authorizations at this practice.")


def clean_codes(codes: Iterable[str]) -> list[str]:
    cleaned = [str(c).strip().upper() for c in codes if str(c).strip()]
    if not cleaned:
        raise ValidationError({"procedure_codes": "Name at least one procedure code."})
    bad = [c for c in cleaned if not c.isalnum() or len(c) > 10]
    if bad:
        raise ValidationError({"procedure_codes": f"{bad[0]!r} is not a procedure code."})
    return sorted(set(cleaned))


def choose_owner(practice_id: int, actor: Actor) -> Any:
    """The practice's eligibility function owner (or backup), else the actor, else anybody
    who may verify eligibility there: the first who is active and holds the permission."""
    candidates = list(function_holders(practice_id, ELIGIBILITY_FUNCTION))
    if actor is not None:
        candidates.append(actor.pk)
    users = get_user_model().objects.in_bulk(set(candidates))
    for user_id in candidates:
        user = users.get(user_id)
        if user is not None and user.is_active and has_perm(user, PERM, practice_id):
            return user
    fallback = holders(PERM, practice_id).order_by("pk").first()
    if fallback is None:
        raise ValidationError({"owner": "Nobody can verify eligibility at this practice."})
    return fallback


def log_activity(item: PriorAuthorization, actor: Actor, kind: str, text: str) -> None:
    """The authorization's timeline entry (also for work-core changes: next action, owner)."""
    kind = kind if kind in AuthActivityKind.values else AuthActivityKind.EDIT
    AuthorizationActivity.objects.create(authorization=item, actor=actor, kind=kind, text=text)


def _set_next(item: PriorAuthorization, today: dt.date) -> None:
    """The next action the status asks for; closed statuses close the item."""
    item.wait_reason = ""
    if item.status == AuthStatus.NEEDED:
        item.next_action, item.next_action_due = AuthNextAction.REQUEST, today
    elif item.status == AuthStatus.REQUESTED:
        item.next_action = AuthNextAction.FOLLOW_UP
        item.next_action_due = today + dt.timedelta(days=FOLLOW_UP_DAYS)
    elif item.status == AuthStatus.APPROVED:
        item.next_action = AuthNextAction.RENEW
        renew_on = item.valid_to - dt.timedelta(days=alert_days()) if item.valid_to else today
        if item.units_left <= units_low():
            renew_on = today
        item.next_action_due = max(renew_on, today)
    else:
        reason = (
            AuthClosedReason.DENIED
            if item.status == AuthStatus.DENIED
            else AuthClosedReason.EXPIRED
        )
        _close(item, reason)


def _close(item: PriorAuthorization, reason: str) -> None:
    item.next_action, item.next_action_due, item.wait_reason = "", None, ""
    item.closed_at = item.closed_at or timezone.now()
    item.closed_reason = reason


EARLIEST, LATEST = dt.date(2000, 1, 1), dt.date(2100, 12, 31)


def _check_dates(item: PriorAuthorization) -> None:
    errors = {}
    for name in ("valid_from", "valid_to"):
        value = getattr(item, name)
        if value is not None and not EARLIEST <= value <= LATEST:
            errors[name] = f"{value:%m/%d/%Y} is not a plausible date."
    if item.valid_from and item.valid_to and item.valid_from > item.valid_to:
        errors["valid_to"] = "Ends before it starts."
    if errors:
        raise ValidationError(errors)


def _check_approval(item: PriorAuthorization) -> None:
    _check_dates(item)
    if item.status != AuthStatus.APPROVED:
        return
    errors = {}
    if not item.number.strip():
        errors["number"] = "An approved authorization has the payer's number."
    if item.valid_to is None:
        errors["valid_to"] = "Say until when it is valid."
    if item.units_approved < 1:
        errors["units_approved"] = "Say how many units the payer approved."
    elif item.units_used > item.units_approved:
        errors["units_used"] = "More units used than approved."
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def authorization_create(
    *,
    actor: Actor,
    patient: Patient,
    payer: Payer,
    procedure_codes: Iterable[str],
    status: str = AuthStatus.NEEDED,
    appointment: Appointment | None = None,
    number: str = "",
    valid_from: dt.date | None = None,
    valid_to: dt.date | None = None,
    units_approved: int = 0,
    units_used: int = 0,
    owner: Any = None,
    renews: PriorAuthorization | None = None,
    today: dt.date | None = None,
) -> PriorAuthorization:
    """Record that a patient needs (or has) an authorization from a payer for procedures."""
    today = today or timezone.localdate()
    require_perm(actor, patient.practice_id)
    if payer.practice_id != patient.practice_id:
        raise ValidationError({"payer": "The payer is not one of the patient's practice."})
    if appointment is not None and appointment.patient_id != patient.pk:
        raise ValidationError({"appointment": "The appointment is not the patient's."})
    if status not in (AuthStatus.NEEDED, AuthStatus.REQUESTED, AuthStatus.APPROVED):
        raise ValidationError({"status": "A new authorization is needed, requested or approved."})
    if owner is not None and not has_perm(owner, PERM, patient.practice_id):
        raise ValidationError({"owner": f"{owner} cannot work prior authorizations here."})
    item = PriorAuthorization(
        practice_id=patient.practice_id,
        patient=patient,
        payer=payer,
        appointment=appointment,
        procedure_codes=clean_codes(procedure_codes),
        status=status,
        number=number.strip(),
        valid_from=valid_from,
        valid_to=valid_to,
        units_approved=units_approved,
        units_used=units_used,
        renews=renews,
        requested_on=today if status != AuthStatus.NEEDED else None,
        decided_on=today if status == AuthStatus.APPROVED else None,
        created_by=actor,
        owner=owner or choose_owner(patient.practice_id, actor),
    )
    _check_approval(item)
    _set_next(item, today)
    save_checked(item, actor, today)
    codes = ", ".join(item.procedure_codes)
    log_activity(item, actor, AuthActivityKind.CREATED, f"{item.get_status_display()}: {codes}")
    return item


@transaction.atomic
def authorization_update(
    *,
    actor: Actor,
    authorization: PriorAuthorization,
    expected_version: int | None = None,
    today: dt.date | None = None,
    work: dict[str, Any] | None = None,
    **changes: Any,
) -> PriorAuthorization:
    """Change status (needed -> requested -> approved/denied; approved -> expired), number,
    dates, units or codes; the next action follows the new status unless ``work`` sets it
    (next_action, next_action_due, wait_reason, owner), in the same locked write."""
    today = today or timezone.localdate()
    require_perm(actor, authorization.practice_id)
    item = lock_for_update(authorization, expected_version, "owner")
    allowed = {
        "status",
        "number",
        "valid_from",
        "valid_to",
        "units_approved",
        "units_used",
        "procedure_codes",
    }
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(f"Cannot change {', '.join(sorted(unknown))}.")
    if not item.is_open:
        raise ValidationError({"status": f"{item.label} is closed ({item.closed_reason})."})
    parts = []
    new_status = changes.pop("status", item.status)
    if new_status != item.status:
        if new_status not in TRANSITIONS.get(item.status, frozenset()):
            raise ValidationError(
                {
                    "status": f"A {item.get_status_display().lower()} authorization cannot become "
                    f"{new_status}."
                }
            )
        parts.append(f"{item.get_status_display()} → {AuthStatus(new_status).label}")
        if new_status == AuthStatus.REQUESTED:
            item.requested_on = today
        if new_status in (AuthStatus.APPROVED, AuthStatus.DENIED):
            item.decided_on = today
        item.status = new_status
    if "procedure_codes" in changes:
        changes["procedure_codes"] = clean_codes(changes["procedure_codes"])
    if "number" in changes:
        changes["number"] = str(changes["number"]).strip()
    for name, value in changes.items():
        if getattr(item, name) != value:
            parts.append(f"{name.replace('_', ' ')}: {getattr(item, name)} → {value}")
            setattr(item, name, value)
    _check_approval(item)
    if item.units_used > item.units_approved and item.status == AuthStatus.APPROVED:
        raise ValidationError({"units_used": "More units used than approved."})
    _set_next(item, today)
    if work and item.is_open:
        parts += _apply_work(item, work)
    release_hold(item, actor)
    save_checked(item, actor, today)
    if parts:
        log_activity(item, actor, AuthActivityKind.STATUS, "; ".join(parts))
    return item


def _apply_work(item: PriorAuthorization, work: dict[str, Any]) -> list[str]:
    """A next action, due date, wait reason or owner given with the change (the API's
    PATCH): checked as ``work.services.item_set_next_action`` checks them."""
    parts = []
    if work.get("next_action"):
        if work["next_action"] not in AuthNextAction.values:
            raise ValidationError({"next_action": f"Unknown next action {work['next_action']!r}."})
        item.next_action = work["next_action"]
    if work.get("next_action_due"):
        item.next_action_due = work["next_action_due"]
    item.wait_reason = (
        work.get("wait_reason", "") if item.next_action == AuthNextAction.WAIT else ""
    )
    if item.next_action or item.next_action_due:
        parts.append(f"Next: {item.get_next_action_display()}, due {item.next_action_due:%m/%d/%Y}")
    owner = work.get("owner")
    if owner is not None and owner.pk != item.owner_id:
        check_owner(registry.type(PRIOR_AUTH_KEY), owner, item.practice_id)
        parts.append(f"Owner: {item.owner} → {owner}")
        item.owner = owner
    return parts


@transaction.atomic
def authorization_use_units(
    *,
    actor: Actor,
    authorization: PriorAuthorization,
    units: int = 1,
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> PriorAuthorization:
    """Count units used on an approved, valid authorization (never beyond the approved)."""
    today = today or timezone.localdate()
    require_perm(actor, authorization.practice_id)
    item = lock_for_update(authorization, expected_version)
    if units < 1:
        raise ValidationError({"units": "Use at least one unit."})
    if item.status != AuthStatus.APPROVED:
        raise ValidationError({"units": f"{item.label} is not approved."})
    if units > item.units_left:
        raise ValidationError(
            {"units": f"Only {item.units_left} of {item.units_approved} units are left."}
        )
    item.units_used += units
    if item.is_open:
        _set_next(item, today)
    save_checked(item, actor, today)
    text = f"{units} used: {item.units_used} of {item.units_approved}, {item.units_left} left"
    log_activity(item, actor, AuthActivityKind.UNITS, text)
    return item


@transaction.atomic
def authorization_renew(
    *, actor: Actor, authorization: PriorAuthorization, today: dt.date | None = None
) -> PriorAuthorization:
    """Start the renewal: a new authorization (needed) for the same patient, payer and
    codes; the old one stays valid until its end but leaves the work queues."""
    today = today or timezone.localdate()
    require_perm(actor, authorization.practice_id)
    old = lock_for_update(authorization, None, "patient", "payer")
    if old.status != AuthStatus.APPROVED or not old.is_open:
        raise ValidationError({"status": "Only an open, approved authorization is renewed."})
    new = authorization_create(
        actor=actor,
        patient=old.patient,
        payer=old.payer,
        procedure_codes=old.procedure_codes,
        owner=old.owner if old.owner and has_perm(old.owner, PERM, old.practice_id) else None,
        renews=old,
        today=today,
    )
    _close(old, AuthClosedReason.RENEWED)
    release_hold(old, actor)
    save_checked(old, actor, today)
    log_activity(old, actor, AuthActivityKind.CLOSED, f"Renewal started: {new.label}")
    return new


# --- the nightly sweep: expire and alert --------------------------------------------------


def authorizations_sweep(today: dt.date) -> dict[str, int]:
    """Expire approved authorizations past their end; alert owners ``alert_days`` before
    the end and when units run low. Idempotent: one alert per authorization, threshold and
    owner, however often it runs."""
    expired = 0
    ended = PriorAuthorization.objects.filter(
        status=AuthStatus.APPROVED, closed_at__isnull=True, valid_to__lt=today
    )
    for item in ended.order_by("pk"):
        with transaction.atomic():
            locked = lock_for_update(item, None)
            if locked.status != AuthStatus.APPROVED or locked.valid_to is None:
                continue
            if locked.valid_to >= today:
                continue
            locked.status = AuthStatus.EXPIRED
            _set_next(locked, today)
            save_checked(locked, None, today)
            log_activity(locked, None, AuthActivityKind.STATUS, "Approved → Expired")
            expired += 1
    counts = {"expired": expired, "expiry_alerts": 0, "units_alerts": 0}

    def build() -> Iterator[Notification]:
        item_type = registry.type(PRIOR_AUTH_KEY)
        horizon = today + dt.timedelta(days=alert_days())
        approved = (
            PriorAuthorization.objects.filter(
                practice__is_active=True,
                status=AuthStatus.APPROVED,
                closed_at__isnull=True,
                owner__isnull=False,
            )
            .filter(holder_condition(PERM, "owner"))
            .select_related("payer")
            .order_by("pk")
        )
        for item in approved.iterator(chunk_size=BATCH):
            if item.valid_to is not None and item.valid_to <= horizon:
                counts["expiry_alerts"] += 1
                left = (item.valid_to - today).days
                when = "today" if left == 0 else f"in {left} day{'s' if left != 1 else ''}"
                yield notification_for(
                    item_type,
                    item,
                    NotificationKind.AUTH_EXPIRY,
                    f"{describe(item)}: ends {item.valid_to:%m/%d/%Y} ({when}); renew it",
                    today,
                    f"auth_expiry:{item.pk}:{item.valid_to:%Y%m%d}:{item.owner_id}",
                )
            if item.units_left <= units_low():
                counts["units_alerts"] += 1
                yield notification_for(
                    item_type,
                    item,
                    NotificationKind.AUTH_UNITS,
                    f"{describe(item)}: {item.units_left} of {item.units_approved} units left",
                    today,
                    f"auth_units:{item.pk}:{item.units_approved}:{item.units_left}:{item.owner_id}",
                )

    counts["created"] = insert_new(build())
    return counts


def describe(item: PriorAuthorization) -> str:
    """``Prior auth PA-7 (Delta Dental, D2740)``: no patient names (minimum necessary)."""
    codes = ", ".join(item.procedure_codes[:4])
    return f"Prior auth {item.label} ({item.payer.name}, {codes})"


# --- reads: the scrub rule and the day sheet ----------------------------------------------


def _needs(payer_ids: Iterable[int]) -> dict[int, list[PayerRule]]:
    rules: dict[int, list[PayerRule]] = defaultdict(list)
    for rule in PayerRule.objects.filter(
        payer_id__in=set(payer_ids), needs_authorization=True, is_active=True
    ):
        rules[rule.payer_id].append(rule)
    return rules


def missing_prior_authorization(
    claim: Claim, lines: list[ClaimLine], today: dt.date
) -> list[Finding]:
    """Scrub rule: a line whose code the payer wants authorized needs an approved
    authorization for the patient and payer, valid on the service date, with units left."""
    rules = _needs([claim.payer_id]).get(claim.payer_id, [])
    if not rules:
        return []
    auths = list(
        PriorAuthorization.objects.filter(
            patient_id=claim.patient_id, payer_id=claim.payer_id, status=AuthStatus.APPROVED
        )
    )
    findings = []
    for line in lines:
        if not any(rule.matches(line.procedure_code) for rule in rules):
            continue
        day = line.service_date or claim.service_date_from or today
        if any(a.covers(line.procedure_code) and a.valid_on(day) for a in auths):
            continue
        message = (
            f"{claim.payer} needs a prior authorization for {line.procedure_code}: none is "
            f"approved and valid on {day:%m/%d/%Y} with units left."
        )
        findings.append(
            Finding("prior_authorization", Severity.ERROR, message[:300], line.line_number)
        )
    return findings


def appointment_auth_status(appointments: Iterable[Appointment]) -> dict[int, str]:
    """Appointment id -> "approved", "requested", "needed", "denied", "expired", or "" when
    none of its planned procedures needs one: the worst need of the visit, over every
    coverage in force on the day whose payer wants authorization for a planned code.
    Two queries for the whole list (payer rules with coverages; authorizations)."""
    visits = list(appointments)
    result = {a.pk: "" for a in visits}
    patient_ids = {a.patient_id for a in visits if a.planned_procedures}
    if not patient_ids:
        return result
    rows = PayerRule.objects.filter(
        needs_authorization=True,
        is_active=True,
        payer__coverages__patient_id__in=patient_ids,
    ).values_list(
        "payer_id",
        "procedure_code_pattern",
        "payer__coverages__patient_id",
        "payer__coverages__effective_from",
        "payer__coverages__effective_to",
    )
    # patient -> [(payer, rule, effective from, effective to)]
    by_patient: dict[int, list[tuple[int, PayerRule, Any, Any]]] = defaultdict(list)
    for payer_id, pattern, patient_id, start, end in rows:
        rule = PayerRule(payer_id=payer_id, procedure_code_pattern=pattern)
        by_patient[patient_id].append((payer_id, rule, start, end))
    if not by_patient:
        return result
    auths: dict[tuple[int, int], list[PriorAuthorization]] = defaultdict(list)
    for auth in PriorAuthorization.objects.filter(patient_id__in=set(by_patient)).order_by("-pk"):
        auths[(auth.patient_id, auth.payer_id)].append(auth)
    for visit in visits:
        day = timezone.localtime(visit.starts_at).date()
        statuses = []
        for payer_id, rule, start, end in by_patient.get(visit.patient_id, []):
            if (start and start > day) or (end and end < day):
                continue
            for code in visit.planned_procedures:
                if rule.matches(str(code)):
                    statuses.append(_status_for(auths[(visit.patient_id, payer_id)], code, day))
        if statuses:
            result[visit.pk] = min(statuses, key=WORST_FIRST.index)
    return result


def _status_for(auths: list[PriorAuthorization], code: str, day: dt.date) -> str:
    covering = [a for a in auths if a.covers(str(code))]
    if any(a.valid_on(day) for a in covering):
        return AuthStatus.APPROVED.value
    # An approved one that ends before the visit or has no units left counts as expired.
    states = {
        AuthStatus.EXPIRED.value if a.status == AuthStatus.APPROVED else a.status for a in covering
    }
    for status in ("requested", "needed", "denied", "expired"):
        if status in states:
            return status
    return AuthStatus.NEEDED.value
