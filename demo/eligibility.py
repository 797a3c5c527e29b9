"""Demo appointments over the next two weeks and their eligibility checks in every state.

Each practice gets four visits a day for the next fourteen days (through
``practices.services.appointment_save``), for patients with a primary coverage. The beat
job's own service opens the checks of the next 72 hours; results go through
``check_record_result`` by each check's owner: most verified active (plan, copay,
coinsurance, deductible, annual maximum, a frequency limit), some inactive, some needing
information from the patient, the rest not done. Tomorrow's first visit at the dental
practice stays not done: the front desk's first thing to verify. Re-running the same day
adds nothing; ``--reset`` removes the checks before the patients go (``reset_eligibility``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from eligibility.choices import CheckMethod, CheckOutcome
from eligibility.models import EligibilityCheck
from eligibility.response_models import Eligibility270Export, EligibilityResponseImport
from eligibility.results import CheckResult, FrequencyLimit
from eligibility.services import check_record_result, checks_for_upcoming
from practices import services as practice_services
from practices.choices import CobOrder, PracticeKind
from practices.models import Appointment, Coverage, Practice

DAYS = 14
SLOTS = ((8, 0), (9, 30), (11, 0), (14, 0))
DENTAL_PLANS = (["D0120", "D1110"], ["D0274", "D1110"], ["D2392"], ["D2740"], ["D4341"])
MEDICAL_PLANS = (["99213"], ["99214", "36415"], ["99395", "81002"], ["90686"])


def reset_eligibility(practices: list[Practice]) -> None:
    """Remove the demo practices' checks and 271/270 records (before their patients go;
    the caller steps past the append-only triggers of the checks' timelines)."""
    EligibilityResponseImport.objects.filter(practice__in=practices).delete()
    Eligibility270Export.objects.filter(practice__in=practices).delete()
    EligibilityCheck.objects.filter(practice__in=practices).delete()


def seed_eligibility(practice: Practice, users: dict[str, Any]) -> dict[str, int]:
    """Visits for the next two weeks, their checks within 72 h, results in every state."""
    dental = practice.kind == PracticeKind.DENTAL
    actor = users["fran.frontdesk" if dental else "mia.manager"]
    booked = _appointments(practice, actor, DENTAL_PLANS if dental else MEDICAL_PLANS)
    opened = checks_for_upcoming()
    results = _results(practice, keep_open=_first_tomorrow(practice) if dental else None)
    return {"appointments": booked, "checks": opened["created"], "results": results}


def _appointments(practice: Practice, actor: Any, plans: tuple[list[str], ...]) -> int:
    coverages = list(
        Coverage.objects.filter(practice=practice, cob_order=CobOrder.PRIMARY)
        .exclude(member_id="")
        .select_related("patient")
        .order_by("patient__account_number")
    )
    providers = list(practice.providers.order_by("npi"))
    if not coverages or not providers:
        return 0
    tz = timezone.get_current_timezone()
    today = timezone.localdate()
    wanted = []
    for offset in range(DAYS):
        day = today + dt.timedelta(days=offset)
        for slot, (hour, minute) in enumerate(SLOTS):
            n = offset * len(SLOTS) + slot
            starts_at = dt.datetime.combine(day, dt.time(hour, minute), tzinfo=tz)
            if starts_at <= timezone.now():
                continue
            wanted.append((coverages[(n * 7) % len(coverages)].patient, starts_at, n))
    have = set(
        Appointment.objects.filter(
            practice=practice, starts_at__in=[w[1] for w in wanted]
        ).values_list("patient_id", "starts_at")
    )
    made = 0
    for patient, starts_at, n in wanted:
        if (patient.pk, starts_at) in have:
            continue
        practice_services.appointment_save(
            actor=actor,
            appointment=Appointment(),
            patient=patient,
            provider=providers[n % len(providers)],
            starts_at=starts_at,
            planned_procedures=plans[n % len(plans)],
        )
        made += 1
    return made


def _first_tomorrow(practice: Practice) -> int | None:
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    first = (
        EligibilityCheck.objects.filter(practice=practice, appointment__starts_at__date=tomorrow)
        .order_by("appointment__starts_at", "pk")
        .first()
    )
    return first.pk if first is not None else None


def _result(check: EligibilityCheck, kind: int, dental: bool) -> CheckResult:
    reference = f"DEMO-{check.pk:05d}"
    if kind == 3:
        return CheckResult(
            status=CheckOutcome.INACTIVE,
            method=CheckMethod.PORTAL,
            reference=reference,
            problems=("Coverage terminated at the end of last month",),
        )
    if kind == 4:
        return CheckResult(
            status=CheckOutcome.NEEDS_INFO,
            method=CheckMethod.PHONE,
            reference=reference,
            problems=("Subscriber date of birth does not match the payer's record",),
        )
    limits = (
        (FrequencyLimit("Prophylaxis D1110: 2 per calendar year", "2026-06-02"),) if dental else ()
    )
    return CheckResult(
        status=CheckOutcome.ACTIVE,
        method=(CheckMethod.PORTAL, CheckMethod.PHONE, CheckMethod.X12_271)[check.pk % 3],
        plan_name=f"{check.payer.name} {'PPO' if dental else 'Choice Plus'}",
        group_number=check.group_number,
        member_id=check.member_id,
        reference=reference,
        copay=Decimal(("0.00", "15.00", "25.00")[check.pk % 3]),
        coinsurance_percent=Decimal("20"),
        deductible=Decimal("50.00") if dental else Decimal("500.00"),
        deductible_remaining=Decimal(("0.00", "25.00")[check.pk % 2]),
        annual_max_remaining=Decimal("1200.00") if dental else None,
        frequency_limits=limits,
    )


def _results(practice: Practice, keep_open: int | None) -> int:
    """Results for the practice's checks not done yet, by the check's owner: in pk order,
    three in six active, one inactive, one needs info, one left not done (by position, not
    by pk: ids depend on what the database handed out before)."""
    dental = practice.kind == PracticeKind.DENTAL
    checks = EligibilityCheck.objects.filter(
        practice=practice, status=CheckOutcome.NOT_DONE, closed_at__isnull=True
    ).select_related("payer", "owner", "appointment")
    recorded = 0
    if (
        EligibilityCheck.objects.filter(practice=practice)
        .exclude(status=CheckOutcome.NOT_DONE)
        .exists()
    ):
        return 0  # seeded before: the checks left not done stay so
    others = (check for check in checks.order_by("pk") if check.pk != keep_open)
    for position, check in enumerate(others):
        kind = position % 6
        if kind == 5:
            continue
        check_record_result(actor=check.owner, check=check, result=_result(check, kind, dental))
        recorded += 1
    return recorded
