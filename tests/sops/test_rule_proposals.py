"""Denial patterns propose rules in the payer house rule library (issue 14, part 3): three
denials of one payer x CARC x procedure in 90 days show as an unconfirmed rule; a manager
confirms it (a confirmed house rule carrying an active scrubber rule) or dismisses it (gone,
and the pattern is not proposed again)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from claims import scrubber
from claims.choices import AttachmentKind, ClaimStatus
from claims.models import PayerRule
from denials.choices import ProposalStatus
from denials.models import RuleProposal
from practices.choices import ClaimFormat
from sops import rule_proposals
from sops.choices import RuleStatus
from sops.rule_models import HouseRule
from tests import factories
from tests.conftest import login
from tests.denials.conftest import make_claim, make_denial  # noqa: F401  (fixtures)
from tests.permission_matrix import Case, Endpoint, PermissionMatrixMixin

pytestmark = pytest.mark.django_db
LIBRARY = "/sops/payer-rules/"


def _deny(make_claim: Any, make_denial: Any, days_ago: int) -> Any:  # noqa: F811
    made = make_claim()
    return make_denial(
        claim=made,
        line=made.lines.get(line_number=1),  # D2740
        carc="252",
        received_on=timezone.localdate() - dt.timedelta(days=days_ago),
    )


@pytest.fixture
def proposed(world: Any, make_claim: Any, make_denial: Any) -> Any:  # noqa: F811
    for days in (40, 20, 2):
        _deny(make_claim, make_denial, days)
    world.proposal = RuleProposal.objects.get()
    world.make_claim, world.make_denial = make_claim, make_denial
    return world


def _url(w: Any, verb: str) -> str:
    return f"{LIBRARY}proposals/denial_pattern/{w.proposal.pk}/{verb}/"


def test_two_denials_propose_nothing_the_third_shows_in_the_library(
    world: Any,
    client: Any,
    make_claim: Any,  # noqa: F811
    make_denial: Any,  # noqa: F811
) -> None:
    _deny(make_claim, make_denial, 30)
    _deny(make_claim, make_denial, 10)
    login(client, world.sam)
    assert 'id="proposed-rules"' not in client.get(LIBRARY).text
    _deny(make_claim, make_denial, 1)

    page = client.get(LIBRARY).text
    proposal = RuleProposal.objects.get()
    assert f'id="proposal-denial_pattern-{proposal.pk}"' in page
    assert "Denied 3 times with CARC 252" in page and "D2740" in page
    assert "unconfirmed" in page
    assert f"/proposals/denial_pattern/{proposal.pk}/confirm/" in page  # sam decides

    login(client, world.bill)  # reads the library, does not decide
    page = client.get(LIBRARY).text
    assert f'id="proposal-denial_pattern-{proposal.pk}"' in page
    assert f"/proposals/denial_pattern/{proposal.pk}/confirm/" not in page

    login(client, world.mia)  # Maple's manager: Sunrise's proposal is not in her library
    assert "Denied 3 times with CARC 252" not in client.get(LIBRARY).text


def test_confirm_makes_a_confirmed_rule_with_an_active_scrubber_rule(
    proposed: Any, client: Any
) -> None:
    w = proposed
    login(client, w.sam)
    response = client.post(
        _url(w, "confirm"),
        {"required_attachment": AttachmentKind.NARRATIVE, "decision": "", "source": ""},
    )
    assert response.status_code == 302

    rule = HouseRule.objects.get()
    assert (rule.status, rule.confirmed_by, rule.procedure_pattern) == (
        RuleStatus.CONFIRMED,
        w.sam,
        "D2740",
    )
    assert rule.source.startswith("Proposed from denials: Denied 3 times with CARC 252")
    assert rule.payer_rule is not None and rule.payer_rule.is_active
    assert rule.payer_rule.required_attachment == AttachmentKind.NARRATIVE
    assert rule.decision == rule.payer_rule.description
    proposal = RuleProposal.objects.get()
    assert (proposal.status, proposal.payer_rule_id) == (
        ProposalStatus.CONFIRMED,
        rule.payer_rule_id,
    )
    page = client.get(LIBRARY).text
    assert 'id="proposed-rules"' not in page and f'id="rule-{rule.pk}"' in page

    draft = w.make_claim(
        status=ClaimStatus.DRAFT, lines=[{"procedure_code": "D2740", "charge": Decimal("900")}]
    )
    assert "payer_rule" in {finding.rule for finding in scrubber.scrub(draft)}


def test_confirm_needs_what_the_payer_wants_and_saves_nothing_without_it(
    proposed: Any, client: Any
) -> None:
    login(client, proposed.sam)
    response = client.post(_url(proposed, "confirm"), {"required_attachment": ""})
    assert response.status_code == 302
    assert not HouseRule.objects.exists() and not PayerRule.objects.exists()
    assert RuleProposal.objects.get().status == ProposalStatus.PROPOSED


def test_dismiss_removes_it_and_the_pattern_is_not_proposed_again(
    proposed: Any, client: Any
) -> None:
    w = proposed
    login(client, w.sam)
    assert client.post(_url(w, "dismiss")).status_code == 302
    assert RuleProposal.objects.get().status == ProposalStatus.DISMISSED
    assert 'id="proposed-rules"' not in client.get(LIBRARY).text

    _deny(w.make_claim, w.make_denial, 1)  # the fourth denial of the same pattern
    assert RuleProposal.objects.count() == 1
    assert rule_proposals.pending(w.sunrise.pk) == []
    assert 'id="proposed-rules"' not in client.get(LIBRARY).text
    assert not HouseRule.objects.exists()


def test_only_the_practices_managers_decide(proposed: Any) -> None:
    w = proposed
    with pytest.raises(PermissionDenied):
        rule_proposals.proposal_dismiss(
            actor=w.bill, practice=w.sunrise, source_key="denial_pattern", pk=w.proposal.pk
        )
    with pytest.raises(LookupError):  # Maple's manager, her own practice: not hers
        rule_proposals.proposal_dismiss(
            actor=w.mia, practice=w.maple, source_key="denial_pattern", pk=w.proposal.pk
        )
    assert RuleProposal.objects.get().status == ProposalStatus.PROPOSED


# --- the permission matrix of the two new routes --------------------------------------


def build(world: Any) -> None:
    payer = factories.PayerFactory(
        practice=world.sunrise, name="Proposal Delta", claim_format=ClaimFormat.DENTAL
    )
    world.proposal = RuleProposal.objects.create(
        practice=world.sunrise,
        payer=payer,
        carc="252",
        procedure_code="D2740",
        occurrences=3,
        first_seen=timezone.localdate() - dt.timedelta(days=20),
        last_seen=timezone.localdate(),
    )


def _status(c: Case) -> str:
    return RuleProposal.objects.get(pk=c.world.proposal.pk).status


class TestProposalRoutes(PermissionMatrixMixin):
    @classmethod
    def extend_world(cls, world: Any) -> None:
        build(world)

    endpoints = [
        Endpoint(
            "library shows the proposal",
            "get",
            lambda w: LIBRARY,
            frozenset({"sam", "bill", "vera", "val"}),
            marker=lambda w: f"proposal-denial_pattern-{w.proposal.pk}",
            route="payer-rule-list",
        ),
        Endpoint(
            "confirm a proposal",
            "post",
            lambda w: _url(w, "confirm"),
            frozenset({"sam"}),
            ok_status=302,
            data=lambda w: {"required_modifier": "GT"},
            route="payer-rule-proposal-confirm",
            done=lambda c: _status(c) == ProposalStatus.CONFIRMED,
        ),
        Endpoint(
            "dismiss a proposal",
            "post",
            lambda w: _url(w, "dismiss"),
            frozenset({"sam"}),
            ok_status=302,
            route="payer-rule-proposal-dismiss",
            done=lambda c: _status(c) == ProposalStatus.DISMISSED,
        ),
    ]
