"""Writes for appeals: draft one (letter from the category's template, documents from the
claim's attachments), edit the letter, send it, record the payer's decision.

Each write also moves the denial: drafting sets its next action to "appeal" by the
appeal's deadline, sending makes it wait for the decision (and the claim becomes
"appealed"), an overturn closes it, an upheld appeal asks for the next level or a
write-off.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from claims.attachments import visible_attachments
from claims.choices import ClaimStatus
from claims.choices import NextAction as ClaimNextAction
from claims.models import Attachment
from claims.services import claim_transition
from denials import letters
from denials.choices import (
    ActivityKind,
    AppealLevel,
    AppealMethod,
    AppealOutcome,
    NextAction,
    Outcome,
)
from denials.models import Appeal, Denial
from denials.services import (
    PAYER_ANSWER_DAYS,
    _close,
    _open_locked,
    _set_next,
    activity,
    finish,
    money,
    require_denial_perm,
)
from work.choices import WAIT

if TYPE_CHECKING:
    from billing_ops.access import Actor

NEXT_LEVEL = {AppealLevel.FIRST: AppealLevel.SECOND, AppealLevel.SECOND: AppealLevel.EXTERNAL}
# After an upheld appeal the next level is usually due within 60 days.
NEXT_LEVEL_WINDOW_DAYS = 60


def _documents(actor: Actor, denial: Denial, documents: Iterable[Attachment]) -> list[Attachment]:
    """The chosen attachments, only from the denial's claim and only those the actor may
    see (clinical kinds need the clinical permission)."""
    chosen = {doc.pk for doc in documents}
    allowed = list(visible_attachments(actor, denial.claim).filter(pk__in=chosen))
    if len(allowed) != len(chosen):
        raise ValidationError({"documents": "Choose documents of this claim that you may see."})
    return allowed


@transaction.atomic
def appeal_create(
    *,
    actor: Actor,
    denial: Denial,
    level: str = AppealLevel.FIRST,
    deadline: dt.date | None = None,
    method: str = "",
    letter: str | None = None,
    documents: Iterable[Attachment] = (),
    expected_version: int | None = None,
) -> Appeal:
    """Draft an appeal of an open denial; the denial's next action becomes "appeal"."""
    denial = _open_locked(denial, actor, expected_version)
    if level not in AppealLevel.values:
        raise ValidationError({"level": f"Unknown appeal level {level!r}."})
    if method and method not in AppealMethod.values:
        raise ValidationError({"method": f"Unknown method {method!r}."})
    if denial.appeals.filter(level=level).exists():
        raise ValidationError({"level": f"This denial already has a {level} appeal."})
    today = timezone.localdate()
    deadline = deadline or (
        denial.appeal_deadline
        if level == AppealLevel.FIRST
        else today + dt.timedelta(days=NEXT_LEVEL_WINDOW_DAYS)
    )
    docs = _documents(actor, denial, documents)
    appeal = Appeal(
        denial=denial,
        level=level,
        method=method,
        deadline=deadline,
        letter=letter if letter is not None else letters.draft(denial, AppealLevel(level).label),
        created_by=actor,
    )
    appeal._history_user = actor  # type: ignore[attr-defined]
    appeal.save()
    appeal.documents.set(docs)
    _set_next(denial, NextAction.APPEAL, max(min(deadline, today + dt.timedelta(days=7)), today))
    finish(denial, actor)
    activity(denial, actor, ActivityKind.APPEAL, f"{appeal.get_level_display()} appeal drafted.")
    return appeal


def _locked_appeal(appeal: Appeal, actor: Actor) -> Appeal:
    require_denial_perm(actor, appeal.denial.practice_id)
    return Appeal.objects.select_for_update().select_related("denial").get(pk=appeal.pk)


@transaction.atomic
def appeal_update(
    *,
    actor: Actor,
    appeal: Appeal,
    letter: str | None = None,
    method: str | None = None,
    deadline: dt.date | None = None,
    documents: Iterable[Attachment] | None = None,
) -> Appeal:
    """Edit an unsent appeal: letter, method, deadline, documents."""
    appeal = _locked_appeal(appeal, actor)
    if appeal.sent_on is not None:
        raise ValidationError({"letter": "The appeal was sent; it is kept as sent."})
    if method is not None:
        if method and method not in AppealMethod.values:
            raise ValidationError({"method": f"Unknown method {method!r}."})
        appeal.method = method
    if letter is not None:
        appeal.letter = letter
    if deadline is not None:
        appeal.deadline = deadline
    if documents is not None:
        appeal.documents.set(_documents(actor, appeal.denial, documents))
    appeal._history_user = actor  # type: ignore[attr-defined]
    appeal.save()
    return appeal


@transaction.atomic
def appeal_send(
    *, actor: Actor, appeal: Appeal, sent_on: dt.date | None = None, method: str = ""
) -> Appeal:
    """Record that the appeal went to the payer: the denial waits for the decision and the
    claim becomes "appealed"."""
    appeal = _locked_appeal(appeal, actor)
    if appeal.sent_on is not None:
        raise ValidationError({"sent_on": "The appeal was already sent."})
    method = method or appeal.method
    if method not in AppealMethod.values:
        raise ValidationError({"method": "Say how the appeal was sent."})
    today = timezone.localdate()
    sent_on = sent_on or today
    if sent_on > today:
        raise ValidationError({"sent_on": "The sent date is in the future."})
    denial = _open_locked(appeal.denial, actor, None)
    appeal.sent_on, appeal.method = sent_on, method
    appeal._history_user = actor  # type: ignore[attr-defined]
    appeal.save()
    due = max(sent_on + dt.timedelta(days=PAYER_ANSWER_DAYS), today)
    _set_next(denial, WAIT, due, f"the payer's decision on the {appeal.get_level_display()} appeal")
    finish(denial, actor)
    activity(
        denial,
        actor,
        ActivityKind.APPEAL,
        f"{appeal.get_level_display()} appeal sent by {appeal.get_method_display()} "
        f"on {sent_on:%m/%d/%Y}.",
    )
    claim = denial.claim
    if claim.status in (ClaimStatus.DENIED, ClaimStatus.PARTIALLY_PAID):
        claim_transition(
            actor=actor,
            claim=claim,
            to_status=ClaimStatus.APPEALED,
            note=f"Appeal of denial {denial.number} sent.",
            next_action=ClaimNextAction.WAIT,
            next_action_due=max(due, denial.appeal_deadline),
            wait_reason=f"denial {denial.number} is being worked",
        )
    return appeal


@transaction.atomic
def appeal_decide(
    *,
    actor: Actor,
    appeal: Appeal,
    outcome: str,
    amount_recovered: Decimal | str = "0",
    decided_on: dt.date | None = None,
) -> Appeal:
    """Record the payer's decision. Overturned (fully or partly) closes the denial with the
    amount recovered; upheld asks for the next level (or a write-off after external review)."""
    appeal = _locked_appeal(appeal, actor)
    if appeal.sent_on is None:
        raise ValidationError({"outcome": "Send the appeal before recording a decision."})
    if appeal.outcome:
        raise ValidationError({"outcome": "The decision is already recorded."})
    if outcome not in AppealOutcome.values:
        raise ValidationError({"outcome": "Choose overturned, partly overturned or upheld."})
    recovered = money(amount_recovered, "amount_recovered")
    if recovered < 0 or recovered > appeal.denial.amount:
        raise ValidationError(
            {"amount_recovered": f"Between $0.00 and ${appeal.denial.amount:,.2f}."}
        )
    if outcome == AppealOutcome.UPHELD and recovered:
        raise ValidationError({"amount_recovered": "An upheld appeal recovers nothing."})
    today = timezone.localdate()
    appeal.outcome, appeal.amount_recovered = outcome, recovered
    appeal.decided_on = decided_on or today
    appeal._history_user = actor  # type: ignore[attr-defined]
    appeal.save()
    denial = _open_locked(appeal.denial, actor, None)
    label = AppealOutcome(outcome).label
    activity(denial, actor, ActivityKind.APPEAL, f"{appeal.get_level_display()} appeal: {label}.")
    if outcome == AppealOutcome.UPHELD:
        following = NEXT_LEVEL.get(AppealLevel(appeal.level))
        action = NextAction.APPEAL if following else NextAction.WRITE_OFF
        _set_next(denial, action, today + dt.timedelta(days=7))
        finish(denial, actor)
        return appeal
    closing = (
        Outcome.OVERTURNED if outcome == AppealOutcome.OVERTURNED else Outcome.PARTLY_OVERTURNED
    )
    _close(denial, actor, closing, note="", amount_recovered=recovered)
    return appeal
