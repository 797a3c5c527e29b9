"""Smaller findings of the penetration test (issue 8, point 9): the session id is rotated
at the second factor, an assignment ended by date is out of force on the next request,
and `make run` runs with DEBUG off behind branded error pages."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.sessions.backends.db import SessionStore
from django.core.exceptions import PermissionDenied
from django.template import loader
from django.test import Client, RequestFactory
from django.utils import timezone
from django.views.defaults import permission_denied, server_error
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from billing_ops.access import has_perm, holders
from practices import permissions as perms
from practices import services
from practices.choices import ServiceArea
from practices.models import Assignment, PracticeUserPermission
from tests.conftest import login
from tests.practices.test_auth import SETUP_URL, VERIFY_URL, current_code, form_login
from tests.test_embedded_processes import BASE_DIR, PYTHON, free_port, get, stop, wait_until

# --- the session id at the second factor ------------------------------------------------


def session_cookie(client: Client) -> str:
    return client.cookies[django_settings.SESSION_COOKIE_NAME].value


class TestSessionRotatedAtSecondFactor:
    def test_verification_gives_the_verified_session_a_new_id(self, world):
        device = TOTPDevice.objects.create(user=world.sam, name="phone", confirmed=True)
        client = Client()
        form_login(client, "sam", ip="10.50.0.1")
        before = session_cookie(client)

        response = client.post(VERIFY_URL, {"token": current_code(device), "next": "/patients/"})

        assert response.status_code == 302
        after = session_cookie(client)
        assert after and after != before
        assert not SessionStore().exists(before)
        assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
        assert client.get("/patients/").status_code == 200
        # The id seen before the second factor opens nothing any more.
        stale = Client()
        stale.cookies[django_settings.SESSION_COOKIE_NAME] = before
        assert stale.get("/patients/").status_code == 302

    def test_enrolment_gives_the_verified_session_a_new_id(self, world):
        client = Client()
        form_login(client, "vera", ip="10.50.0.2")
        client.get(SETUP_URL)
        device = TOTPDevice.objects.get(user=world.vera, confirmed=False)
        before = session_cookie(client)

        response = client.post(SETUP_URL, {"token": current_code(device), "next": "/patients/"})

        assert response.status_code == 302
        assert session_cookie(client) != before
        assert not SessionStore().exists(before)
        assert client.get("/patients/").status_code == 200

    def test_a_wrong_code_keeps_the_session_id(self, world):
        TOTPDevice.objects.create(user=world.sam, name="phone", confirmed=True)
        client = Client()
        form_login(client, "sam", ip="10.50.0.3")
        before = session_cookie(client)

        client.post(VERIFY_URL, {"token": "000000"})

        assert session_cookie(client) == before


# --- assignments ended by date ----------------------------------------------------------


@pytest.fixture
def next_day(monkeypatch):
    """Move the practices' calendar one day on when called (the 15-minute job does not
    run); returns the new date."""

    def advance() -> dt.date:
        day = timezone.localdate() + dt.timedelta(1)
        monkeypatch.setattr(timezone, "localdate", lambda *args, **kwargs: day)
        return day

    return advance


class TestAssignmentEndedByDate:
    def end_vera_today(self, world):
        services.assignment_set(
            actor=world.sam,
            staff=world.vera.vendor_staff,
            engagement=world.engagements["sunrise"],
            service_areas=[ServiceArea.INSURANCE_BILLING],
            ends_on=timezone.localdate(),
        )

    def test_the_end_day_itself_is_still_in_force(self, world):
        self.end_vera_today(world)
        client = login(Client(), world.vera)

        assert client.get("/patients/").status_code == 200
        assert has_perm(world.vera, perms.VIEW_PATIENTS, world.sunrise.pk)

    def test_the_next_day_nothing_is_live_before_the_job_runs(self, world, next_day):
        self.end_vera_today(world)
        next_day()
        client = login(Client(), world.vera)
        rows_before = PracticeUserPermission.objects.filter(user=world.vera).count()

        assert client.get("/patients/").status_code == 404
        assert client.get(f"/patients/{world.sunrise_patient.pk}/").status_code == 404
        assert client.get("/api/v1/patients/").json()["results"] == []
        assert not has_perm(world.vera, perms.VIEW_PATIENTS, world.sunrise.pk)
        # The reverse question agrees, and vic (no end date) is unaffected.
        assert world.vera not in holders(perms.VIEW_PATIENTS, world.sunrise.pk)
        assert world.vic in holders(perms.VIEW_PATIENTS, world.sunrise.pk)
        assert login(Client(), world.vic).get("/patients/").status_code == 200
        # The rows are still there: the job deletes them later, changing nothing visible.
        assert PracticeUserPermission.objects.filter(user=world.vera).count() == rows_before
        assert services.expire_ended_assignments() == 1
        assert not PracticeUserPermission.objects.filter(user=world.vera).exists()

    def test_an_engagement_ending_first_ends_its_assignments(self, world, next_day):
        engagement = world.engagements["maple"]
        services.engagement_set(
            actor=world.mia,
            vendor=engagement.vendor,
            practice=world.maple,
            service_areas=ServiceArea.values,
            primary_contact=world.mia,
            starts_on=engagement.starts_on,
            ends_on=timezone.localdate(),
        )
        assert has_perm(world.val, perms.VIEW_PATIENTS, world.maple.pk)
        next_day()

        assert not has_perm(world.val, perms.VIEW_PATIENTS, world.maple.pk)
        assert has_perm(world.val, perms.VIEW_PATIENTS, world.sunrise.pk)

    def test_moving_the_end_date_later_brings_access_back(self, world, next_day):
        self.end_vera_today(world)
        tomorrow = next_day()
        assert not has_perm(world.vera, perms.VIEW_PATIENTS, world.sunrise.pk)

        services.assignment_set(
            actor=world.sam,
            staff=world.vera.vendor_staff,
            engagement=world.engagements["sunrise"],
            service_areas=[ServiceArea.INSURANCE_BILLING],
            ends_on=tomorrow + dt.timedelta(30),
        )

        assert has_perm(world.vera, perms.VIEW_PATIENTS, world.sunrise.pk)
        assert Assignment.objects.get(staff__user=world.vera).ends_on == tomorrow + dt.timedelta(30)


# --- DEBUG off and branded error pages --------------------------------------------------


class TestErrorPages:
    def test_404_is_branded_and_echoes_nothing(self, world):
        client = login(Client(), world.fran)

        response = client.get("/no-such-page/?q=Sunriser")

        assert response.status_code == 404
        assert "404.html" in [t.name for t in response.templates]
        assert "billing-ops" in response.text
        assert "Page not found" in response.text
        assert "no-such-page" not in response.text
        assert "Sunriser" not in response.text

    def test_403_is_branded(self):
        request = RequestFactory().get("/x/")
        response = permission_denied(request, PermissionDenied())
        assert response.status_code == 403
        assert b"Not allowed" in response.content
        assert b"billing-ops" in response.content

    def test_500_renders_without_a_context_or_a_database(self):
        # No db fixture: any query here would raise.
        html = loader.get_template("500.html").render()
        response = server_error(RequestFactory().get("/x/"))
        assert response.status_code == 500
        assert "Something went wrong" in html
        assert b"billing-ops" in response.content


@pytest.mark.slow
def test_make_run_settings_have_debug_off_and_still_serve_static(tmp_path: Path) -> None:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"}
        and not k.startswith(("COV_CORE_", "PYTEST_", "DJANGO_"))
    }
    env |= {
        "BILLING_OPS_VAR_DIR": str(tmp_path / "var"),
        "DJANGO_SETTINGS_MODULE": "billing_ops.settings.local",
        "PYTHONUNBUFFERED": "1",
    }
    migrated = subprocess.run(
        [PYTHON, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        # ~70 CPU s of migrations: 180 s was too little once, on a loaded machine.
        timeout=600,
    )
    assert migrated.returncode == 0, migrated.stderr
    debug = subprocess.run(
        [
            PYTHON,
            "-c",
            "import django; django.setup(); from django.conf import settings as s; print(s.DEBUG)",
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert debug.stdout.split() == ["False"], debug.stderr

    port = free_port()
    log = tmp_path / "web.log"
    with log.open("wb") as out:
        web = subprocess.Popen(
            [PYTHON, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=BASE_DIR,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        assert wait_until(lambda: get(port, "/account/login/")[0] == 200, 60), log.read_text()
        status, body = get(port, "/static/css/app.css")
        assert status == 200, body
        assert ".auth-card" in body
        status, body = get(port, "/no-such-page/")
        assert status == 404
        assert "Page not found" in body
        assert "URLconf" not in body and "DEBUG = True" not in body
    finally:
        stop(web)
