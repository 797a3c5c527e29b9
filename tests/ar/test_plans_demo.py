"""`manage.py seed_demo` shows payment plans (issue 13): at each practice one plan that is
current (skipped by statements) and one with a missed installment in its worker's My day;
a second run adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from ar.plan_models import Installment, InstallmentStatus, PaymentPlan, PlanStatus
from ar.plans import accounts_on_current_plan
from practices.models import Practice
from work.registry import registry
from work.selectors import my_day_of_type


@pytest.fixture(scope="module")
def demo(django_db_setup: Any, django_db_blocker: Any) -> Iterator[None]:
    """Seed once for the module, in a transaction rolled back after its last test."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("seed_demo", stdout=StringIO())
        yield
        transaction.set_rollback(True)


@pytest.fixture
def sunrise(demo: None, db: Any) -> Practice:
    return Practice.objects.get(slug="sunrise-dental")


def test_one_current_plan_and_one_missed_installment_per_practice(sunrise):
    today = timezone.localdate()
    for practice in Practice.objects.filter(slug__in=["sunrise-dental", "maple-family-medicine"]):
        active = PaymentPlan.objects.filter(practice=practice, status=PlanStatus.ACTIVE)
        assert active.count() == 2
        current = accounts_on_current_plan(practice.pk, today)
        assert len(current) == 2  # the missed one is still inside its grace period
        late = Installment.objects.get(practice=practice, status=InstallmentStatus.LATE)
        assert late.number == 1 and late.days_late(today) == 5
        paid = Installment.objects.filter(practice=practice, status=InstallmentStatus.PAID)
        assert paid.count() == 1
    item = Installment.objects.get(practice=sunrise, status=InstallmentStatus.LATE)
    assert item.owner.username == "fran.frontdesk"
    mine = my_day_of_type(registry.type("missed_installment"), item.owner, today)
    assert list(mine) == [item]


def test_a_second_run_adds_nothing(sunrise):
    before = (PaymentPlan.objects.count(), Installment.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (PaymentPlan.objects.count(), Installment.objects.count()) == before
