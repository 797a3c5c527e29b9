"""Every page and endpoint of the foundation, through the permission matrix."""

from tests.permission_matrix import SUNRISE_STAFF, Endpoint, PermissionMatrixMixin

EDITORS = frozenset({"sam", "fran", "bill"})
MANAGERS = frozenset({"sam"})


class TestPages(PermissionMatrixMixin):
    endpoints = [
        Endpoint(
            "patient list",
            "get",
            lambda w: "/patients/",
            SUNRISE_STAFF,
            marker=lambda w: "Sunriser",
        ),
        Endpoint(
            "patient detail", "get", lambda w: f"/patients/{w.sunrise_patient.pk}/", SUNRISE_STAFF
        ),
        Endpoint("access page", "get", lambda w: "/access/", MANAGERS, marker=lambda w: "fran"),
        Endpoint(
            "revoke membership",
            "post",
            lambda w: f"/access/memberships/{w.fran.memberships.get().pk}/revoke/",
            MANAGERS,
            ok_status=302,
        ),
        Endpoint(
            "revoke assignment",
            "post",
            lambda w: f"/access/assignments/{w.vera.vendor_staff.assignments.get().pk}/revoke/",
            MANAGERS,
            ok_status=302,
        ),
        Endpoint(
            "switch practice",
            "post",
            lambda w: "/practice/switch/",
            SUNRISE_STAFF,
            ok_status=302,
            data=lambda w: {"practice": w.sunrise.pk},
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
        ),
        Endpoint(
            "api practice",
            "get",
            lambda w: f"/api/v1/practices/{w.sunrise.pk}/",
            SUNRISE_STAFF,
            api=True,
        ),
        Endpoint(
            "api payers",
            "get",
            lambda w: "/api/v1/payers/",
            SUNRISE_STAFF,
            api=True,
            marker=lambda w: w.sunrise_patient.coverages.get().payer_id,
        ),
        Endpoint(
            "api patients",
            "get",
            lambda w: "/api/v1/patients/",
            SUNRISE_STAFF,
            api=True,
            marker=lambda w: w.sunrise_patient.pk,
        ),
        Endpoint(
            "api patient",
            "get",
            lambda w: f"/api/v1/patients/{w.sunrise_patient.pk}/",
            SUNRISE_STAFF,
            api=True,
        ),
        Endpoint(
            "api patient patch",
            "patch",
            lambda w: f"/api/v1/patients/{w.sunrise_patient.pk}/",
            EDITORS,
            api=True,
            data=lambda w: {"phone": "555-0199"},
        ),
        Endpoint(
            "api coverages",
            "get",
            lambda w: "/api/v1/coverages/",
            SUNRISE_STAFF,
            api=True,
            marker=lambda w: w.sunrise_patient.coverages.get().pk,
        ),
        Endpoint(
            "api appointments",
            "get",
            lambda w: "/api/v1/appointments/",
            SUNRISE_STAFF,
            api=True,
            marker=lambda w: w.sunrise_patient.appointments.get().pk,
        ),
    ]
