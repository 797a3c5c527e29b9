"""Demo prior authorizations and recare lists, through the services.

Sunrise Dental: Delta Dental wants a prior authorization for crowns (D27*), so the day
sheet shows it on crown visits; five authorizations (approved and ending in ten days,
approved, requested, needed, denied). Both practices: a recare list from a recall file
(through the CSV import) and planned treatment of cancelled visits nobody booked again
(through the sweep), with a few calls logged. Seeded once per practice; ``--reset`` removes
it with the practice's patients (``reset_frontdesk``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from claims.models import PayerRule
from eligibility.auth_models import AuthStatus, PriorAuthorization
from eligibility.authorizations import (
    authorization_create,
    authorization_update,
    authorization_use_units,
    authorizations_sweep,
)
from eligibility.recare import recare_import, recare_log_call, recare_sweep
from eligibility.recare_models import CallOutcome, RecareItem, RecareKind
from practices import services as practice_services
from practices.choices import AppointmentStatus, CobOrder, PracticeKind
from practices.models import Appointment, Practice

AUTH_PAYER = "DDPA1"  # Delta Dental at Sunrise
CROWNS = "D27*"


def reset_frontdesk(practices: list[Practice]) -> None:
    """Remove the demo's authorizations and recare items (before their patients go; the
    caller steps past the append-only triggers of their timelines)."""
    RecareItem.objects.filter(practice__in=practices).delete()
    PriorAuthorization.objects.filter(practice__in=practices).update(renews=None)
    PriorAuthorization.objects.filter(practice__in=practices).delete()


def seed_frontdesk(practice: Practice, users: dict[str, Any]) -> dict[str, int]:
    """Prior authorizations (dental practice) and the recare list (both), once."""
    counts = {"authorizations": 0, "recare": 0}
    if practice.kind == PracticeKind.DENTAL:
        counts["authorizations"] = _authorizations(practice, users["fran.frontdesk"])
    manager = users["sam.manager" if practice.kind == PracticeKind.DENTAL else "mia.manager"]
    counts["recare"] = _recare(practice, manager)
    return counts


def _authorizations(practice: Practice, actor: Any) -> int:
    payer = practice.payers.filter(payer_id=AUTH_PAYER).first()
    if payer is None:
        return 0
    PayerRule.objects.get_or_create(
        practice=practice,
        payer=payer,
        procedure_code_pattern=CROWNS,
        needs_authorization=True,
        defaults={"description": "Crowns (D27xx) need a prior authorization."},
    )
    if PriorAuthorization.objects.filter(practice=practice).exists():
        return 0
    today = timezone.localdate()
    visits = [
        visit
        for visit in Appointment.objects.filter(
            practice=practice,
            status=AppointmentStatus.SCHEDULED,
            starts_at__gte=timezone.now(),
            patient__coverages__payer=payer,
            patient__coverages__cob_order=CobOrder.PRIMARY,
        )
        .select_related("patient")
        .order_by("starts_at", "pk")
        if any(str(code).startswith("D27") for code in visit.planned_procedures)
    ][:5]
    made = 0
    plans: list[dict[str, Any]] = [
        # Approved, ending in ten days: the expiry alert and "renew" on My day.
        {
            "status": AuthStatus.APPROVED,
            "number": "DD-PA-40211",
            "valid_from": today - dt.timedelta(days=80),
            "valid_to": today + dt.timedelta(days=10),
            "units_approved": 2,
        },
        {
            "status": AuthStatus.APPROVED,
            "number": "DD-PA-40377",
            "valid_from": today - dt.timedelta(days=5),
            "valid_to": today + dt.timedelta(days=180),
            "units_approved": 4,
        },
        {"status": AuthStatus.REQUESTED},
        {"status": AuthStatus.NEEDED},
        {"status": AuthStatus.NEEDED, "then": AuthStatus.DENIED},
    ]
    for visit, plan in zip(visits, plans, strict=False):
        then = plan.pop("then", None)
        codes = [c for c in visit.planned_procedures if str(c).startswith("D27")]
        item = authorization_create(
            actor=actor,
            patient=visit.patient,
            payer=payer,
            appointment=visit,
            procedure_codes=codes,
            today=today,
            **plan,
        )
        if then is not None:
            authorization_update(actor=actor, authorization=item, status=then, today=today)
        if item.number == "DD-PA-40377":
            authorization_use_units(actor=actor, authorization=item, units=1, today=today)
        made += 1
    authorizations_sweep(today)
    return made


def _recare(practice: Practice, actor: Any) -> int:
    if RecareItem.objects.filter(practice=practice).exists():
        return 0
    today = timezone.localdate()
    patients = list(practice.patients.order_by("account_number")[:40])
    recall_type = "6-month hygiene" if practice.kind == PracticeKind.DENTAL else "Annual physical"
    # Recalls due six weeks to four months out: the patients' visits in the next weeks
    # come before the recall window, so they stay on the list.
    lines = ["patient_account,due_date,recall_type"]
    for n, patient in enumerate(patients[:10]):
        due = today + dt.timedelta(days=45 + 8 * n)
        lines.append(f"{patient.account_number},{due:%Y-%m-%d},{recall_type}")
    recare_import(actor=actor, practice=practice, content="\n".join(lines).encode(), today=today)
    # Cancelled and missed visits whose planned work nobody booked again.
    codes = ["D2740", "D4341"] if practice.kind == PracticeKind.DENTAL else ["99395", "90686"]
    for n, patient in enumerate(patients[20:24]):
        upcoming = patient.appointments.filter(status=AppointmentStatus.SCHEDULED).first()
        provider = upcoming.provider if upcoming else practice.providers.first()
        if provider is None:
            continue
        planned = [c for c in codes if not upcoming or c not in upcoming.planned_procedures]
        if not planned:
            continue
        starts = timezone.now() - dt.timedelta(days=3 + 9 * n)
        practice_services.appointment_save(
            actor=actor,
            appointment=Appointment(patient=patient),
            provider=provider,
            starts_at=starts.replace(minute=0, second=0, microsecond=0),
            status=AppointmentStatus.CANCELLED if n % 2 == 0 else AppointmentStatus.NO_SHOW,
            planned_procedures=planned,
        )
    recare_sweep(today)
    items = list(RecareItem.objects.filter(practice=practice).order_by("pk"))
    recalls = [i for i in items if i.kind == RecareKind.RECALL]
    planned_items = [i for i in items if i.kind == RecareKind.PLANNED]
    if recalls:
        recare_log_call(actor=actor, item=recalls[0], outcome=CallOutcome.LEFT_MESSAGE, today=today)
    if len(recalls) > 1:
        recare_log_call(actor=actor, item=recalls[1], outcome=CallOutcome.WRONG_NUMBER, today=today)
    if planned_items:
        recare_log_call(
            actor=actor,
            item=planned_items[0],
            outcome=CallOutcome.REACHED,
            next_call_on=today + dt.timedelta(days=2),
            today=today,
        )
    return RecareItem.objects.filter(practice=practice).count()
