"""The closed loop: a payer x CARC x procedure pattern repeating 3 times in 90 days
proposes a payer rule; a manager's confirmation makes the scrubber check it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from claims import scrubber
from claims.choices import AttachmentKind, ClaimStatus
from claims.models import PayerRule
from denials import loop
from denials.choices import ProposalStatus
from denials.models import RuleProposal

pytestmark = pytest.mark.django_db


def local_today() -> dt.date:
    """Today in the practice's time zone, read when a test uses it (a constant read at
    import goes stale when a run crosses midnight)."""
    return timezone.localdate()


def _deny(make_claim: Any, make_denial: Any, days_ago: int, **claim: Any) -> Any:
    made = make_claim(**claim)
    line = made.lines.get(line_number=1)  # D2740
    return make_denial(
        claim=made, line=line, carc="252", received_on=local_today() - dt.timedelta(days=days_ago)
    )


def test_three_in_ninety_days_propose_a_rule(world: Any, make_claim: Any, make_denial: Any) -> None:
    _deny(make_claim, make_denial, 125)  # more than 90 days before the third
    _deny(make_claim, make_denial, 60)
    _deny(make_claim, make_denial, 30)
    assert not RuleProposal.objects.exists()
    _deny(make_claim, make_denial, 1)

    proposal = RuleProposal.objects.get()
    assert (proposal.carc, proposal.procedure_code, proposal.occurrences) == ("252", "D2740", 3)
    assert proposal.payer == make_claim.payer
    assert proposal.status == ProposalStatus.PROPOSED
    assert proposal.first_seen == local_today() - dt.timedelta(days=60)


def test_claim_level_denials_and_other_codes_do_not_count(
    world: Any, make_claim: Any, make_denial: Any
) -> None:
    for days in (1, 2, 3):
        make_denial(carc="252", received_on=local_today() - dt.timedelta(days=days))  # no line
        made = make_claim()
        make_denial(claim=made, line=made.lines.first(), carc=str(days + 4))
    assert not RuleProposal.objects.exists()


def test_a_manager_confirms_and_the_scrubber_checks_it(
    world: Any, make_claim: Any, make_denial: Any
) -> None:
    for days in (3, 2, 1):
        _deny(make_claim, make_denial, days)
    proposal = RuleProposal.objects.get()
    with pytest.raises(PermissionDenied):
        loop.proposal_confirm(actor=world.bill, proposal=proposal, required_modifier="GT")
    with pytest.raises(ValidationError):
        loop.proposal_confirm(actor=world.sam, proposal=proposal)

    rule = loop.proposal_confirm(
        actor=world.sam, proposal=proposal, required_attachment=AttachmentKind.NARRATIVE
    )
    proposal.refresh_from_db()
    assert (proposal.status, proposal.payer_rule, proposal.decided_by) == (
        ProposalStatus.CONFIRMED,
        rule,
        world.sam,
    )
    assert PayerRule.objects.filter(payer=make_claim.payer, procedure_code_pattern="D2740").exists()

    draft = make_claim(
        status=ClaimStatus.DRAFT, lines=[{"procedure_code": "D2740", "charge": Decimal("900")}]
    )
    rules = {finding.rule for finding in scrubber.scrub(draft)}
    assert "payer_rule" in rules

    with pytest.raises(ValidationError):
        loop.proposal_dismiss(actor=world.sam, proposal=proposal)


def test_a_dismissed_pattern_is_not_proposed_again(
    world: Any, make_claim: Any, make_denial: Any
) -> None:
    for days in (5, 4, 3):
        _deny(make_claim, make_denial, days)
    loop.proposal_dismiss(actor=world.sam, proposal=RuleProposal.objects.get())
    _deny(make_claim, make_denial, 1)
    proposal = RuleProposal.objects.get()
    assert proposal.status == ProposalStatus.DISMISSED
    assert proposal.occurrences == 3
