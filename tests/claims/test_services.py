"""The claim status machine, the next-action invariant and optimistic concurrency."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from claims import services
from claims.choices import TRANSITIONS, ActivityKind, ClaimStatus, NextAction
from claims.models import Claim
from tests import claim_factory

S = ClaimStatus
TODAY = timezone.localdate


def advance(world, claim, *statuses):
    for status in statuses:
        claim = services.claim_transition(actor=world.bill, claim=claim, to_status=status)
    return claim


def test_create_computes_totals_deadline_and_logs(world, make_claim):
    claim = make_claim(
        lines=[
            {"procedure_code": "d2392", "charge": "210.50", "tooth": "14", "surfaces": "MO"},
            {"procedure_code": "D0274", "charge": Decimal("65.00")},
        ]
    )
    assert claim.total_billed == Decimal("275.50")
    assert claim.lines.first().procedure_code == "D2392"
    assert claim.timely_filing_deadline == claim.service_date_from + dt.timedelta(days=365)
    assert claim.status == S.DRAFT and claim.version == 1
    assert claim.activities.get().kind == ActivityKind.CREATED
    assert claim.history.first().history_user == world.bill


def test_create_refuses_coverage_of_another_patient(world, make_claim):
    other = make_claim()
    with pytest.raises(ValidationError) as exc:
        make_claim(coverage=other.coverage)
    assert "another patient" in str(exc.value)
    assert Claim.objects.count() == 1


def test_vendor_without_insurance_billing_cannot_create(world, make_claim):
    with pytest.raises(PermissionDenied):
        make_claim(actor=world.vic)
    assert Claim.objects.count() == 0


def test_happy_path_through_the_machine(world, make_claim):
    claim = advance(world, make_claim(), S.READY, S.SUBMITTED, S.ACCEPTED, S.IN_ADJUDICATION)
    claim = advance(world, claim_factory.post_payment(claim, world.bill, S.PAID), S.CLOSED)
    assert claim.status == S.CLOSED
    assert claim.next_action == "" and claim.next_action_due is None
    assert claim.clean_at_first_submission is True
    assert claim.accepted_on_first_submission is True
    statuses = list(
        claim.activities.filter(kind=ActivityKind.STATUS).values_list("data__to", flat=True)
    )
    assert statuses[::-1] == ["ready", "submitted", "accepted", "in_adjudication", "paid", "closed"]


INVALID = [(s, t) for s in S.values for t in S.values if t not in TRANSITIONS[s] and t != s]


@pytest.mark.parametrize(("start", "to"), INVALID)
def test_invalid_transitions_are_refused_with_a_reason(world, make_claim, start, to):
    claim = make_claim()
    Claim.objects.filter(pk=claim.pk).update(status=start)
    claim.refresh_from_db()
    with pytest.raises(ValidationError) as exc:
        services.claim_transition(actor=world.bill, claim=claim, to_status=to)
    assert "cannot become" in str(exc.value)
    claim.refresh_from_db()
    assert claim.status == start


def test_rejection_then_resubmission_is_not_first_pass(world, make_claim):
    claim = advance(world, make_claim(), S.READY, S.SUBMITTED, S.REJECTED, S.DRAFT, S.READY)
    claim = advance(world, claim, S.SUBMITTED, S.ACCEPTED)
    assert claim.submission_count == 2
    assert claim.accepted_on_first_submission is False


def test_open_claim_needs_owner_next_action_and_due(world, make_claim):
    with pytest.raises(ValidationError) as exc:
        make_claim(next_action="", next_action_due=None, owner=None)
    assert set(exc.value.message_dict) >= {"next_action", "owner", "next_action_due"}


def test_wait_needs_a_reason(world, make_claim):
    claim = make_claim()
    with pytest.raises(ValidationError) as exc:
        services.claim_set_next_action(
            actor=world.bill, claim=claim, next_action=NextAction.WAIT, next_action_due=TODAY()
        )
    assert "wait_reason" in exc.value.message_dict
    claim = services.claim_set_next_action(
        actor=world.bill,
        claim=claim,
        next_action=NextAction.WAIT,
        next_action_due=TODAY() + dt.timedelta(days=14),
        wait_reason="payer reprocessing",
    )
    assert claim.wait_reason == "payer reprocessing"
    assert "waiting for payer reprocessing" in claim.activities.first().text


def test_closed_claim_takes_no_next_action(world, make_claim):
    claim = advance(world, make_claim(), S.VOID)
    with pytest.raises(ValidationError):
        services.claim_set_next_action(
            actor=world.bill,
            claim=claim,
            next_action=NextAction.CALL_PAYER,
            next_action_due=TODAY(),
        )


def test_stale_version_is_a_conflict_and_saves_nothing(world, make_claim):
    claim = make_claim()
    seen = claim.version
    services.claim_set_next_action(
        actor=world.sam,
        claim=claim,
        next_action=NextAction.CALL_PAYER,
        next_action_due=TODAY(),
        expected_version=seen,
    )
    with pytest.raises(services.ClaimConflict) as exc:
        services.claim_set_next_action(
            actor=world.bill,
            claim=claim,
            next_action=NextAction.APPEAL,
            next_action_due=TODAY(),
            expected_version=seen,
        )
    assert "changed by" in str(exc.value) and "not saved" in str(exc.value)
    claim.refresh_from_db()
    assert claim.next_action == NextAction.CALL_PAYER


def test_follow_up_is_counted_and_validated(world, make_claim):
    claim = make_claim()
    with pytest.raises(ValidationError) as exc:
        services.claim_log_follow_up(
            actor=world.bill, claim=claim, channel="phone", contact="", outcome="", next_step=""
        )
    assert set(exc.value.message_dict) == {"contact", "outcome"}
    services.claim_log_follow_up(
        actor=world.bill,
        claim=claim,
        channel="phone",
        contact="Delta rep Ann, ref 123",
        outcome="Claim in review",
        next_step="Recheck in 10 days",
    )
    claim.refresh_from_db()
    assert claim.follow_up_count == 1
    entry = claim.activities.first()
    assert (entry.kind, entry.contact, entry.actor) == (
        ActivityKind.FOLLOW_UP,
        "Delta rep Ann, ref 123",
        world.bill,
    )


def test_a_new_draft_is_prepared_and_submitted_by_default(world, make_claim):
    """Issue 9: a new draft was given "correct and resubmit" though nothing was sent."""
    template = make_claim()
    claim = services.claim_create(
        actor=world.bill,
        patient=template.patient,
        coverage=template.coverage,
        provider=template.provider,
        pms_claim_number="NEW-1",
        service_date_from=template.service_date_from,
        lines=[{"procedure_code": "D1110", "charge": Decimal("120.00")}],
        owner=world.bill,
        next_action_due=TODAY(),
    )
    claim.refresh_from_db()
    assert (claim.status, claim.next_action, claim.next_action_due) == (
        S.DRAFT,
        NextAction.PREPARE_AND_SUBMIT,
        TODAY(),
    )
    assert claim.get_next_action_display() == "Prepare and submit"
