"""Writes for the recare list: add a patient to call, log a call with its outcome, the CSV
import of recall due dates, and the sweep that adds planned treatment never booked and
closes items whose patient has booked.

Every write records the actor, locks the item and ends with ``save_checked``. Booking
closes an item (a call with the outcome "booked", or the sweep finding the visit);
declining closes it too. Non-clinical only: dates, codes and call outcomes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from billing_ops.access import has_perm, holders
from claims.imports.csv_columns import Layout, read_table
from claims.imports.results import Context, Outcome
from claims.imports.services import decode_upload
from eligibility.recare_models import (
    CallOutcome,
    RecareActivity,
    RecareActivityKind,
    RecareClosedReason,
    RecareItem,
    RecareKind,
    RecareNextAction,
)
from practices import permissions as perms
from practices.choices import AppointmentStatus
from practices.models import Appointment, Patient, Practice
from work.functions import function_holders
from work.services import lock_for_update, release_hold, save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor

PERM = perms.WORK_RECARE
RECARE_FUNCTION = "recare"  # sops.choices.BillingFunctionKind
RECARE_KEY = "recare"  # the work item type (eligibility.recare_queues)
# A recall is called this many days before it is due.
LEAD_DAYS = 14
# A reached or messaged patient is called again after this many days unless told otherwise.
RETRY_DAYS = 7
# Missed visits (cancelled, no-show) this far back are looked at for planned treatment.
LOOKBACK_DAYS = 180
MISSED = (AppointmentStatus.CANCELLED, AppointmentStatus.NO_SHOW)
BOOKED = (AppointmentStatus.SCHEDULED, AppointmentStatus.COMPLETED)
RECALL_LAYOUT = Layout(required=("patient_account", "due_date"), optional=("recall_type",))


def require_perm(actor: Actor, practice_id: int) -> None:
    if actor is not None and not has_perm(actor, PERM, practice_id):
        raise PermissionDenied("You may not work the recare list at this practice.")


def choose_owner(practice_id: int, actor: Actor) -> Any:
    """The practice's recare function owner (or backup), else the actor, else anybody who
    may work the recare list there."""
    candidates = list(function_holders(practice_id, RECARE_FUNCTION))
    if actor is not None:
        candidates.append(actor.pk)
    users = get_user_model().objects.in_bulk(set(candidates))
    for user_id in candidates:
        user = users.get(user_id)
        if user is not None and user.is_active and has_perm(user, PERM, practice_id):
            return user
    fallback = holders(PERM, practice_id).order_by("pk").first()
    if fallback is None:
        raise ValidationError({"owner": "Nobody can work the recare list at this practice."})
    return fallback


def log_activity(item: RecareItem, actor: Actor, kind: str, text: str) -> None:
    """The item's timeline entry (also for work-core changes: next action, owner)."""
    kind = kind if kind in RecareActivityKind.values else RecareActivityKind.EDIT
    RecareActivity.objects.create(item=item, actor=actor, kind=kind, text=text[:300])


def _close(item: RecareItem, reason: str) -> None:
    item.next_action, item.next_action_due, item.wait_reason = "", None, ""
    item.closed_at = item.closed_at or timezone.now()
    item.closed_reason = reason


def first_call_on(kind: str, due_on: dt.date, today: dt.date) -> dt.date:
    lead = LEAD_DAYS if kind == RecareKind.RECALL else 0
    return max(due_on - dt.timedelta(days=lead), today)


@transaction.atomic
def recare_add(
    *,
    actor: Actor,
    patient: Patient,
    kind: str,
    due_on: dt.date,
    recall_type: str = "",
    procedure_codes: Iterable[str] = (),
    source_appointment: Appointment | None = None,
    owner: Any = None,
    today: dt.date | None = None,
) -> RecareItem:
    """Put a patient on the recare list (a recall due, or planned treatment to book)."""
    today = today or timezone.localdate()
    require_perm(actor, patient.practice_id)
    if kind not in RecareKind.values:
        raise ValidationError({"kind": f"{kind!r} is not a recare kind."})
    if (
        kind == RecareKind.RECALL
        and RecareItem.objects.filter(patient=patient, kind=kind, closed_at__isnull=True).exists()
    ):
        raise ValidationError({"patient": "The patient already has an open recall."})
    if owner is not None and not has_perm(owner, PERM, patient.practice_id):
        raise ValidationError({"owner": f"{owner} cannot work the recare list here."})
    item = RecareItem(
        practice_id=patient.practice_id,
        patient=patient,
        kind=kind,
        due_on=due_on,
        recall_type=recall_type.strip()[:60],
        procedure_codes=[str(c).upper() for c in procedure_codes],
        source_appointment=source_appointment,
        next_action=RecareNextAction.CALL,
        next_action_due=first_call_on(kind, due_on, today),
        owner=owner or choose_owner(patient.practice_id, actor),
    )
    save_checked(item, actor, today)
    what = item.recall_type or ", ".join(item.procedure_codes) or item.get_kind_display()
    log_activity(item, actor, RecareActivityKind.CREATED, f"{what}, due {due_on:%m/%d/%Y}")
    return item


@transaction.atomic
def recare_log_call(
    *,
    actor: Actor,
    item: RecareItem,
    outcome: str,
    next_call_on: dt.date | None = None,
    appointment: Appointment | None = None,
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> RecareItem:
    """One call attempt: booked closes the item (with the visit, if given), declined closes
    it, wrong number asks for a working number, reached or left message calls again on
    ``next_call_on`` (default in a week)."""
    today = today or timezone.localdate()
    require_perm(actor, item.practice_id)
    item = lock_for_update(item, expected_version)
    if not item.is_open:
        raise ValidationError({"outcome": f"{item.label} is closed."})
    if outcome not in CallOutcome.values:
        raise ValidationError({"outcome": f"{outcome!r} is not a call outcome."})
    if next_call_on is not None and next_call_on < today:
        raise ValidationError({"next_call_on": "The next call cannot be in the past."})
    if appointment is not None:
        if appointment.patient_id != item.patient_id:
            raise ValidationError({"appointment": "The appointment is not the patient's."})
        if outcome != CallOutcome.BOOKED:
            raise ValidationError({"appointment": "Only a booked call names an appointment."})
    item.attempts += 1
    item.last_outcome = outcome
    item.last_called_at = timezone.now()
    text = CallOutcome(outcome).label
    if outcome == CallOutcome.BOOKED:
        item.booked_appointment = appointment
        _close(item, RecareClosedReason.BOOKED)
        if appointment is not None:
            text += f" for {timezone.localtime(appointment.starts_at):%m/%d/%Y %H:%M}"
    elif outcome == CallOutcome.DECLINED:
        _close(item, RecareClosedReason.DECLINED)
    else:
        item.wait_reason = ""
        item.next_action = (
            RecareNextAction.FIND_NUMBER
            if outcome == CallOutcome.WRONG_NUMBER
            else RecareNextAction.CALL
        )
        default = today if outcome == CallOutcome.WRONG_NUMBER else today + dt.timedelta(RETRY_DAYS)
        item.next_action_due = next_call_on or default
        text += f"; next: {item.get_next_action_display()} on {item.next_action_due:%m/%d/%Y}"
    release_hold(item, actor)
    save_checked(item, actor, today)
    RecareActivity.objects.create(
        item=item, actor=actor, kind=RecareActivityKind.CALL, outcome=outcome, text=text
    )
    return item


# --- the sweep: planned treatment never booked, and bookings that close items ----------


def _later_booking(patient_id: int, after: dt.datetime, codes: set[str]) -> Appointment | None:
    later = Appointment.objects.filter(
        patient_id=patient_id, starts_at__gt=after, status__in=BOOKED
    ).order_by("starts_at")
    for visit in later:
        if not codes or codes & {str(c).upper() for c in visit.planned_procedures}:
            return visit
    return None


def recare_sweep(today: dt.date) -> dict[str, int]:
    """Add planned treatment of missed visits (cancelled, no-show) that nobody booked
    again, and close open items whose patient has booked: planned treatment by a later
    visit with one of its codes, a recall by a visit from two weeks before it is due on.
    Idempotent."""
    counts = {"added": 0, "booked": 0}
    since = timezone.now() - dt.timedelta(days=LOOKBACK_DAYS)
    missed = (
        Appointment.objects.filter(
            practice__is_active=True, status__in=MISSED, starts_at__gte=since
        )
        .exclude(planned_procedures=[])
        .exclude(
            pk__in=RecareItem.objects.filter(kind=RecareKind.PLANNED).values("source_appointment")
        )
        .select_related("patient")
        .order_by("pk")
    )
    for visit in missed:
        codes = {str(c).upper() for c in visit.planned_procedures}
        if _later_booking(visit.patient_id, visit.starts_at, codes) is not None:
            continue
        if not holders(PERM, visit.practice_id).exists():
            continue  # nobody works recare there: no item nobody could own
        recare_add(
            actor=None,
            patient=visit.patient,
            kind=RecareKind.PLANNED,
            due_on=timezone.localtime(visit.starts_at).date(),
            procedure_codes=sorted(codes),
            source_appointment=visit,
            today=today,
        )
        counts["added"] += 1
    start_of_today = timezone.make_aware(dt.datetime.combine(today, dt.time.min))
    open_items = RecareItem.objects.filter(closed_at__isnull=True)
    # Only patients with a visit booked from today on can close anything (one query).
    booked_patients = set(
        Appointment.objects.filter(
            patient_id__in=open_items.values("patient_id"),
            status=AppointmentStatus.SCHEDULED,
            starts_at__gte=start_of_today,
        ).values_list("patient_id", flat=True)
    )
    candidates = open_items.filter(patient_id__in=booked_patients).select_related(
        "source_appointment"
    )
    for item in candidates.order_by("pk"):
        if item.kind == RecareKind.PLANNED and item.source_appointment is not None:
            after = item.source_appointment.starts_at
            booking = _later_booking(item.patient_id, after, set(item.procedure_codes))
        else:
            # A visit before the recall window (an unrelated visit next week for a recall
            # due in three months) does not book the recall.
            window = timezone.make_aware(dt.datetime.combine(item.due_on, dt.time.min))
            window -= dt.timedelta(days=LEAD_DAYS)
            booking = _later_booking(item.patient_id, max(start_of_today, window), set())
        if booking is None:
            continue
        with transaction.atomic():
            locked = lock_for_update(item, None)
            if not locked.is_open:
                continue
            locked.booked_appointment = booking
            _close(locked, RecareClosedReason.BOOKED)
            save_checked(locked, None, today)
            when = timezone.localtime(booking.starts_at)
            log_activity(locked, None, RecareActivityKind.CLOSED, f"Booked for {when:%m/%d/%Y}")
        counts["booked"] += 1
    return counts


# --- the CSV import of recall due dates ----------------------------------------------------


def recare_import(
    *, actor: Actor, practice: Practice, content: bytes, today: dt.date | None = None
) -> Outcome:
    """Recall due dates from a PMS export (patient_account, due_date[, recall_type]): a
    patient's open recall is updated, else one is added. Any bad row rejects the file and
    nothing changes; the outcome lists every problem by row."""
    today = today or timezone.localdate()
    require_perm(actor, practice.pk)
    text = decode_upload(content)
    outcome = Outcome()
    ctx = Context(actor=actor, practice=practice, outcome=outcome)
    table = read_table(text, RECALL_LAYOUT, {}, ctx)
    outcome.total = len(table.rows)
    if not table.ok:
        return outcome
    accounts = {row.raw("patient_account") for row in table.rows}
    patients = {
        p.account_number: p
        for p in Patient.objects.filter(practice=practice, account_number__in=accounts)
    }
    records: list[tuple[Patient, dt.date, str]] = []
    seen: dict[str, int] = {}
    for row in table.rows:
        account = row.text("patient_account", required=True)
        due_on = row.date("due_date", required=True)
        recall_type = row.text("recall_type", max_length=60)
        patient = patients.get(account)
        if account and patient is None:
            row.error("patient_account", f"no patient account {account!r} at {practice}")
        if due_on is not None and not dt.date(2000, 1, 1) <= due_on <= dt.date(2100, 12, 31):
            row.error("due_date", f"{due_on:%m/%d/%Y} is not a plausible recall date")
        if account in seen:
            row.error("patient_account", f"the same patient as row {seen[account]}")
        seen.setdefault(account, row.number)
        if row.ok and patient is not None and due_on is not None:
            records.append((patient, due_on, recall_type))
    if outcome.rejected:
        return outcome
    try:
        _apply_recalls(actor, practice, records, outcome, today)
    except ValidationError as exc:
        # A write the rows could not foresee (e.g. nobody to own the items): all or nothing.
        for message in exc.messages:
            outcome.error(message, fatal=True)
        outcome.created = outcome.updated = outcome.unchanged = 0
    return outcome


@transaction.atomic
def _apply_recalls(
    actor: Actor,
    practice: Practice,
    records: list[tuple[Patient, dt.date, str]],
    outcome: Outcome,
    today: dt.date,
) -> None:
    """Write the validated rows in one transaction."""
    open_recalls = {
        item.patient_id: item
        for item in RecareItem.objects.filter(
            practice=practice, kind=RecareKind.RECALL, closed_at__isnull=True
        )
    }
    for patient, due_on, recall_type in records:
        item = open_recalls.get(patient.pk)
        if item is None:
            recare_add(
                actor=actor,
                patient=patient,
                kind=RecareKind.RECALL,
                due_on=due_on,
                recall_type=recall_type,
                today=today,
            )
            outcome.created += 1
        elif item.due_on != due_on or item.recall_type != recall_type:
            _recall_update(item, actor, due_on, recall_type, today)
            outcome.updated += 1
        else:
            outcome.unchanged += 1


def _recall_update(
    item: RecareItem, actor: Actor, due_on: dt.date, recall_type: str, today: dt.date
) -> None:
    locked = lock_for_update(item, None)
    text = f"Due {locked.due_on:%m/%d/%Y} → {due_on:%m/%d/%Y}"
    locked.due_on, locked.recall_type = due_on, recall_type
    if locked.next_action == RecareNextAction.CALL and locked.attempts == 0:
        locked.next_action_due = first_call_on(locked.kind, due_on, today)
    save_checked(locked, actor, today)
    log_activity(locked, actor, RecareActivityKind.EDIT, text)
