"""open_denial: idempotent, categorized and routed, owned, dated, and the claim waits."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from claims.choices import NextAction as ClaimNextAction
from denials import services
from denials.choices import DenialCategory, NextAction, Route
from denials.models import CategoryRule, Denial, DenialActivity
from practices.choices import ClaimFormat
from sops.choices import BillingFunctionKind
from sops.models import BillingFunction
from tests import factories
from work.registry import registry

pytestmark = pytest.mark.django_db


def test_open_denial_sets_category_route_deadline_owner_and_next_action(
    world: Any, make_denial: Any
) -> None:
    received = timezone.localdate() - dt.timedelta(days=2)
    denial = make_denial(carc="50", rarcs=["m127", "M127"], received_on=received)

    assert denial.category == DenialCategory.MEDICAL_NECESSITY
    assert denial.route == Route.PRACTICE
    assert denial.rarcs == ["M127"]
    assert denial.appeal_deadline == received + dt.timedelta(days=90)  # the payer's window
    assert denial.owner == world.bill  # the claim's owner: no denial function set up
    assert denial.next_action == NextAction.REQUEST_INFO_PRACTICE
    assert denial.next_action_due == timezone.localdate() + dt.timedelta(days=3)
    assert denial.priority > 0
    assert DenialActivity.objects.filter(denial=denial, actor=world.bill).exists()
    assert denial.history.first().history_user == world.bill

    claim = denial.claim
    claim.refresh_from_db()
    assert claim.next_action == ClaimNextAction.WAIT
    assert claim.wait_reason == f"denial {denial.number} is being worked"
    assert claim.next_action_due == denial.appeal_deadline  # out of My day meanwhile


def test_open_denial_is_idempotent_on_claim_line_group_carc_and_source(
    world: Any, make_claim: Any, make_denial: Any
) -> None:
    claim = make_claim()
    line = claim.lines.get(line_number=1)
    first = make_denial(claim=claim, line=line, source="835", source_ref="trace-1:C1")
    again = make_denial(claim=claim, line=line, source="835", source_ref="trace-1:C1")
    other_line = make_denial(claim=claim, line=claim.lines.get(line_number=2))
    other_code = make_denial(claim=claim, line=line, carc="4")

    assert again.pk == first.pk
    assert len({first.pk, other_line.pk, other_code.pk}) == 3
    assert Denial.objects.filter(claim=claim).count() == 3


def test_category_rules_override_defaults_per_practice_and_per_payer(
    world: Any, make_claim: Any, make_denial: Any
) -> None:
    other_payer = factories.PayerFactory(practice=world.sunrise, claim_format=ClaimFormat.DENTAL)
    CategoryRule.objects.create(practice=world.sunrise, carc="16", category=DenialCategory.CODING)
    CategoryRule.objects.create(
        practice=world.sunrise,
        payer=make_claim.payer,
        carc="16",
        category=DenialCategory.AUTHORIZATION,
        route=Route.PRACTICE,
    )

    by_payer = make_denial(carc="16")
    by_practice = make_denial(claim=make_claim(payer=other_payer), carc="16")
    by_default = make_denial(carc="97")
    unknown = make_denial(carc="A9")

    assert (by_payer.category, by_payer.route) == (DenialCategory.AUTHORIZATION, Route.PRACTICE)
    assert (by_practice.category, by_practice.route) == (DenialCategory.CODING, Route.BILLING)
    assert by_default.category == DenialCategory.CODING
    assert unknown.category == DenialCategory.OTHER


def test_owner_is_the_denial_follow_up_function_holder(world: Any, make_denial: Any) -> None:
    BillingFunction.objects.create(
        practice=world.sunrise, kind=BillingFunctionKind.DENIAL_FOLLOW_UP, owner=world.vera
    )
    assert make_denial().owner == world.vera


def test_a_function_owner_who_cannot_work_denials_is_passed_over(
    world: Any, make_denial: Any
) -> None:
    BillingFunction.objects.create(
        practice=world.sunrise,
        kind=BillingFunctionKind.DENIAL_FOLLOW_UP,
        owner=world.fran,  # front desk: no work_claims
        backup=world.vera,
    )
    assert make_denial().owner == world.vera


def test_the_system_can_open_denials_and_other_practices_cannot(
    world: Any, make_claim: Any
) -> None:
    claim = make_claim()
    kwargs = {
        "claim": claim,
        "group_code": "CO",
        "carc": "29",
        "amount": "80.00",
        "received_on": timezone.localdate(),
    }
    with pytest.raises(PermissionDenied):
        services.open_denial(actor=world.mia, **kwargs)
    with pytest.raises(PermissionDenied):
        services.open_denial(actor=world.fran, **kwargs)
    denial = services.open_denial(actor=None, source="835", **kwargs)
    assert denial.category == DenialCategory.TIMELY_FILING
    assert denial.created_by is None
    assert denial.amount == Decimal("80.00")


@pytest.mark.parametrize(
    ("field", "value"),
    [("group_code", "XX"), ("carc", "<b>"), ("amount", "-1"), ("amount", "abc")],
)
def test_bad_input_is_refused(world: Any, make_claim: Any, field: str, value: str) -> None:
    kwargs: dict[str, Any] = {
        "actor": world.bill,
        "claim": make_claim(),
        "group_code": "CO",
        "carc": "50",
        "amount": "10",
        "received_on": timezone.localdate(),
        field: value,
    }
    with pytest.raises(ValidationError) as error:
        services.open_denial(**kwargs)
    assert field in error.value.message_dict
    assert not Denial.objects.exists()


def test_a_line_of_another_claim_is_refused(world: Any, make_claim: Any) -> None:
    claim, other = make_claim(), make_claim()
    with pytest.raises(ValidationError):
        services.open_denial(
            actor=world.bill,
            claim=claim,
            line=other.lines.first(),
            group_code="CO",
            carc="50",
            amount="10",
            received_on=timezone.localdate(),
        )


def test_denial_is_a_registered_work_item_type(make_denial: Any) -> None:
    denial = make_denial()
    item_type = registry.type_of(denial)
    assert item_type.key == "denial"
    assert "D-" in item_type.describe(denial)
    assert "Doe" not in item_type.describe(denial)  # no patient names in reminders
    assert item_type.open_items().filter(pk=denial.pk).exists()


def test_a_departed_claim_owner_falls_back_to_someone_who_can(world: Any, make_claim: Any) -> None:
    claim = make_claim()
    world.bill.is_active = False
    world.bill.save()
    denial = services.open_denial(
        actor=None,
        claim=claim,
        group_code="CO",
        carc="50",
        amount="10",
        received_on=timezone.localdate(),
        source="835",
        source_ref="T1/C1",
    )
    assert denial.owner is not None and denial.owner != world.bill
    assert denial.owner.is_active
