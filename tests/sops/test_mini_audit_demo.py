"""The demo's mini-audits and denial-proposed rules (demo/mini_audits.py): each practice has
a mini-audit with root causes recorded and a proposal in its payer rule library; a second
seed run adds nothing."""

from __future__ import annotations

from collections.abc import Iterator
from io import StringIO
from typing import Any

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db import transaction

from denials.choices import ProposalStatus
from denials.models import RuleProposal
from practices.models import Practice
from sops.qa_audit_models import MiniAudit, MiniAuditClaim
from tests.conftest import login


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


def counts() -> tuple[int, int, int, int]:
    return (
        MiniAudit.objects.count(),
        MiniAuditClaim.objects.count(),
        MiniAuditClaim.objects.exclude(root_cause="").count(),
        RuleProposal.objects.count(),
    )


def test_each_practice_has_an_audit_with_causes_and_a_proposed_rule(seeded: None) -> None:
    for practice in Practice.objects.filter(slug__in=["sunrise-dental", "maple-family-medicine"]):
        audit = MiniAudit.objects.get(practice=practice)
        recorded = audit.entries.exclude(root_cause="")
        assert audit.entries.count() >= recorded.count() >= 1, practice
        assert all(entry.recorded_by_id == audit.owner_id for entry in recorded)
        assert RuleProposal.objects.filter(
            practice=practice, status=ProposalStatus.PROPOSED
        ).exists(), practice


def test_the_proposal_is_in_the_library(seeded: None, client: Any) -> None:
    sam = get_user_model().objects.get(username="sam.manager")
    proposal = RuleProposal.objects.get(practice__slug="sunrise-dental")
    login(client, sam)
    page = client.get("/sops/payer-rules/")
    assert f'id="proposal-denial_pattern-{proposal.pk}"' in page.text


def test_a_second_seed_adds_nothing(seeded: None) -> None:
    before = counts()
    call_command("seed_demo", stdout=StringIO())
    assert counts() == before
