"""The demo's day sheet (demo/eligibility.py): visits on each of the next fourteen days,
checks within 72 h in every state, tomorrow's first dental visit left to verify, fran's
landing page showing her day, and a second seed run that adds nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from eligibility.choices import CheckOutcome, NextAction
from eligibility.models import EligibilityCheck
from practices.models import Appointment, Practice


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """Seed once for the module, rolled back after its last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def seeded(demo: None, db: Any) -> None:
    return demo


def test_visits_for_two_weeks_and_checks_in_every_state(seeded: None) -> None:
    today = timezone.localdate()
    for slug in ("sunrise-dental", "maple-family-medicine"):
        practice = Practice.objects.get(slug=slug)
        days = {
            timezone.localtime(a.starts_at).date()
            for a in Appointment.objects.filter(practice=practice, starts_at__gte=timezone.now())
        }
        assert {today + dt.timedelta(days=n) for n in range(1, 14)} <= days
        checks = EligibilityCheck.objects.filter(practice=practice)
        assert set(checks.values_list("status", flat=True)) == set(CheckOutcome.values), slug
        problem = checks.filter(status=CheckOutcome.INACTIVE).first()
        assert problem.next_action == NextAction.REQUEST_INFO_PATIENT and problem.problems
        verified = checks.filter(status=CheckOutcome.ACTIVE).first()
        assert not verified.is_open and verified.verified_by is not None
        assert verified.copay is not None and verified.reference.startswith("DEMO-")


def test_tomorrows_first_dental_visit_waits_for_fran(seeded: None, client_for: Any) -> None:
    sunrise = Practice.objects.get(slug="sunrise-dental")
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    first = (
        EligibilityCheck.objects.filter(practice=sunrise, appointment__starts_at__date=tomorrow)
        .order_by("appointment__starts_at", "pk")
        .first()
    )
    assert first.status == CheckOutcome.NOT_DONE and first.is_open
    assert first.owner is not None  # the eligibility function's owner, else a verifier
    fran = get_user_model().objects.get(username="fran.frontdesk")
    client = client_for(fran)
    assert client.get("/")["Location"] == "/day-sheet/"
    page = client.get("/day-sheet/")
    assert f'id="appt-{first.appointment_id}"' in page.text
    assert 'data-status="inactive"' in page.text and 'data-status="active"' in page.text


def test_a_second_seed_adds_nothing(seeded: None) -> None:
    before = (Appointment.objects.count(), EligibilityCheck.objects.count())
    statuses = sorted(EligibilityCheck.objects.values_list("status", flat=True))
    call_command("seed_demo", stdout=StringIO())
    assert (Appointment.objects.count(), EligibilityCheck.objects.count()) == before
    assert sorted(EligibilityCheck.objects.values_list("status", flat=True)) == statuses
