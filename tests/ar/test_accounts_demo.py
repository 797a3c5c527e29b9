"""`manage.py seed_demo` gives patient billing something to show (issue 13): balances in
every aging bucket, statements in each dunning stage, a credit, follow-ups, and approvals
waiting for sam.manager; a second run adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from ar.account_choices import AGING_BUCKETS, AdjustmentStatus, DunningStage
from ar.ledger import entries_sum
from ar.ledger_models import AdjustmentRequest, FollowUp, LedgerEntry, PatientAccount
from ar.statement_models import Statement
from practices.models import Practice


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


def test_balances_in_every_bucket_and_statements_in_every_stage(sunrise):
    today = timezone.localdate()
    owing = PatientAccount.objects.filter(practice=sunrise, balance__gt=0)
    buckets = {account.aging_bucket(today) for account in owing}
    assert buckets >= {label for label, _f, _l in AGING_BUCKETS}
    assert PatientAccount.objects.filter(practice=sunrise, balance__lt=0).exists()
    for account in PatientAccount.objects.filter(practice=sunrise):
        assert account.balance == entries_sum(account)
    stages = set(Statement.objects.filter(practice=sunrise).values_list("stage", flat=True))
    assert stages == set(DunningStage.values)
    assert FollowUp.objects.filter(account__practice=sunrise).exists()


def test_approvals_wait_for_sam(sunrise):
    pending = AdjustmentRequest.objects.filter(practice=sunrise, status=AdjustmentStatus.PENDING)
    assert pending.count() >= 2
    assert {r.owner.username for r in pending} == {"sam.manager"}
    assert AdjustmentRequest.objects.filter(
        practice=sunrise, status=AdjustmentStatus.POSTED, kind="small_balance"
    ).exists()


def test_a_second_run_adds_nothing(sunrise):
    before = (LedgerEntry.objects.count(), Statement.objects.count())
    call_command("seed_demo", stdout=StringIO())
    assert (LedgerEntry.objects.count(), Statement.objects.count()) == before
