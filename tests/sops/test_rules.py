"""Payer house rules: the library, confirmation, quarterly reviews as work items (the job
run twice opens one item), structured scrubber rules carried by an entry."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from claims.models import PayerRule
from practices.choices import ClaimFormat
from sops import rule_services
from sops.choices import ReviewStatus, RuleStatus
from sops.rule_models import HouseRule, HouseRuleReview
from tests import factories
from tests.conftest import login

pytestmark = pytest.mark.django_db


@pytest.fixture
def rw(world: Any) -> Any:
    world.payer = factories.PayerFactory(
        practice=world.sunrise, name="Delta Dental", claim_format=ClaimFormat.DENTAL
    )
    world.rule = rule_services.house_rule_save(
        actor=world.sam,
        practice=world.sunrise,
        payer=world.payer,
        procedure_pattern="d27*",
        decision="Crowns need a pre-op x-ray and a narrative.",
    )
    return world


def test_a_new_rule_is_unconfirmed_and_due_in_a_quarter(rw):
    today = timezone.localdate()
    assert rw.rule.status == RuleStatus.UNCONFIRMED and rw.rule.procedure_pattern == "D27*"
    assert rw.rule.review_due == today + dt.timedelta(days=91)
    assert rw.rule.history.first().history_user == rw.sam


def test_only_managers_write_and_payers_of_the_practice_only(rw):
    with pytest.raises(PermissionDenied):
        rule_services.house_rule_save(
            actor=rw.bill, practice=rw.sunrise, payer=rw.payer, decision="x"
        )
    maple_payer = factories.PayerFactory(practice=rw.maple)
    with pytest.raises(ValidationError):
        rule_services.house_rule_save(
            actor=rw.sam, practice=rw.sunrise, payer=maple_payer, decision="x"
        )
    assert HouseRule.objects.count() == 1


def test_confirm_records_who_when_source_and_a_changed_decision_unconfirms(rw):
    rule = rule_services.house_rule_confirm(
        actor=rw.sam, rule=rw.rule, source="Provider manual 2026, p. 14"
    )
    assert (rule.status, rule.confirmed_by, rule.source) == (
        RuleStatus.CONFIRMED,
        rw.sam,
        "Provider manual 2026, p. 14",
    )
    assert rule.last_reviewed == timezone.localdate()
    changed = rule_services.house_rule_save(
        actor=rw.sam,
        practice=rw.sunrise,
        payer=rw.payer,
        rule=rule,
        procedure_pattern="D27*",
        decision="Crowns need a pre-op x-ray only.",
    )
    assert changed.status == RuleStatus.UNCONFIRMED and changed.confirmed_by is None


def test_review_job_run_twice_opens_one_item_and_reviewing_closes_it(rw):
    due = rw.rule.review_due
    assert rule_services.open_due_reviews(due - dt.timedelta(days=1)) == 0
    assert rule_services.open_due_reviews(due) == 1
    assert rule_services.open_due_reviews(due) == 0
    assert rule_services.open_due_reviews(due + dt.timedelta(days=3)) == 0
    review = HouseRuleReview.objects.get()
    assert review.owner == rw.sam and review.is_open and review.next_action == "review"
    rule_services.house_rule_reviewed(actor=rw.sam, rule=rw.rule, today=due)
    review.refresh_from_db()
    assert review.status == ReviewStatus.DONE and review.next_action_due is None
    assert rule_services.open_due_reviews(due + dt.timedelta(days=3)) == 0
    assert HouseRule.objects.get().review_due == due + dt.timedelta(days=91)


def test_structured_rules_show_until_an_entry_carries_them(rw, client):
    structured = PayerRule.objects.create(
        practice=rw.sunrise,
        payer=rw.payer,
        procedure_code_pattern="D4341",
        required_attachment="perio_chart",
        description="SRP needs a perio chart",
    )
    login(client, rw.bill)
    page = client.get("/sops/payer-rules/")
    assert page.status_code == 200
    assert "Crowns need a pre-op x-ray" in page.text and "SRP needs a perio chart" in page.text
    assert "structured-rules" in page.text
    rule_services.house_rule_save(
        actor=rw.sam,
        practice=rw.sunrise,
        payer=rw.payer,
        procedure_pattern="D4341",
        decision="SRP needs a perio chart within 12 months.",
        payer_rule=structured,
    )
    page = client.get("/sops/payer-rules/")
    assert "structured-rules" not in page.text and "scrubber: SRP needs a perio chart" in page.text
