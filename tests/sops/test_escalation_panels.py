"""Escalations on the pages of the items they are about (issue 14, part 4): an escalation
raised about a denial, an eligibility check or a patient account shows its question and
answer on that item's page (``work.panels``), with the form to raise another; who may not
see the item sees neither the page nor the escalation."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.urls import reverse
from django.utils import timezone

from ar import ledger
from claims.choices import ClaimStatus
from denials import services as denial_services
from eligibility import services as eligibility_services
from eligibility.models import EligibilityCheck
from practices.choices import ClaimFormat
from sops import escalation_services, function_services
from sops.choices import BillingFunctionKind
from sops.escalation_models import Escalation
from tests import claim_factory, factories
from tests.conftest import login
from tests.permission_matrix import Endpoint, PermissionMatrixMixin

pytestmark = pytest.mark.django_db

# Who may open each page (the item's own permission), from the matrices of those pages.
CLAIM_WORKERS = frozenset({"sam", "bill", "vera", "val"})
VERIFIERS = frozenset({"sam", "fran", "bill", "vic", "val"})
PATIENT_BILLING = frozenset({"sam", "fran", "bill", "val"})


def build(world: Any) -> None:
    """A denial, an eligibility check and a patient account at Sunrise, each with an
    answered escalation; the functions that answer them."""
    for kind, owner in (
        (BillingFunctionKind.DENIAL_FOLLOW_UP, world.bill),
        (BillingFunctionKind.ELIGIBILITY, world.fran),
        (BillingFunctionKind.PATIENT_STATEMENTS, world.fran),
    ):
        function_services.billing_function_set(
            actor=world.sam, practice=world.sunrise, kind=kind, owner=owner
        )
    patient = factories.PatientFactory(practice=world.sunrise)
    claim = claim_factory.make(
        actor=world.bill,
        patient=patient,
        coverage=factories.CoverageFactory(
            patient=patient,
            payer=factories.PayerFactory(
                practice=world.sunrise, claim_format=ClaimFormat.DENTAL, timely_filing_days=365
            ),
        ),
        provider=factories.ProviderFactory(practice=world.sunrise),
        number="ESC-PANEL-1",
        owner=world.bill,
        status=ClaimStatus.DENIED,
    )
    world.denial = denial_services.open_denial(
        actor=world.bill,
        claim=claim,
        group_code="CO",
        carc="50",
        amount=Decimal("120.00"),
        received_on=timezone.localdate(),
    )
    eligibility_services.checks_for_upcoming(now=timezone.now())
    world.check = EligibilityCheck.objects.get(appointment__patient=world.sunrise_patient)
    world.account = ledger.account_for(actor=world.bill, patient=world.sunrise_patient)
    ledger.ledger_post(actor=world.bill, account=world.account, kind="charge", amount="90")
    world.account.refresh_from_db()
    world.escalations = {}
    for key, item, kind, answerer in (
        ("denial", world.denial, BillingFunctionKind.DENIAL_FOLLOW_UP, world.bill),
        ("eligibility", world.check, BillingFunctionKind.ELIGIBILITY, world.fran),
        ("patient_balance", world.account, BillingFunctionKind.PATIENT_STATEMENTS, world.fran),
    ):
        escalation = escalation_services.escalation_raise(
            actor=world.sam,
            subject_type=key,
            subject_id=item.pk,
            function_kind=kind,
            question=f"Question about the {key}?",
            deadline=timezone.localdate() + dt.timedelta(days=2),
        )
        escalation_services.escalation_answer(
            actor=answerer, escalation=escalation, answer=f"Answer about the {key}"
        )
        world.escalations[key] = escalation


@pytest.fixture
def pw(world: Any) -> Any:
    build(world)
    return world


def _pages(w: Any) -> dict[str, str]:
    return {
        "denial": reverse("denial-detail", args=[w.denial.pk]),
        "eligibility": reverse("eligibility-check", args=[w.check.pk]),
        "patient_balance": reverse("patient-account-detail", args=[w.account.pk]),
    }


def test_question_and_answer_show_on_each_items_page_with_the_raise_form(
    pw: Any, client: Any
) -> None:
    login(client, pw.sam)
    for key, url in _pages(pw).items():
        page = client.get(url)
        assert page.status_code == 200, key
        assert f"Question about the {key}?" in page.text, key
        assert f"Answer about the {key}" in page.text, key
        assert f'name="subject_type" value="{key}"' in page.text, key
        # Only this item's escalation, not the others'.
        others = {k for k in _pages(pw) if k != key}
        assert not any(f"Question about the {k}?" in page.text for k in others), key


def test_raised_from_the_denial_page_it_shows_there_once_answered(pw: Any, client: Any) -> None:
    login(client, pw.bill)
    response = client.post(
        reverse("escalation-raise"),
        {
            "subject_type": "denial",
            "subject_id": pw.denial.pk,
            "function_kind": BillingFunctionKind.DENIAL_FOLLOW_UP,
            "question": "Does the practice have the x-ray?",
            "patient_impact": "Crown on hold",
        },
    )
    assert response.status_code == 302
    escalation = Escalation.objects.get(question="Does the practice have the x-ray?")
    assert (escalation.subject_type, escalation.subject_id) == ("denial", pw.denial.pk)
    page = client.get(_pages(pw)["denial"]).text
    assert "Does the practice have the x-ray?" in page and "Crown on hold" in page
    escalation_services.escalation_answer(
        actor=pw.sam, escalation=escalation, answer="Yes, uploaded to the chart"
    )
    assert "Yes, uploaded to the chart" in client.get(_pages(pw)["denial"]).text


def test_a_user_of_another_practice_sees_neither_page_nor_escalation(pw: Any, client: Any) -> None:
    login(client, pw.mia)
    for key, url in _pages(pw).items():
        page = client.get(url)
        assert page.status_code == 404, key
        assert f"Answer about the {key}" not in page.text, key


class TestEscalationPanels(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build(world)

    endpoints = [
        Endpoint(
            "denial page escalation",
            "get",
            lambda w: _pages(w)["denial"],
            CLAIM_WORKERS,
            marker=lambda w: "Answer about the denial",
            route="denial-detail",
        ),
        Endpoint(
            "eligibility check page escalation",
            "get",
            lambda w: _pages(w)["eligibility"],
            VERIFIERS,
            marker=lambda w: "Answer about the eligibility",
            route="eligibility-check",
        ),
        Endpoint(
            "patient account page escalation",
            "get",
            lambda w: _pages(w)["patient_balance"],
            PATIENT_BILLING,
            marker=lambda w: "Answer about the patient_balance",
            route="patient-account-detail",
        ),
    ]
