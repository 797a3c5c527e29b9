"""The demo's billing functions, SOPs, payer rule library and escalations (demo/sops.py),
and a second seed run that adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import transaction

from practices.models import Practice
from sops.choices import BillingFunctionKind, EscalationStatus, RuleStatus, SignOffStatus
from sops.escalation_models import Escalation
from sops.models import BillingFunction
from sops.qa_models import QaReview
from sops.rule_models import HouseRule
from sops.sop_models import SopSignOffRequest, SopVersion


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


def counts() -> dict[str, int]:
    models: list[Any] = [
        BillingFunction,
        SopVersion,
        SopSignOffRequest,
        HouseRule,
        Escalation,
        QaReview,
    ]
    return {m.__name__: m.objects.count() for m in models}


def test_both_practices_have_every_function_an_sop_rules_and_escalations(seeded: None) -> None:
    for practice in Practice.objects.filter(slug__in=["sunrise-dental", "maple-family-medicine"]):
        functions = BillingFunction.objects.filter(practice=practice)
        assert set(functions.values_list("kind", flat=True)) == set(BillingFunctionKind.values)
        assert SopSignOffRequest.objects.filter(
            practice=practice, status=SignOffStatus.OPEN
        ).exists()
        rules = HouseRule.objects.filter(practice=practice)
        assert {RuleStatus.CONFIRMED, RuleStatus.UNCONFIRMED} <= set(
            rules.values_list("status", flat=True)
        )
        open_ = Escalation.objects.filter(practice=practice, status=EscalationStatus.OPEN)
        assert open_.filter(is_routine=False).exists() and open_.filter(is_routine=True).exists()


def test_sunrise_sop_has_two_versions_and_the_second_is_not_fully_signed(seeded: None) -> None:
    versions = SopVersion.objects.filter(
        sop__practice__slug="sunrise-dental", sop__function__kind="claim_follow_up"
    ).order_by("number")
    assert [v.number for v in versions] == [1, 2]
    v2 = versions[1]
    assert set(v2.sign_offs.values_list("user__username", flat=True)) == {"bill.biller"}
    assert v2.requests.filter(status=SignOffStatus.OPEN).exists()


def test_a_second_run_adds_nothing(seeded: None) -> None:
    before = counts()
    call_command("seed_demo", stdout=StringIO())
    assert counts() == before


def test_a_qa_sample_at_both_practices(seeded: None) -> None:
    for slug in ("sunrise-dental", "maple-family-medicine"):
        reviews = QaReview.objects.filter(practice__slug=slug)
        assert reviews.count() == 3 and all(r.is_open for r in reviews)
