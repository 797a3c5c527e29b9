"""Eligibility check writes: the beat job that opens checks at T-72 h, and recording a
result (from the check page, the API or a 271 import; all hand over a ``CheckResult``).

Every write goes through the work core's save path (``work.services.save_checked``) with
the actor (None: the system, e.g. the beat job).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from billing_ops.access import has_perm, holders
from eligibility.choices import (
    PROBLEM_OUTCOMES,
    RESULT_OUTCOMES,
    ActivityKind,
    CheckMethod,
    CheckOutcome,
    ClosedReason,
    NextAction,
)
from eligibility.models import CheckActivity, EligibilityCheck
from eligibility.results import CheckResult
from practices import permissions as perms
from practices.choices import AppointmentStatus
from practices.models import Appointment, Coverage
from work.functions import function_holders
from work.services import lock_for_update, release_hold, save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor

ELIGIBILITY_FUNCTION = "eligibility"  # sops.choices.BillingFunctionKind.ELIGIBILITY
DUE_BEFORE = dt.timedelta(hours=72)
TARGET_BEFORE = dt.timedelta(hours=24)
CENT = Decimal("0.01")


def require_verify_perm(actor: Actor, practice_id: int) -> None:
    """Refuse unless the actor (None: the system) may verify eligibility at the practice."""
    if actor is not None and not has_perm(actor, perms.VERIFY_ELIGIBILITY, practice_id):
        raise PermissionDenied("You may not verify eligibility at this practice.")


def activity(check: EligibilityCheck, actor: Actor, kind: str, text: str) -> CheckActivity:
    return CheckActivity.objects.create(check_item=check, actor=actor, kind=kind, text=text)


def log_activity(check: EligibilityCheck, actor: Actor, kind: str, text: str) -> None:
    """The check's timeline entry for a work-core change (next action, owner, bulk)."""
    activity(check, actor, kind if kind in ActivityKind.values else ActivityKind.EDIT, text)


def choose_owner(practice_id: int) -> Any:
    """The practice's eligibility function owner (then backup) who may verify there, else
    the first person who may (staff before superusers); None when nobody can."""
    candidates = function_holders(practice_id, ELIGIBILITY_FUNCTION)
    users = get_user_model().objects.in_bulk(set(candidates))
    for user_id in candidates:
        user = users.get(user_id)
        if (
            user is not None
            and user.is_active
            and has_perm(user, perms.VERIFY_ELIGIBILITY, practice_id)
        ):
            return user
    return holders(perms.VERIFY_ELIGIBILITY, practice_id).order_by("is_superuser", "pk").first()


def due_dates(starts_at: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(due at T-72 h, target at T-24 h) of an appointment."""
    return starts_at - DUE_BEFORE, starts_at - TARGET_BEFORE


def _local(moment: dt.datetime) -> str:
    return f"{timezone.localtime(moment):%m/%d/%Y %H:%M}"


def _due_day(due_at: dt.datetime, today: dt.date) -> dt.date:
    return max(timezone.localtime(due_at).date(), today)


def coverages_on(appointment: Appointment, coverages: list[Coverage]) -> list[Coverage]:
    """The patient's coverages in force on the day of the appointment."""
    day = timezone.localtime(appointment.starts_at).date()
    return [
        c
        for c in coverages
        if (c.effective_from is None or c.effective_from <= day)
        and (c.effective_to is None or c.effective_to >= day)
    ]


def _close(check: EligibilityCheck, reason: str, now: dt.datetime) -> None:
    check.closed_at, check.closed_reason = now, reason
    check.next_action, check.next_action_due, check.wait_reason = "", None, ""


def _create_checks(now: dt.datetime, today: dt.date) -> tuple[int, int]:
    """Open the missing checks of scheduled appointments within 72 h; (created, no owner)."""
    appointments = list(
        Appointment.objects.filter(
            status=AppointmentStatus.SCHEDULED,
            starts_at__gt=now,
            starts_at__lte=now + DUE_BEFORE,
        ).select_related("practice")
    )
    if not appointments:
        return 0, 0
    by_patient: dict[int, list[Coverage]] = {}
    for coverage in Coverage.objects.filter(
        patient_id__in={a.patient_id for a in appointments}
    ).order_by("cob_order"):
        by_patient.setdefault(coverage.patient_id, []).append(coverage)
    have = set(
        EligibilityCheck.objects.filter(appointment__in=appointments).values_list(
            "appointment_id", "coverage_id"
        )
    )
    owners: dict[int, Any] = {}
    created = no_owner = 0
    for appointment in appointments:
        for coverage in coverages_on(appointment, by_patient.get(appointment.patient_id, [])):
            if (appointment.pk, coverage.pk) in have:
                continue
            if appointment.practice_id not in owners:
                owners[appointment.practice_id] = choose_owner(appointment.practice_id)
            owner = owners[appointment.practice_id]
            if owner is None:
                no_owner += 1
                continue
            due_at, target_at = due_dates(appointment.starts_at)
            check = EligibilityCheck(
                practice_id=appointment.practice_id,
                appointment=appointment,
                coverage=coverage,
                payer_id=coverage.payer_id,
                due_at=due_at,
                target_at=target_at,
                owner=owner,
                next_action=NextAction.VERIFY,
                next_action_due=_due_day(due_at, today),
                member_id=coverage.member_id,
                group_number=coverage.group_number,
                version=0,
            )
            try:
                with transaction.atomic():  # a concurrent run made it first: skip
                    save_checked(check, None, today)
            except IntegrityError:
                continue
            activity(
                check,
                None,
                ActivityKind.CREATED,
                f"Opened for the appointment at {_local(appointment.starts_at)}.",
            )
            created += 1
    return created, no_owner


def _move_checks(now: dt.datetime, today: dt.date) -> int:
    """Open checks whose appointment was rescheduled follow it (due and target dates)."""
    moved = 0
    stale = EligibilityCheck.objects.filter(closed_at__isnull=True).exclude(
        due_at=F("appointment__starts_at") - DUE_BEFORE
    )
    for pk in stale.values_list("pk", flat=True):
        with transaction.atomic():
            check = lock_for_update(EligibilityCheck(pk=pk), None, "appointment")
            due_at, target_at = due_dates(check.appointment.starts_at)
            if check.due_at == due_at:
                continue
            check.due_at, check.target_at = due_at, target_at
            if check.next_action == NextAction.VERIFY:
                check.next_action_due = _due_day(due_at, today)
            save_checked(check, None, today)
            activity(
                check,
                None,
                ActivityKind.MOVED,
                f"Appointment moved to {_local(check.appointment.starts_at)}: "
                f"due {_local(due_at)}.",
            )
            moved += 1
    return moved


def _close_cancelled(now: dt.datetime, today: dt.date) -> int:
    """Open checks of cancelled appointments close."""
    closed = 0
    rows = EligibilityCheck.objects.filter(
        closed_at__isnull=True, appointment__status=AppointmentStatus.CANCELLED
    )
    for pk in rows.values_list("pk", flat=True):
        with transaction.atomic():
            check = lock_for_update(EligibilityCheck(pk=pk), None)
            if not check.is_open:
                continue
            _close(check, ClosedReason.CANCELLED, now)
            save_checked(check, None, today)
            activity(check, None, ActivityKind.CLOSED, "Appointment cancelled: check closed.")
            closed += 1
    return closed


def checks_for_upcoming(*, now: dt.datetime | None = None) -> dict[str, int]:
    """The beat job: open one check per appointment and coverage within 72 h, move the
    checks of rescheduled appointments, close those of cancelled ones. Idempotent."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    closed = _close_cancelled(now, today)
    moved = _move_checks(now, today)
    created, no_owner = _create_checks(now, today)
    return {"created": created, "moved": moved, "closed": closed, "no_owner": no_owner}


def _money(value: Any, field: str) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        amount = Decimal(str(value)).quantize(CENT)
    except (InvalidOperation, ArithmeticError):
        raise ValidationError({field: f"{value!r} is not an amount of money."}) from None
    if not amount.is_finite() or amount < 0:
        raise ValidationError({field: f"{value!r} is not an amount of money."})
    return amount


def _clean(result: CheckResult) -> dict[str, Any]:
    if result.status not in RESULT_OUTCOMES:
        raise ValidationError({"status": f"Unknown outcome {result.status!r}."})
    if result.method not in CheckMethod.values:
        raise ValidationError({"method": f"Unknown method {result.method!r}."})
    coinsurance = _money(result.coinsurance_percent, "coinsurance_percent")
    if coinsurance is not None and coinsurance > 100:
        raise ValidationError({"coinsurance_percent": "Coinsurance is a percentage (0-100)."})
    deductible = _money(result.deductible, "deductible")
    remaining = _money(result.deductible_remaining, "deductible_remaining")
    if deductible is not None and remaining is not None and remaining > deductible:
        raise ValidationError(
            {"deductible_remaining": "The remaining deductible exceeds the deductible."}
        )
    return {
        "status": result.status,
        "method": result.method,
        "plan_name": result.plan_name.strip()[:200],
        "group_number": result.group_number.strip()[:40],
        "member_id": result.member_id.strip()[:40],
        "reference": result.reference.strip()[:80],
        "copay": _money(result.copay, "copay"),
        "coinsurance_percent": coinsurance,
        "deductible": deductible,
        "deductible_remaining": remaining,
        "annual_max_remaining": _money(result.annual_max_remaining, "annual_max_remaining"),
        "frequency_limits": [asdict(limit) for limit in result.frequency_limits],
        "problems": [str(p)[:300] for p in result.problems],
        "note": result.note.strip(),
        "raw": dict(result.raw),
    }


def _summary(check: EligibilityCheck) -> str:
    parts = [f"{CheckOutcome(check.status).label} ({CheckMethod(check.method).label})"]
    if check.plan_name:
        parts.append(check.plan_name)
    if check.copay is not None:
        parts.append(f"copay ${check.copay:,.2f}")
    if check.reference:
        parts.append(f"ref {check.reference}")
    if check.problems:
        parts.append("; ".join(check.problems))
    return ", ".join(parts) + "."


@transaction.atomic
def check_record_result(
    *,
    actor: Actor,
    check: EligibilityCheck,
    result: CheckResult,
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> EligibilityCheck:
    """Record a verification. Active closes the check; inactive or needs info keeps it
    open with the next action "request info from patient" (due today) and flags the
    appointment. A check closed by a cancelled appointment takes no result."""
    require_verify_perm(actor, check.practice_id)
    values = _clean(result)
    check = lock_for_update(check, expected_version, "appointment", "owner")
    if check.closed_reason == ClosedReason.CANCELLED:
        raise ValidationError({"status": "The appointment was cancelled: the check is closed."})
    now = timezone.now()
    today = today or timezone.localdate()
    for name, value in values.items():
        setattr(check, name, value)
    check.verified_by, check.verified_at = actor, now
    if check.status in PROBLEM_OUTCOMES:
        check.closed_at, check.closed_reason = None, ""
        check.next_action = NextAction.REQUEST_INFO_PATIENT
        check.next_action_due = today
        check.wait_reason = ""
        if check.owner_id is None:
            check.owner = actor or choose_owner(check.practice_id)
    else:
        _close(check, ClosedReason.VERIFIED, now)
    release_hold(check, actor)
    save_checked(check, actor, today)
    activity(check, actor, ActivityKind.RESULT, _summary(check))
    return check


def problem_checks() -> Q:
    """Checks that flag their appointment: open with an inactive or needs-info result."""
    return Q(closed_at__isnull=True, status__in=PROBLEM_OUTCOMES)
