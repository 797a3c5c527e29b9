"""Writes for tenants, people and reference data. Every write names its actor.

Access is derived here and only here: ``sync_user_access`` turns a user's memberships and
assignments into guardian permissions on Practice objects. Every service that changes a
membership, an assignment, an engagement or a user's active flag calls it in the same
transaction, so a revocation is in force for the user's very next request.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from billing_ops.access import forget, has_perm
from practices import handover, tokens
from practices import permissions as perms
from practices.choices import AccessAction, AppointmentStatus, Role, ServiceArea
from practices.models import (
    Appointment,
    Assignment,
    Coverage,
    Engagement,
    Membership,
    Patient,
    Payer,
    PhiAccessLog,
    Practice,
    PracticeUserPermission,
    Provider,
    VendorStaff,
)

User = get_user_model()


# --- access derivation ----------------------------------------------------------------


def _assignment_is_live(assignment: Assignment, today: dt.date) -> bool:
    engagement = assignment.engagement
    return (
        assignment.revoked_at is None
        and (assignment.ends_on is None or assignment.ends_on >= today)
        and (engagement.ends_on is None or engagement.ends_on >= today)
        and engagement.starts_on <= today
        and engagement.practice.is_active
        and engagement.vendor.is_active
    )


def _last_day(*dates: dt.date | None) -> dt.date | None:
    """The earliest of the end dates that are set; None when none is."""
    return min((d for d in dates if d is not None), default=None)


def desired_access(user: Any) -> set[tuple[int, str]]:
    """The (practice id, codename) pairs a user should hold, from memberships and assignments."""
    return set(desired_grants(user))


def desired_grants(user: Any) -> dict[tuple[int, str], dt.date | None]:
    """(practice id, codename) -> the last day it is in force (None: no end date): an
    assignment's grants end with the assignment or its engagement, whichever ends first."""
    if not user.is_active:
        return {}
    wanted: dict[tuple[int, str], dt.date | None] = {}
    memberships = Membership.objects.filter(user=user, is_active=True, practice__is_active=True)
    for membership in memberships:
        for codename in perms.ROLE_PERMISSIONS[membership.role]:
            wanted[(membership.practice_id, codename)] = None
    staff = VendorStaff.objects.filter(user=user).first()
    if staff is not None:
        today = timezone.localdate()
        assignments = staff.assignments.select_related("engagement__practice", "engagement__vendor")
        for assignment in assignments:
            if not _assignment_is_live(assignment, today):
                continue
            in_scope = set(assignment.service_areas) & set(assignment.engagement.service_areas)
            codenames: set[str] = set()
            for area in in_scope:
                codenames |= perms.SERVICE_AREA_PERMISSIONS[area]
            if codenames and staff.is_lead:
                codenames |= perms.VENDOR_LEAD_EXTRA
            codenames -= perms.NEVER_FOR_VENDORS
            until = _last_day(assignment.ends_on, assignment.engagement.ends_on)
            for code in codenames:
                key = (assignment.engagement.practice_id, code)
                if key in wanted:  # granted twice: in force until the later end
                    earlier = wanted[key]
                    until = None if earlier is None or until is None else max(earlier, until)
                wanted[key] = until
    return wanted


def _permission_ids() -> dict[str, int]:
    return dict(
        Permission.objects.filter(
            content_type__app_label="practices", content_type__model="practice"
        ).values_list("codename", "pk")
    )


@transaction.atomic
def sync_user_access(user: Any) -> tuple[int, int]:
    """Make the user's practice permissions equal to what their roles allow; (added, removed).

    Each row carries its last day (``valid_until``): the kernel ignores rows past it, so an
    assignment that ends by date is out of force on the next request, before the
    15-minute job deletes its rows here."""
    wanted = desired_grants(user)
    ids = _permission_ids()
    current = {
        (row.content_object_id, row.permission.codename): row
        for row in PracticeUserPermission.objects.filter(user=user).select_related("permission")
    }
    stale = [row.pk for key, row in current.items() if key not in wanted]
    PracticeUserPermission.objects.filter(pk__in=stale).delete()
    missing = [
        PracticeUserPermission(
            user=user,
            content_object_id=practice_id,
            permission_id=ids[code],
            valid_until=wanted[(practice_id, code)],
        )
        for practice_id, code in wanted.keys() - current.keys()
    ]
    PracticeUserPermission.objects.bulk_create(missing)
    moved = []
    for key, row in current.items():
        if key in wanted and row.valid_until != wanted[key]:
            row.valid_until = wanted[key]
            moved.append(row)
    PracticeUserPermission.objects.bulk_update(moved, ["valid_until"])
    if not wanted:  # deactivated, or the last membership or assignment ended: no API tokens
        tokens.revoke_all(actor=None, user=user, reason="The account has no access left.")
    forget(user.pk)
    return len(missing) + len(moved), len(stale)


def require_practice_perm(actor: Any, codename: str, practice: Practice) -> None:
    """Refuse unless the actor (None means the system itself) holds codename on practice."""
    if actor is None or actor.is_superuser:
        return
    if not has_perm(actor, codename, practice.pk):
        raise PermissionDenied(f"You may not do this at {practice}.")


def leads_engagement(actor: Any, engagement: Engagement) -> bool:
    """Whether the actor is a lead of the engagement's vendor, assigned to it and in force
    there today (a lead manages their vendor's staff only where they work themselves)."""
    staff = getattr(actor, "vendor_staff", None)
    if staff is None or not staff.is_lead or staff.vendor_id != engagement.vendor_id:
        return False
    if not has_perm(actor, perms.VIEW_PRACTICE, engagement.practice_id):
        return False
    today = timezone.localdate()
    return Assignment.objects.filter(staff=staff, engagement=engagement).in_force(today).exists()


def require_staff_manager(actor: Any, staff: VendorStaff, engagement: Engagement) -> None:
    """Refuse unless the actor may assign this vendor staff member on this engagement: a
    manager of the practice, or a lead of the same vendor on that engagement acting on
    staff who are not leads and not themselves (the system, None, always may)."""
    if actor is None or actor.is_superuser:
        return
    if has_perm(actor, perms.MANAGE_ACCESS, engagement.practice_id):
        return
    if (
        staff.vendor_id == engagement.vendor_id
        and not staff.is_lead
        and staff.user_id != actor.pk
        and leads_engagement(actor, engagement)
    ):
        return
    raise PermissionDenied(f"You may not manage {staff.user}'s access at {engagement.practice}.")


def _save(instance: models.Model, actor: Any) -> None:
    instance.full_clean()
    instance._history_user = actor  # type: ignore[attr-defined]
    instance.save()


# --- people ---------------------------------------------------------------------------


@transaction.atomic
def membership_set(*, actor: Any, user: Any, practice: Practice, role: str) -> Membership:
    """Give a user a role at a practice (or change it) and re-derive their access."""
    require_practice_perm(actor, perms.MANAGE_ACCESS, practice)
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}."})
    if hasattr(user, "vendor_staff"):
        raise ValidationError({"user": "Vendor staff get access through assignments only."})
    membership = Membership.objects.filter(user=user, practice=practice).first()
    if membership is not None and membership.is_active and membership.role == role:
        return membership  # unchanged: no history row, no re-derivation
    membership = membership or Membership(user=user, practice=practice)
    membership.role = role
    membership.is_active = True
    _save(membership, actor)
    sync_user_access(user)
    return membership


def _refuse_self_revoke(actor: Any, user: Any) -> None:
    # A manager who revokes their own access locks themselves out mid-task (and may leave
    # the practice without a manager); another manager or an administrator does it.
    if actor is not None and actor.pk == user.pk:
        raise ValidationError("You cannot revoke your own access.", code="self_revoke")


def _refuse_dropping_work(actor: Any, user: Any, practice_id: int) -> None:
    # An administrator's direct revoke (shell, admin) must not drop the person's open work
    # into Unassigned: it is refused while they own any; the people page's revoke
    # (practices.people_services) hands it over first, in the same transaction.
    if actor is None or not actor.is_superuser:
        return
    counts = handover.open_work(user, practice_id)
    if counts:
        raise ValidationError(
            f"{user} owns {sum(counts.values())} open item(s) here: revoke on the people "
            "page, which asks who takes them over.",
            code="open_work",
        )


@transaction.atomic
def membership_revoke(*, actor: Any, membership: Membership) -> Membership:
    """End a membership; the user loses that practice on their next request. An
    administrator's revoke is refused while the person owns open items there."""
    require_practice_perm(actor, perms.MANAGE_ACCESS, membership.practice)
    _refuse_self_revoke(actor, membership.user)
    _refuse_dropping_work(actor, membership.user, membership.practice_id)
    membership.is_active = False
    _save(membership, actor)
    sync_user_access(membership.user)
    return membership


def _clean_areas(areas: Iterable[str], field: str) -> list[str]:
    areas = list(dict.fromkeys(areas))
    unknown = [a for a in areas if a not in ServiceArea.values]
    if unknown:
        raise ValidationError({field: f"Unknown service area(s): {', '.join(unknown)}."})
    if not areas:
        raise ValidationError({field: "Choose at least one service area."})
    return areas


@transaction.atomic
def engagement_set(
    *,
    actor: Any,
    vendor: Any,
    practice: Practice,
    service_areas: Iterable[str],
    primary_contact: Any,
    backup_contact: Any = None,
    starts_on: dt.date,
    ends_on: dt.date | None = None,
    **thresholds: Any,
) -> Engagement:
    """Create or change a vendor engagement; narrowing its areas narrows every assignment."""
    require_practice_perm(actor, perms.MANAGE_ACCESS, practice)
    areas = _clean_areas(service_areas, "service_areas")
    engagement = Engagement.objects.filter(vendor=vendor, practice=practice).first()
    engagement = engagement or Engagement(vendor=vendor, practice=practice)
    engagement.service_areas = areas
    engagement.primary_contact = primary_contact
    engagement.backup_contact = backup_contact
    engagement.starts_on = starts_on
    engagement.ends_on = ends_on
    for name, value in thresholds.items():
        setattr(engagement, name, value)
    _save(engagement, actor)
    for assignment in engagement.assignments.select_related("staff__user"):
        sync_user_access(assignment.staff.user)
    return engagement


@transaction.atomic
def assignment_set(
    *,
    actor: Any,
    staff: VendorStaff,
    engagement: Engagement,
    service_areas: Iterable[str],
    ends_on: dt.date | None = None,
) -> Assignment:
    """Assign vendor staff to an engagement for a subset of its service areas."""
    require_staff_manager(actor, staff, engagement)
    areas = _clean_areas(service_areas, "service_areas")
    if staff.vendor_id != engagement.vendor_id:
        raise ValidationError({"staff": f"{staff.user} does not work for {engagement.vendor}."})
    outside = [a for a in areas if a not in engagement.service_areas]
    if outside:
        raise ValidationError(
            {"service_areas": f"Not in the engagement's scope: {', '.join(outside)}."}
        )
    if ends_on is not None and ends_on < timezone.localdate():
        raise ValidationError({"ends_on": "The end date is in the past."})
    assignment = Assignment.objects.filter(staff=staff, engagement=engagement).first()
    if (
        assignment is not None
        and assignment.revoked_at is None
        and assignment.service_areas == areas
        and assignment.ends_on == ends_on
    ):
        return assignment  # unchanged: no history row, no re-derivation
    assignment = assignment or Assignment(staff=staff, engagement=engagement)
    assignment.service_areas = areas
    assignment.ends_on = ends_on
    assignment.revoked_at = None
    _save(assignment, actor)
    sync_user_access(staff.user)
    return assignment


@transaction.atomic
def assignment_revoke(*, actor: Any, assignment: Assignment) -> Assignment:
    """End an assignment now: the vendor user's next request no longer sees the practice.
    An administrator's revoke is refused while the person owns open items there."""
    require_staff_manager(actor, assignment.staff, assignment.engagement)
    _refuse_self_revoke(actor, assignment.staff.user)
    _refuse_dropping_work(actor, assignment.staff.user, assignment.engagement.practice_id)
    assignment.revoked_at = timezone.now()
    _save(assignment, actor)
    sync_user_access(assignment.staff.user)
    return assignment


@transaction.atomic
def user_set_active(*, actor: Any, user: Any, is_active: bool) -> Any:
    """Activate or deactivate an account; a deactivated user is refused on the next request."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied("Only an administrator may (de)activate accounts.")
    user.is_active = is_active
    user._history_user = actor
    user.save(update_fields=["is_active"])
    sync_user_access(user)
    return user


def expire_ended_assignments() -> int:
    """Re-derive access of every vendor user with an assignment, so engagements and
    assignments that start or end by date take effect; returns how many users changed.
    (Vendor users are few; a second run changes nothing.)"""
    changed = 0
    vendor_users = User.objects.filter(vendor_staff__assignments__isnull=False).distinct()
    for user in vendor_users:
        added, removed = sync_user_access(user)
        changed += bool(added or removed)
    return changed


# --- patients and their reference data ------------------------------------------------


def _same_practice(practice: Practice, **related: Any) -> None:
    errors = {
        name: f"Must belong to {practice}."
        for name, obj in related.items()
        if obj is not None and obj.practice_id != practice.pk
    }
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def payer_create(*, actor: Any, practice: Practice, **fields: Any) -> Payer:
    """Add a payer to a practice (claim imports add the payers their files name)."""
    require_practice_perm(actor, perms.WORK_CLAIMS, practice)
    payer = Payer(practice=practice, **fields)
    _save(payer, actor)
    return payer


@transaction.atomic
def provider_create(*, actor: Any, practice: Practice, **fields: Any) -> Provider:
    """Add a provider to a practice (claim imports add the NPIs their files name)."""
    require_practice_perm(actor, perms.WORK_CLAIMS, practice)
    provider = Provider(practice=practice, **fields)
    _save(provider, actor)
    return provider


@transaction.atomic
def patient_save(*, actor: Any, patient: Patient, **fields: Any) -> Patient:
    """Create or update a patient; the practice of an existing patient never changes."""
    practice = fields.pop("practice", None) or patient.practice
    if patient.pk and practice.pk != patient.practice_id:
        raise ValidationError({"practice": "A patient cannot move to another practice."})
    require_practice_perm(actor, perms.EDIT_PATIENTS, practice)
    patient.practice = practice
    for name, value in fields.items():
        setattr(patient, name, value)
    _save(patient, actor)
    return patient


@transaction.atomic
def coverage_save(*, actor: Any, coverage: Coverage, **fields: Any) -> Coverage:
    """Create or update a coverage; payer and patient must be of the coverage's practice."""
    for name, value in fields.items():
        setattr(coverage, name, value)
    coverage.practice_id = coverage.patient.practice_id
    require_practice_perm(actor, perms.EDIT_PATIENTS, coverage.patient.practice)
    _same_practice(coverage.patient.practice, payer=coverage.payer)
    _save(coverage, actor)
    return coverage


@transaction.atomic
def appointment_save(*, actor: Any, appointment: Appointment, **fields: Any) -> Appointment:
    """Create or update an appointment; patient and provider must share its practice."""
    for name, value in fields.items():
        setattr(appointment, name, value)
    appointment.practice_id = appointment.patient.practice_id
    require_practice_perm(actor, perms.EDIT_PATIENTS, appointment.patient.practice)
    _same_practice(appointment.patient.practice, provider=appointment.provider)
    _save(appointment, actor)
    return appointment


@transaction.atomic
def appointment_cancel(*, actor: Any, appointment: Appointment) -> Appointment:
    """Cancel a scheduled appointment (its eligibility checks close on the next beat run);
    a completed one stays as it was."""
    appointment = (
        Appointment.objects.select_for_update(of=("self",))
        .select_related("practice")
        .get(pk=appointment.pk)
    )
    require_practice_perm(actor, perms.EDIT_PATIENTS, appointment.practice)
    if appointment.status == AppointmentStatus.CANCELLED:
        return appointment
    if appointment.status != AppointmentStatus.SCHEDULED:
        state = appointment.get_status_display().lower()
        raise ValidationError({"status": f"A {state} appointment cannot be cancelled."})
    appointment.status = AppointmentStatus.CANCELLED
    _save(appointment, actor)
    return appointment


def phi_access_record(*, user: Any, patient: Patient, action: str, path: str = "") -> None:
    """Append one PHI access log row (opened or exported)."""
    if action not in AccessAction.values:
        raise ValueError(f"Unknown access action {action!r}")
    PhiAccessLog.objects.create(
        user=user, practice_id=patient.practice_id, patient=patient, action=action, path=path[:300]
    )


def phi_access_record_many(
    *, user: Any, patients: Iterable[Patient], action: str, path: str
) -> int:
    """Append one access log row per patient of an export, in one query."""
    rows = [
        PhiAccessLog(
            user=user, practice_id=p.practice_id, patient=p, action=action, path=path[:300]
        )
        for p in patients
    ]
    PhiAccessLog.objects.bulk_create(rows)
    return len(rows)
