"""The day sheet, the check page, the eligibility checks API and the appointment writes,
through the permission matrix.

Who may: ``verify_eligibility`` belongs to Sunrise's manager, front desk and biller (sam,
fran, bill) and to vendor staff with the insurance verification area (vic; val has every
area). vera (insurance billing only) verifies nowhere; mia verifies at Maple only and sees
none of Sunrise's checks. Appointment writes need ``edit_patients``: the practice roles
only, never vendor staff.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import timezone

from eligibility import services
from eligibility.choices import CheckMethod, CheckOutcome
from eligibility.models import EligibilityCheck
from practices.choices import AppointmentStatus
from practices.models import Appointment
from tests import factories
from tests.permission_matrix import Endpoint, PermissionMatrixMixin

VERIFIERS = frozenset({"sam", "fran", "bill", "vic", "val"})
EDITORS = frozenset({"sam", "fran", "bill"})


def build_scene(world: Any) -> None:
    """The beat job opens the check of the world's Sunrise appointment (in 72 h); Maple
    gets an appointment and check of its own."""
    world.maple_appointment = factories.AppointmentFactory(
        patient=world.maple_patient, starts_at=timezone.now() + dt.timedelta(hours=30)
    )
    factories.CoverageFactory(patient=world.maple_patient)
    services.checks_for_upcoming(now=timezone.now())
    world.appointment = world.sunrise_patient.appointments.get()
    world.check = EligibilityCheck.objects.get(appointment=world.appointment)
    world.maple_check = EligibilityCheck.objects.get(appointment=world.maple_appointment)


def check_of(world: Any) -> EligibilityCheck:
    return EligibilityCheck.objects.get(pk=world.check.pk)


def appointment_of(world: Any) -> Appointment:
    return Appointment.objects.get(pk=world.appointment.pk)


class TestEligibilityPages(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build_scene(world)

    endpoints = [
        Endpoint(
            "day sheet",
            "get",
            lambda w: "/day-sheet/",
            VERIFIERS,
            marker=lambda w: f"appt-{w.appointment.pk}",
            route="day-sheet",
        ),
        Endpoint(
            "check page",
            "get",
            lambda w: f"/eligibility/checks/{w.check.pk}/",
            VERIFIERS,
            route="eligibility-check",
        ),
        Endpoint(
            "check result",
            "post",
            lambda w: f"/eligibility/checks/{w.check.pk}/",
            VERIFIERS,
            ok_status=302,
            data=lambda w: {
                "version": check_of(w).version,
                "status": CheckOutcome.ACTIVE,
                "method": CheckMethod.PORTAL,
                "reference": "PORTAL-1",
                "copay": "20.00",
            },
            route="eligibility-check",
            done=lambda c: check_of(c.world).status == CheckOutcome.ACTIVE,
        ),
    ]


class TestEligibilityApi(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build_scene(world)

    endpoints = [
        Endpoint(
            "api checks",
            "get",
            lambda w: (
                f"/api/v1/eligibility-checks/?appointment_date="
                f"{timezone.localtime(w.appointment.starts_at).date():%Y-%m-%d}"
            ),
            VERIFIERS,
            api=True,
            marker=lambda w: w.check.pk,
            route="api:api-eligibility-check-list",
        ),
        Endpoint(
            "api check",
            "get",
            lambda w: f"/api/v1/eligibility-checks/{w.check.pk}/",
            VERIFIERS,
            api=True,
            route="api:api-eligibility-check-detail",
        ),
        Endpoint(
            "api check patch",
            "patch",
            lambda w: f"/api/v1/eligibility-checks/{w.check.pk}/",
            VERIFIERS,
            api=True,
            data=lambda w: {
                "version": check_of(w).version,
                "status": CheckOutcome.NEEDS_INFO,
                "method": CheckMethod.PHONE,
                "problems": ["Member id does not match"],
            },
            route="api:api-eligibility-check-detail",
            done=lambda c: check_of(c.world).status == CheckOutcome.NEEDS_INFO,
        ),
    ]


class TestAppointmentWrites(PermissionMatrixMixin):
    """Create, update and cancel through ``/api/v1/appointments/``; a create naming a
    patient the caller cannot edit reads as an invalid id (400)."""

    endpoints = [
        Endpoint(
            "api appointment create",
            "post",
            lambda w: "/api/v1/appointments/",
            EDITORS,
            api=True,
            ok_status=201,
            denied_status=400,
            data=lambda w: {
                "patient": w.sunrise_patient.pk,
                "provider": w.sunrise_patient.appointments.get().provider_id,
                "starts_at": "2030-01-07T09:00:00-06:00",
                "duration_minutes": 47,
                "planned_procedures": ["D0120", "D1110"],
            },
            route="api:appointment-list",
            done=lambda c: Appointment.objects.filter(
                patient=c.world.sunrise_patient, duration_minutes=47
            ).exists(),
        ),
        Endpoint(
            "api appointment patch",
            "patch",
            lambda w: f"/api/v1/appointments/{w.sunrise_patient.appointments.get().pk}/",
            EDITORS,
            api=True,
            data=lambda w: {"duration_minutes": 61},
            route="api:appointment-detail",
            done=lambda c: c.world.sunrise_patient.appointments.get().duration_minutes == 61,
        ),
        Endpoint(
            "api appointment put",
            "put",
            lambda w: f"/api/v1/appointments/{w.sunrise_patient.appointments.get().pk}/",
            EDITORS,
            api=True,
            data=lambda w: {
                "patient": w.sunrise_patient.pk,
                "provider": w.sunrise_patient.appointments.get().provider_id,
                "starts_at": "2030-01-08T10:00:00-06:00",
                "duration_minutes": 62,
                "planned_procedures": ["D0150"],
            },
            route="api:appointment-detail",
            done=lambda c: c.world.sunrise_patient.appointments.get().duration_minutes == 62,
        ),
        Endpoint(
            "api appointment cancel",
            "post",
            lambda w: f"/api/v1/appointments/{w.sunrise_patient.appointments.get().pk}/cancel/",
            EDITORS,
            api=True,
            route="api:appointment-cancel",
            done=lambda c: (
                c.world.sunrise_patient.appointments.get().status == AppointmentStatus.CANCELLED
            ),
        ),
    ]
