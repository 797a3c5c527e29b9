"""Proposed payer rules in the house rule library: confirm or dismiss.

Proposals come from apps above sops (the denial loop: a payer x CARC x procedure pattern
that keeps repeating) through ``claims.payer_rule_proposals``; they stay in their own app
and show in the library as unconfirmed rules. A manager's confirmation makes the
structured scrubber rule (the source's service) and writes the decision into the library
as a confirmed house rule carrying it; a dismissal drops the proposal for good.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.db import transaction

from claims import payer_rule_proposals
from claims.payer_rule_proposals import Proposal
from practices.models import Payer
from sops.function_services import require_manager
from sops.rule_models import HouseRule
from sops.rule_services import house_rule_confirm, house_rule_save

if TYPE_CHECKING:
    from billing_ops.access import Actor


def pending(practice_id: int) -> list[Proposal]:
    """The practice's undecided proposals, from every source."""
    return payer_rule_proposals.pending(practice_id)


def find(practice_id: int, source_key: str, pk: int) -> Proposal:
    """One undecided proposal of the practice (``LookupError`` when there is none)."""
    for proposal in pending(practice_id):
        if proposal.source == source_key and proposal.pk == pk:
            return proposal
    raise LookupError("No such proposal.")


@transaction.atomic
def proposal_confirm(
    *,
    actor: Actor,
    practice: Any,
    source_key: str,
    pk: int,
    required_attachment: str = "",
    required_modifier: str = "",
    decision: str = "",
    source: str = "",
    today: dt.date | None = None,
) -> HouseRule:
    """Confirm a proposal: the source makes its scrubber rule; the library gets a confirmed
    house rule carrying it (the decision in words defaults to the scrubber rule's, the
    source to the denial pattern)."""
    require_manager(actor, practice.pk)
    proposal = find(practice.pk, source_key, pk)
    payer_rule = payer_rule_proposals.source(source_key).confirm(
        actor=actor,
        practice_id=practice.pk,
        pk=pk,
        required_attachment=required_attachment,
        required_modifier=required_modifier,
        description=decision,
    )
    confirmed_from = source.strip() or f"Proposed from denials: {proposal.why}"
    rule = house_rule_save(
        actor=actor,
        practice=practice,
        payer=Payer.objects.get(pk=proposal.payer_id, practice=practice),
        decision=decision.strip() or payer_rule.description,
        procedure_pattern=proposal.procedure_code,
        source=confirmed_from[:300],
        payer_rule=payer_rule,
        today=today,
    )
    return house_rule_confirm(actor=actor, rule=rule, source=confirmed_from[:300], today=today)


@transaction.atomic
def proposal_dismiss(*, actor: Actor, practice: Any, source_key: str, pk: int) -> None:
    """Not a house rule: the proposal leaves the library and its pattern is not proposed
    again."""
    require_manager(actor, practice.pk)
    find(practice.pk, source_key, pk)
    payer_rule_proposals.source(source_key).dismiss(actor=actor, practice_id=practice.pk, pk=pk)
