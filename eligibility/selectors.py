"""Reads of eligibility: the front desk's day sheet and the "verified before the day of
service" figure the KPI dashboard reads.

Both read stored data only, in a fixed number of queries whatever the number of rows.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from eligibility.authorizations import appointment_auth_status
from eligibility.choices import CheckOutcome
from eligibility.models import EligibilityCheck
from practices.choices import AppointmentStatus
from practices.models import Appointment, FeeScheduleLine

CENT = Decimal("0.01")
# The day sheet shows a prior-authorization column (``eligibility.authorizations``).
AUTH_COLUMN = True
HUNDRED = Decimal(100)
# The day sheet's eligibility column: the worst outcome of an appointment's checks wins.
STATUS_ORDER = [
    CheckOutcome.INACTIVE,
    CheckOutcome.NEEDS_INFO,
    CheckOutcome.NOT_DONE,
    CheckOutcome.ACTIVE,
]


def _rank(status: str) -> int:
    return STATUS_ORDER.index(CheckOutcome(status))


def day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """[start, end) of a local day as aware datetimes."""
    tz = timezone.get_current_timezone()
    start = dt.datetime.combine(day, dt.time(0, 0), tzinfo=tz)
    return start, dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0, 0), tzinfo=tz)


def patient_share(check: EligibilityCheck | None, allowed: Decimal | None) -> Decimal | None:
    """What the patient will likely owe for the planned procedures at the allowed amounts:
    the copay, the deductible still to meet, the coinsurance on the rest and whatever the
    annual maximum left does not cover. None until a verification found the plan active
    or when the fee schedule has none of the codes."""
    if check is None or check.status != CheckOutcome.ACTIVE or allowed is None:
        return None
    copay = check.copay or Decimal(0)
    deductible = min(check.deductible_remaining or Decimal(0), allowed)
    rest = allowed - deductible
    coinsurance = (rest * (check.coinsurance_percent or Decimal(0)) / HUNDRED).quantize(CENT)
    payer_part = rest - coinsurance
    over_max = Decimal(0)
    if check.annual_max_remaining is not None and payer_part > check.annual_max_remaining:
        over_max = payer_part - check.annual_max_remaining
    return (copay + deductible + coinsurance + over_max).quantize(CENT)


def _allowed(
    appointments: Sequence[Appointment], checks: dict[int, EligibilityCheck]
) -> dict[tuple[int, str], list[tuple[dt.date, Decimal]]]:
    """(payer id, code) -> allowed amount in force on the visit (one query)."""
    payer_ids = {c.payer_id for c in checks.values()}
    codes = {str(code) for a in appointments for code in (a.planned_procedures or [])}
    if not payer_ids or not codes:
        return {}
    latest = max(timezone.localtime(a.starts_at).date() for a in appointments)
    rows = FeeScheduleLine.objects.filter(
        payer_id__in=payer_ids, procedure_code__in=codes, modifier="", effective_from__lte=latest
    ).order_by("payer_id", "procedure_code", "effective_from")
    by_key: dict[tuple[int, str], list[tuple[dt.date, Decimal]]] = defaultdict(list)
    for line in rows:
        by_key[(line.payer_id, line.procedure_code)].append(
            (line.effective_from, line.allowed_amount)
        )
    return by_key


def _allowed_on(
    by_key: dict[tuple[int, str], list[tuple[dt.date, Decimal]]],
    payer_id: int,
    codes: Iterable[Any],
    day: dt.date,
) -> Decimal | None:
    total, found = Decimal(0), False
    for code in codes:
        amounts = [
            amount for since, amount in by_key.get((payer_id, str(code)), []) if since <= day
        ]
        if amounts:
            total += amounts[-1]
            found = True
    return total if found else None


@dataclass
class DayRow:
    """One appointment on the day sheet."""

    appointment: Appointment
    checks: list[EligibilityCheck] = field(default_factory=list)
    status: str = ""  # CheckOutcome value; "" when the patient has no coverage (self-pay)
    flagged: bool = False
    copay: Decimal | None = None
    patient_share: Decimal | None = None
    auth_status: str = ""
    balance: Decimal | None = None  # the patient's open balance, when the viewer may see it

    @property
    def status_label(self) -> str:
        return str(CheckOutcome(self.status).label) if self.status else "No coverage"

    @property
    def primary_check(self) -> EligibilityCheck | None:
        return self.checks[0] if self.checks else None


def day_sheet(practice_ids: Iterable[int], start: dt.date, days: int) -> list[DayRow]:
    """The appointments of ``days`` days from ``start`` at the practices (cancelled ones
    left out), each with its checks' status, copay and estimated patient share."""
    ids = sorted(set(practice_ids))
    if not ids:
        return []
    begin, _ = day_bounds(start)
    _, end = day_bounds(start + dt.timedelta(days=days - 1))
    checks = EligibilityCheck.objects.select_related("payer", "coverage").order_by(
        "coverage__cob_order", "pk"
    )
    appointments = list(
        Appointment.objects.filter(practice_id__in=ids, starts_at__gte=begin, starts_at__lt=end)
        .exclude(status=AppointmentStatus.CANCELLED)
        .select_related("practice", "patient", "provider")
        .prefetch_related(
            Prefetch("eligibility_checks", queryset=checks, to_attr="checks"),
            "patient__coverages",
        )
        .order_by("starts_at", "pk")
    )
    primaries = {a.pk: a.checks[0] for a in appointments if a.checks}  # type: ignore[attr-defined]
    allowed = _allowed(appointments, primaries)
    auth = appointment_auth_status(appointments) if appointments else {}
    rows = []
    for appointment in appointments:
        found: list[EligibilityCheck] = appointment.checks  # type: ignore[attr-defined]
        row = DayRow(appointment, found, auth_status=auth.get(appointment.pk, ""))
        if found:
            row.status = min((c.status for c in found), key=_rank)
            row.flagged = any(c.flags_appointment and c.is_open for c in found)
            primary = found[0]
            row.copay = primary.copay
            day = timezone.localtime(appointment.starts_at).date()
            total = _allowed_on(allowed, primary.payer_id, appointment.planned_procedures, day)
            row.patient_share = patient_share(primary, total)
        elif appointment.patient.coverages.all():
            row.status = CheckOutcome.NOT_DONE  # the check opens at T-72 h
        rows.append(row)
    return rows


def verified_before_service(
    practice_ids: Iterable[int], start: dt.date, end: dt.date
) -> list[tuple[int, dt.date, int, int]]:
    """(practice id, day, appointments, verified before the day) for each practice and day
    from ``start`` to ``end`` (inclusive) that had appointments.

    Counted: appointments not cancelled. Verified before the day: the appointment has at
    least one eligibility check and every one of them had a result recorded (any outcome)
    before local midnight of the day of service. One query.
    """
    ids = sorted(set(practice_ids))
    if not ids or end < start:
        return []
    begin, _ = day_bounds(start)
    _, stop = day_bounds(end)
    rows = (
        Appointment.objects.filter(practice_id__in=ids, starts_at__gte=begin, starts_at__lt=stop)
        .exclude(status=AppointmentStatus.CANCELLED)
        .values_list("pk", "practice_id", "starts_at", "eligibility_checks__verified_at")
        .order_by("pk")
    )
    appointments: dict[int, tuple[int, dt.date, dt.datetime]] = {}
    verified: dict[int, bool] = {}
    for pk, practice_id, starts_at, verified_at in rows:
        day = timezone.localtime(starts_at).date()
        appointments[pk] = (practice_id, day, starts_at)
        if pk not in verified:
            verified[pk] = verified_at is not None and verified_at < day_bounds(day)[0]
        elif verified_at is None or verified_at >= day_bounds(day)[0]:
            verified[pk] = False
    counts: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0, 0])
    for pk, (practice_id, day, _starts) in appointments.items():
        entry = counts[(practice_id, day)]
        entry[0] += 1
        entry[1] += int(verified[pk])
    return [(p, d, total, done) for (p, d), (total, done) in sorted(counts.items())]
