"""Every page and endpoint of practices and people, through the permission matrix.

Who may: view_practice and view_patients belong to every Sunrise role and service area;
edit_patients to the practice roles (sam, fran, bill) only; manage_access to managers (sam)
only, never to vendor staff (practices/permissions.py).
"""

from typing import Any

from practices.models import Assignment, Membership, Patient
from tests.permission_matrix import SIGNED_IN, SUNRISE_STAFF, Case, Endpoint, PermissionMatrixMixin

EDITORS = frozenset({"sam", "fran", "bill"})
MANAGERS = frozenset({"sam"})
NOWHERE = 0  # a practice id no session starts with


def _fran_membership(w: Any) -> Membership:
    return Membership.objects.get(user=w.fran, practice=w.sunrise)


def _vera_assignment(w: Any) -> Assignment:
    return Assignment.objects.get(staff__user=w.vera, engagement__practice=w.sunrise)


def _leave_sunrise(c: Case) -> None:
    if c.user is not None:
        session = c.client.session
        session["practice_id"] = NOWHERE
        session.save()


def _coverage(w: Any) -> Any:
    return w.sunrise_patient.coverages.get()


def _patient(w: Any) -> Patient:
    return Patient.objects.get(pk=w.sunrise_patient.pk)


def _patient_data(w: Any, **overrides: Any) -> dict[str, Any]:
    data = {
        "practice": w.sunrise.pk,
        "account_number": "MATRIX-001",
        "first_name": "Nora",
        "last_name": "Newcomer",
        "date_of_birth": "1990-02-03",
    }
    return data | overrides


class TestPages(PermissionMatrixMixin):
    endpoints = [
        # Everybody signed in lands somewhere (My day or the patients list).
        Endpoint("home", "get", lambda w: "/", SIGNED_IN, ok_status=302, route="home"),
        Endpoint(
            "patient list",
            "get",
            lambda w: "/patients/",
            SUNRISE_STAFF,
            marker=lambda w: "Sunriser",
            route="patient-list",
        ),
        Endpoint(
            "patient detail",
            "get",
            lambda w: f"/patients/{w.sunrise_patient.pk}/",
            SUNRISE_STAFF,
            route="patient-detail",
        ),
        Endpoint(
            "access page",
            "get",
            lambda w: "/access/",
            MANAGERS,
            marker=lambda w: "fran",
            route="access",
        ),
        Endpoint(
            "revoke membership",
            "post",
            lambda w: f"/access/memberships/{_fran_membership(w).pk}/revoke/",
            MANAGERS,
            ok_status=302,
            route="revoke-membership",
            done=lambda c: not _fran_membership(c.world).is_active,
        ),
        Endpoint(
            "revoke assignment",
            "post",
            lambda w: f"/access/assignments/{_vera_assignment(w).pk}/revoke/",
            MANAGERS,
            ok_status=302,
            route="revoke-assignment",
            done=lambda c: _vera_assignment(c.world).revoked_at is not None,
        ),
        # The effect is on the session: the switcher's practice is Sunrise afterwards.
        Endpoint(
            "switch practice",
            "post",
            lambda w: "/practice/switch/",
            SUNRISE_STAFF,
            ok_status=302,
            data=lambda w: {"practice": w.sunrise.pk},
            route="switch-practice",
            arrange=_leave_sunrise,
            done=lambda c: c.client.session.get("practice_id") == c.world.sunrise.pk,
        ),
    ]


class TestApi(PermissionMatrixMixin):
    endpoints = [
        Endpoint(
            "api practices",
            "get",
            lambda w: "/api/v1/practices/",
            SUNRISE_STAFF,
            api=True,
            marker=lambda w: w.sunrise.pk,
            route="api:practice-list",
        ),
        Endpoint(
            "api practice",
            "get",
            lambda w: f"/api/v1/practices/{w.sunrise.pk}/",
            SUNRISE_STAFF,
            api=True,
            route="api:practice-detail",
        ),
        Endpoint(
            "api payers",
            "get",
            lambda w: "/api/v1/payers/",
            SUNRISE_STAFF,
            api=True,
            marker=lambda w: _coverage(w).payer_id,
            route="api:payer-list",
        ),
        Endpoint(
            "api payer",
            "get",
            lambda w: f"/api/v1/payers/{_coverage(w).payer_id}/",
            SUNRISE_STAFF,
            api=True,
            route="api:payer-detail",
        ),
        Endpoint(
            "api patients",
            "get",
            lambda w: "/api/v1/patients/",
            SUNRISE_STAFF,
            api=True,
            marker=lambda w: w.sunrise_patient.pk,
            route="api:patient-list",
        ),
        # A practice the caller may not edit reads as an unknown id: 400 "Invalid pk".
        Endpoint(
            "api patient create",
            "post",
            lambda w: "/api/v1/patients/",
            EDITORS,
            api=True,
            ok_status=201,
            denied_status=400,
            data=_patient_data,
            route="api:patient-list",
            done=lambda c: Patient.objects.filter(account_number="MATRIX-001").exists(),
        ),
        Endpoint(
            "api patient",
            "get",
            lambda w: f"/api/v1/patients/{w.sunrise_patient.pk}/",
            SUNRISE_STAFF,
            api=True,
            route="api:patient-detail",
        ),
        Endpoint(
            "api patient patch",
            "patch",
            lambda w: f"/api/v1/patients/{w.sunrise_patient.pk}/",
            EDITORS,
            api=True,
            data=lambda w: {"phone": "555-0199"},
            route="api:patient-detail",
            done=lambda c: _patient(c.world).phone == "555-0199",
        ),
        Endpoint(
            "api patient put",
            "put",
            lambda w: f"/api/v1/patients/{w.sunrise_patient.pk}/",
            EDITORS,
            api=True,
            data=lambda w: _patient_data(
                w, account_number=_patient(w).account_number, last_name="Renamed"
            ),
            route="api:patient-detail",
            done=lambda c: _patient(c.world).last_name == "Renamed",
        ),
        Endpoint(
            "api coverages",
            "get",
            lambda w: "/api/v1/coverages/",
            SUNRISE_STAFF,
            api=True,
            marker=lambda w: _coverage(w).pk,
            route="api:coverage-list",
        ),
        Endpoint(
            "api coverage",
            "get",
            lambda w: f"/api/v1/coverages/{_coverage(w).pk}/",
            SUNRISE_STAFF,
            api=True,
            route="api:coverage-detail",
        ),
        Endpoint(
            "api appointments",
            "get",
            lambda w: "/api/v1/appointments/",
            SUNRISE_STAFF,
            api=True,
            marker=lambda w: w.sunrise_patient.appointments.get().pk,
            route="api:appointment-list",
        ),
        Endpoint(
            "api appointment",
            "get",
            lambda w: f"/api/v1/appointments/{w.sunrise_patient.appointments.get().pk}/",
            SUNRISE_STAFF,
            api=True,
            route="api:appointment-detail",
        ),
    ]
