"""Named people per role (Zulip's iago/hamlet style) over two practices and one vendor.

- sunrise: sam (manager), fran (front desk), bill (biller)
- maple:   mia (manager) — the "other practice" user for Sunrise data
- Clearpath Billing: vera (Sunrise insurance billing only), vic (Sunrise insurance
  verification only), val (lead, both practices, all areas)
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from practices import services
from practices.choices import Role, ServiceArea
from practices.models import Practice, VendorStaff
from practices.selectors import mfa_required
from practices.stepup import SESSION_STEP_UP_AT
from tests import factories


@dataclass
class World:
    sunrise: Practice
    maple: Practice
    users: dict[str, Any]
    engagements: dict[str, Any]
    sunrise_patient: Any
    maple_patient: Any

    def __getattr__(self, name: str) -> Any:
        try:
            return self.users[name]
        except KeyError:
            raise AttributeError(name) from None


@pytest.fixture
def world(db: Any) -> World:
    sunrise = factories.PracticeFactory(name="Sunrise Dental", slug="sunrise")
    maple = factories.PracticeFactory(name="Maple Family Medicine", slug="maple", kind="medical")
    names = ["sam", "fran", "bill", "mia", "vera", "vic", "val"]
    users = {name: factories.UserFactory(username=name) for name in names}
    for name, practice, role in [
        ("sam", sunrise, Role.PRACTICE_MANAGER),
        ("fran", sunrise, Role.FRONT_DESK),
        ("bill", sunrise, Role.BILLER),
        ("mia", maple, Role.PRACTICE_MANAGER),
    ]:
        services.membership_set(actor=None, user=users[name], practice=practice, role=role)
    vendor = factories.VendorFactory(name="Clearpath Billing", slug="clearpath")
    engagements = {
        p.slug: services.engagement_set(
            actor=None,
            vendor=vendor,
            practice=p,
            service_areas=ServiceArea.values,
            primary_contact=users["sam"] if p == sunrise else users["mia"],
            starts_on=dt.date(2026, 1, 1),
        )
        for p in (sunrise, maple)
    }
    staff = {
        name: VendorStaff.objects.create(user=users[name], vendor=vendor, is_lead=name == "val")
        for name in ("vera", "vic", "val")
    }
    services.assignment_set(
        actor=None,
        staff=staff["vera"],
        engagement=engagements["sunrise"],
        service_areas=[ServiceArea.INSURANCE_BILLING],
    )
    services.assignment_set(
        actor=None,
        staff=staff["vic"],
        engagement=engagements["sunrise"],
        service_areas=[ServiceArea.INSURANCE_VERIFICATION],
    )
    for engagement in engagements.values():
        services.assignment_set(
            actor=None, staff=staff["val"], engagement=engagement, service_areas=ServiceArea.values
        )
    sunrise_patient = factories.PatientFactory(practice=sunrise, last_name="Sunriser")
    maple_patient = factories.PatientFactory(practice=maple, last_name="Mapleton")
    factories.CoverageFactory(patient=sunrise_patient)
    factories.AppointmentFactory(patient=sunrise_patient)
    return World(sunrise, maple, users, engagements, sunrise_patient, maple_patient)


def login(client: Client, user: Any, *, step_up: bool = True) -> Client:
    """Sign a user in; users who need a second factor get a verified device in the session.
    With ``step_up`` the user has just confirmed their password too (practices/stepup.py),
    as one who clicked through the step-up page; tests of step-up itself pass False."""
    client.force_login(user)
    if mfa_required(user):
        device, _ = TOTPDevice.objects.get_or_create(user=user, name="test", confirmed=True)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    if step_up:
        session = client.session
        session[SESSION_STEP_UP_AT] = int(time.time())
        session.save()
    return client


@pytest.fixture
def client_for(client: Client) -> Any:
    """A function that returns a fresh signed-in client for a user (None: anonymous)."""

    def make(user: Any) -> Client:
        fresh = Client()
        return fresh if user is None else login(fresh, user)

    return make


def pytest_generate_tests(metafunc: Any) -> None:
    from tests.permission_matrix import pytest_generate_tests_for_matrix

    pytest_generate_tests_for_matrix(metafunc)


@pytest.fixture
def worker(transactional_db: Any) -> Any:
    """A real Celery worker on Redis (skipped when the broker is not Redis)."""
    from tests.celery_worker import run_worker

    yield from run_worker()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Any:
    """A session another thread left in a transaction fails the test that left it, not the
    flush of every later test on this worker (tests/stray_transactions.py)."""
    from tests.stray_transactions import end_stray_transactions

    stray = end_stray_transactions(item)
    result = yield
    if stray:
        pytest.fail(stray, pytrace=False)
    return result


@pytest.fixture(scope="session", autouse=True)
def _no_stray_connections(django_db_setup: Any, django_db_blocker: Any) -> Any:
    """Before the test database is dropped, end sessions that threads left open (live
    server, worker threads), so the drop cannot fail on "being accessed by other users"."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
