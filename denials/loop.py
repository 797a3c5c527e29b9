"""The closed loop: denials that repeat one payer x CARC x procedure pattern (3 times in
90 days) propose an unconfirmed scrubber payer rule; a manager confirms it (it becomes a
``claims.PayerRule`` the scrubber applies) or dismisses it.

The proposals show in the payer house rule library (``sops``) through the source this
module registers with ``claims.payer_rule_proposals`` (``SOURCE``): the library lists
them as unconfirmed rules and decides them with the services below.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Min
from django.utils import timezone

from billing_ops.access import has_perm
from claims.choices import AttachmentKind
from claims.models import PayerRule
from claims.payer_rule_proposals import Proposal, ProposalSource
from denials import codes
from denials.choices import ProposalStatus
from denials.models import Denial, RuleProposal
from practices import permissions as perms

if TYPE_CHECKING:
    from billing_ops.access import Actor

REPEATS = 3
WINDOW_DAYS = 90


def note_pattern(denial: Denial) -> RuleProposal | None:
    """After a line denial is opened: propose a rule when its pattern has repeated
    ``REPEATS`` times within ``WINDOW_DAYS`` (once per pattern; a decided one stays decided)."""
    if denial.line is None:
        return None
    claim = denial.claim
    code = denial.line.procedure_code
    since = denial.received_on - dt.timedelta(days=WINDOW_DAYS)
    pattern = Denial.objects.filter(
        practice_id=denial.practice_id,
        claim__payer_id=claim.payer_id,
        carc=denial.carc,
        line__procedure_code=code,
        received_on__gte=since,
        received_on__lte=denial.received_on,
    )
    count = pattern.count()
    same = pattern.aggregate(first=Min("received_on"), last=Max("received_on"))
    if count < REPEATS:
        return None
    proposal, created = RuleProposal.objects.get_or_create(
        practice_id=denial.practice_id,
        payer_id=claim.payer_id,
        carc=denial.carc,
        procedure_code=code,
        defaults={"occurrences": count, "first_seen": same["first"], "last_seen": same["last"]},
    )
    if not created and proposal.status == ProposalStatus.PROPOSED:
        proposal.occurrences, proposal.last_seen = count, same["last"]
        proposal.save(update_fields=["occurrences", "last_seen"])
    return proposal


def _decidable(actor: Actor, proposal: RuleProposal) -> RuleProposal:
    if actor is not None and not has_perm(actor, perms.MANAGE_SOPS, proposal.practice_id):
        raise PermissionDenied("Only managers decide payer rules.")
    locked = RuleProposal.objects.select_for_update().get(pk=proposal.pk)
    if locked.status != ProposalStatus.PROPOSED:
        raise ValidationError({"status": "This proposal was already decided."})
    return locked


@transaction.atomic
def proposal_confirm(
    *,
    actor: Actor,
    proposal: RuleProposal,
    required_attachment: str = "",
    required_modifier: str = "",
    description: str = "",
) -> PayerRule:
    """Turn a proposal into a payer rule the scrubber applies from now on."""
    proposal = _decidable(actor, proposal)
    if required_attachment and required_attachment not in AttachmentKind.values:
        raise ValidationError({"required_attachment": "Unknown attachment kind."})
    modifier = required_modifier.strip().upper()
    if len(modifier) > 2 or (modifier and not modifier.isalnum()):
        raise ValidationError({"required_modifier": "A modifier is two letters or digits."})
    if not required_attachment and not modifier:
        raise ValidationError(
            {"required_attachment": "Say what the payer wants: an attachment or a modifier."}
        )
    rule = PayerRule(
        practice_id=proposal.practice_id,
        payer_id=proposal.payer_id,
        procedure_code_pattern=proposal.procedure_code,
        required_attachment=required_attachment,
        required_modifier=modifier,
        description=(
            description.strip()
            or f"Denied {proposal.occurrences}x with CARC {proposal.carc}: "
            f"{proposal.procedure_code} needs "
            + (AttachmentKind(required_attachment).label if required_attachment else modifier)
        )[:300],
    )
    rule._history_user = actor  # type: ignore[attr-defined]
    rule.save()
    proposal.status, proposal.payer_rule = ProposalStatus.CONFIRMED, rule
    proposal.decided_by, proposal.decided_at = actor, timezone.now()
    proposal._history_user = actor  # type: ignore[attr-defined]
    proposal.save()
    return rule


@transaction.atomic
def proposal_dismiss(*, actor: Actor, proposal: RuleProposal) -> RuleProposal:
    """Not a house rule: the pattern is not proposed again."""
    proposal = _decidable(actor, proposal)
    proposal.status = ProposalStatus.DISMISSED
    proposal.decided_by, proposal.decided_at = actor, timezone.now()
    proposal._history_user = actor  # type: ignore[attr-defined]
    proposal.save()
    return proposal


# --- the source the payer house rule library reads (claims.payer_rule_proposals) -----------


def _as_proposal(row: RuleProposal) -> Proposal:
    times = f"{row.occurrences} times" if row.occurrences != 1 else "once"
    return Proposal(
        source=SOURCE_KEY,
        pk=row.pk,
        practice_id=row.practice_id,
        payer_id=row.payer_id,
        payer_name=row.payer.name,
        procedure_code=row.procedure_code,
        why=(
            f"Denied {times} with CARC {row.carc} ({codes.carc_label(row.carc)}) "
            f"between {row.first_seen:%m/%d/%Y} and {row.last_seen:%m/%d/%Y}"
        ),
        occurrences=row.occurrences,
        first_seen=row.first_seen,
        last_seen=row.last_seen,
    )


def pending_proposals(practice_id: int) -> list[Proposal]:
    rows = RuleProposal.objects.filter(
        practice_id=practice_id, status=ProposalStatus.PROPOSED
    ).select_related("payer")
    return [_as_proposal(row) for row in rows.order_by("-last_seen", "pk")]


def _of_practice(practice_id: int, pk: int) -> RuleProposal:
    row = RuleProposal.objects.filter(practice_id=practice_id, pk=pk).first()
    if row is None:
        raise LookupError("No such proposal at this practice.")
    return row


def confirm_proposal(*, actor: Actor, practice_id: int, pk: int, **rule: str) -> PayerRule:
    return proposal_confirm(actor=actor, proposal=_of_practice(practice_id, pk), **rule)


def dismiss_proposal(*, actor: Actor, practice_id: int, pk: int) -> RuleProposal:
    return proposal_dismiss(actor=actor, proposal=_of_practice(practice_id, pk))


SOURCE_KEY = "denial_pattern"
SOURCE = ProposalSource(
    key=SOURCE_KEY,
    pending=pending_proposals,
    confirm=confirm_proposal,
    dismiss=dismiss_proposal,
)
