"""Audit an auditor would accept (issue 8, point 4, in part): failed sign-ins are kept with
user and address, and a 404 for an existing object of another practice is logged with the
user, never with what the record holds."""

from __future__ import annotations

import logging

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from practices.models import Membership
from tests.conftest import login
from tests.practices.test_auth import PASSWORD, form_login

SECURITY = "billing_ops.security"


class TestFailedSignInsAreKept:
    def test_a_success_does_not_wipe_the_failures_before_it(self, world):
        client = Client()
        for _ in range(2):
            form_login(client, "fran", "wrong-password", ip="10.40.0.1")
        assert AccessAttempt.objects.filter(username="fran").exists()

        assert form_login(client, "fran", PASSWORD, ip="10.40.0.1").status_code == 302

        # The lockout counter is reset by the success; the failure log is not.
        assert not AccessAttempt.objects.filter(username="fran").exists()
        kept = AccessFailureLog.objects.filter(username="fran")
        assert kept.count() == 2
        assert {(row.ip_address, row.path_info) for row in kept} == {
            ("10.40.0.1", "/account/login/")
        }

    def test_failures_for_unknown_accounts_and_after_a_lockout_are_kept(self, world):
        for _ in range(7):
            form_login(Client(), "ghost", "wrong-password", ip="10.40.0.2")

        rows = AccessFailureLog.objects.filter(username="ghost", ip_address="10.40.0.2")
        assert rows.count() == 7
        assert rows.filter(locked_out=True).count() >= 2


def security_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == SECURITY]


@pytest.fixture
def caplog_security(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.WARNING, logger=SECURITY)
    return caplog


class TestOutOfScopeIsLogged:
    def test_a_page_for_another_practices_patient_is_logged_with_the_user(
        self, world, caplog_security
    ):
        client = login(Client(), world.mia)
        patient = world.sunrise_patient

        response = client.get(f"/patients/{patient.pk}/?q={patient.last_name}")

        assert response.status_code == 404
        [record] = security_records(caplog_security)
        assert record.levelno == logging.WARNING
        assert record.user_id == world.mia.pk
        assert record.model == "practices.Patient"
        assert record.path == f"/patients/{patient.pk}/"
        message = record.getMessage()
        assert f"user_id={world.mia.pk}" in message
        assert f"path=/patients/{patient.pk}/ " in message
        # No PHI and no query string in the line.
        for phi in (patient.last_name, patient.first_name, "?q=", "Sunrise"):
            assert phi not in message

    def test_the_answer_is_the_same_404_as_for_a_missing_object(self, world, caplog_security):
        client = login(Client(), world.mia)
        forbidden = client.get(f"/patients/{world.sunrise_patient.pk}/")
        missing = client.get("/patients/999999/")

        assert forbidden.status_code == missing.status_code == 404
        assert forbidden.content == missing.content
        # Only the existing object is logged.
        assert len(security_records(caplog_security)) == 1

    def test_an_object_in_scope_logs_nothing(self, world, caplog_security):
        client = login(Client(), world.mia)
        assert client.get(f"/patients/{world.maple_patient.pk}/").status_code == 200
        assert security_records(caplog_security) == []

    def test_scoped_function_views_log_through_get_scoped_or_404(self, world, caplog_security):
        membership = Membership.objects.get(user=world.fran)
        client = login(Client(), world.mia)  # Maple's manager

        response = client.post(f"/access/memberships/{membership.pk}/revoke/")

        assert response.status_code == 404
        [record] = security_records(caplog_security)
        assert (record.user_id, record.model) == (world.mia.pk, "practices.Membership")
        membership.refresh_from_db()
        assert membership.is_active

    def test_api_detail_of_another_practices_patient_is_logged(self, world, caplog_security):
        client = login(Client(), world.mia)
        patient = world.sunrise_patient

        response = client.get(f"/api/v1/patients/{patient.pk}/")
        missing = client.get("/api/v1/patients/999999/")

        assert response.status_code == missing.status_code == 404
        assert response.json() == missing.json()
        [record] = security_records(caplog_security)
        assert (record.user_id, record.model, record.reason) == (
            world.mia.pk,
            "practices.Patient",
            "read",
        )
        assert record.path == f"/api/v1/patients/{patient.pk}/"
        assert patient.last_name not in record.getMessage()

    def test_api_write_to_a_readable_but_not_writable_patient_is_logged(
        self, world, caplog_security
    ):
        client = login(Client(), world.vera)  # may view Sunrise patients, not edit them
        patient = world.sunrise_patient
        assert client.get(f"/api/v1/patients/{patient.pk}/").status_code == 200

        response = client.patch(
            f"/api/v1/patients/{patient.pk}/",
            {"phone": "555-0100"},
            content_type="application/json",
        )

        assert response.status_code == 404
        [record] = security_records(caplog_security)
        assert (record.user_id, record.model, record.reason) == (
            world.vera.pk,
            "practices.Patient",
            "write",
        )

    def test_one_extra_query_only_when_the_scoped_lookup_fails(self, world):
        client = login(Client(), world.mia)
        client.get(f"/patients/{world.maple_patient.pk}/")  # warm the session

        with CaptureQueriesContext(connection) as missing:
            assert client.get("/patients/999999/").status_code == 404
        with CaptureQueriesContext(connection) as forbidden:
            assert client.get(f"/patients/{world.sunrise_patient.pk}/").status_code == 404
        assert len(forbidden.captured_queries) == len(missing.captured_queries)
        unscoped = [q for q in missing.captured_queries if "999999" in q["sql"]]
        assert len(unscoped) == 2  # the scoped lookup and the one existence check
