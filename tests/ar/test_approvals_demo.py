"""The demo's insurance write-off waiting for the manager (``demo.approvals``): the largest
open denial a biller would write off (here a timely-filing one nobody appealed), asked for
by the vendor's biller above the threshold; a second run adds nothing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from ar.account_choices import AdjustmentKind
from ar.ledger_models import AdjustmentRequest
from demo.approvals import seed_write_off_approvals
from denials import services as denial_services
from work.choices import WAIT

pytestmark = pytest.mark.django_db


def test_the_demo_write_off_waits_for_the_manager_once(world, make_claim):
    denials = [
        denial_services.open_denial(
            actor=world.bill,
            claim=make_claim(f"TF-{n}", name, [("D2740", amount)], status="denied"),
            group_code="CO",
            carc="29",
            amount=Decimal(amount),
            received_on=timezone.localdate() - dt.timedelta(days=3),
        )
        for n, name, amount in ((1, "Small", "60.00"), (2, "Large", "840.00"))
    ]
    users = {"vera.vendor": world.vera, "bill.biller": world.bill}
    assert seed_write_off_approvals(world.sunrise, users) == 1
    assert seed_write_off_approvals(world.sunrise, users) == 0
    request = AdjustmentRequest.objects.get(kind=AdjustmentKind.INSURANCE)
    assert request.write_off.denial == denials[1] and request.is_open
    assert (request.requested_by, request.owner) == (world.vera, world.sam)
    # Maple has no such denial: nothing to show there.
    assert seed_write_off_approvals(world.maple, {"mia": world.mia}) == 0


def test_seed_demo_leaves_one_waiting_for_sam_and_a_second_run_adds_none():
    call_command("seed_demo", stdout=StringIO())
    request = AdjustmentRequest.objects.get(
        practice__slug="sunrise-dental", kind=AdjustmentKind.INSURANCE
    )
    assert request.is_open and request.owner.username == "sam.manager"
    assert request.requested_by.username == "vera.vendor"
    assert request.write_off.denial.next_action == WAIT
    made = AdjustmentRequest.objects.filter(kind=AdjustmentKind.INSURANCE).count()
    call_command("seed_demo", stdout=StringIO())
    assert AdjustmentRequest.objects.filter(kind=AdjustmentKind.INSURANCE).count() == made
