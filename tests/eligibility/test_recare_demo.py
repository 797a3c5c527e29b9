"""The demo's prior authorizations and recare lists (demo/frontdesk.py): one authorization
ending soon with its alert, every status, a recare list at both practices with calls
logged, and a second seed run that adds nothing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from eligibility.auth_models import AuthStatus, PriorAuthorization
from eligibility.authorizations import appointment_auth_status
from eligibility.recare_models import RecareActivity, RecareItem, RecareKind
from practices.models import Practice
from work.choices import NotificationKind
from work.models import Notification


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


def test_prior_authorizations_in_every_state_and_one_ending_soon(seeded: None) -> None:
    sunrise = Practice.objects.get(slug="sunrise-dental")
    auths = list(PriorAuthorization.objects.filter(practice=sunrise))
    assert {a.status for a in auths} == {
        AuthStatus.APPROVED,
        AuthStatus.REQUESTED,
        AuthStatus.NEEDED,
        AuthStatus.DENIED,
    }
    today = timezone.localdate()
    soon = [
        a
        for a in auths
        if a.status == AuthStatus.APPROVED and a.valid_to <= today + dt.timedelta(days=14)
    ]
    assert len(soon) == 1
    alert = Notification.objects.get(item_type="prior_auth", item_id=soon[0].pk)
    assert alert.kind == NotificationKind.AUTH_EXPIRY
    assert alert.user == soon[0].owner
    # The day sheet's column: the visit the approved authorization was recorded for.
    visit = soon[0].appointment
    assert visit is not None
    expected = (
        "approved" if timezone.localtime(visit.starts_at).date() <= soon[0].valid_to else "expired"
    )
    assert appointment_auth_status([visit]) == {visit.pk: expected}


def test_recare_lists_at_both_practices_and_a_second_run_adds_nothing(seeded: None) -> None:
    for slug in ("sunrise-dental", "maple-family-medicine"):
        items = RecareItem.objects.filter(practice__slug=slug)
        kinds = set(items.values_list("kind", flat=True))
        assert kinds == {RecareKind.RECALL, RecareKind.PLANNED}, slug
        assert items.filter(closed_at__isnull=True).count() >= 10, slug
        assert RecareActivity.objects.filter(item__practice__slug=slug, kind="call").count() == 3
    before = (
        PriorAuthorization.objects.count(),
        RecareItem.objects.count(),
        RecareActivity.objects.count(),
        PriorAuthorization.history.count(),
        RecareItem.history.count(),
    )
    call_command("seed_demo", stdout=StringIO())
    after = (
        PriorAuthorization.objects.count(),
        RecareItem.objects.count(),
        RecareActivity.objects.count(),
        PriorAuthorization.history.count(),
        RecareItem.history.count(),
    )
    assert after == before
