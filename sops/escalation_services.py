"""Escalations: raise one question about any work item, answer it, and move overdue ones on.

Who must answer is the owner of the billing function the question concerns; when the
owner is away (``practices.Membership.away_until`` today or later) the backup. An
escalation not answered by its due date goes to the backup, then to a practice manager
(``reroute_overdue``, from the hourly escalation job). Routine questions have no deadline
and their own list; they are never rerouted.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from billing_ops.access import has_perm, holders_by_practice, visible_practice_ids
from practices import permissions as perms
from practices.choices import Role
from practices.models import Membership
from sops.choices import EscalationAction, EscalationStage, EscalationStatus
from sops.escalation_models import QUESTION_MAX, Escalation
from sops.models import BillingFunction
from work.choices import NotificationKind
from work.notifications import insert_new
from work.registry import ItemType, registry
from work.reminders import notification_for
from work.services import lock_for_update, save_checked

if TYPE_CHECKING:
    from billing_ops.access import Actor

ESCALATION_KEY = "escalation"


def readable_condition(user: Any) -> Q:
    """Escalations the user may read: every one where they manage SOPs, the ones they must
    answer or raised, and those about items of a type they may work."""
    condition = Q(practice_id__in=visible_practice_ids(user, perms.MANAGE_SOPS))
    if user is not None and user.is_authenticated:
        condition |= Q(owner=user) | Q(raised_by=user)
    for item_type in registry.types():
        ids = visible_practice_ids(user, item_type.permission)
        if ids and item_type.key != ESCALATION_KEY:
            condition |= Q(subject_type=item_type.key, practice_id__in=ids)
    return condition


def readable(user: Any) -> QuerySet[Escalation]:
    return Escalation.objects.visible_to(user, perms.VIEW_PRACTICE).filter(readable_condition(user))


def subject_of(actor: Actor, subject_type: str, subject_id: int) -> tuple[ItemType, Any]:
    """The work item an escalation is about, if the actor may see it (else ValidationError)."""
    try:
        item_type = registry.type(subject_type)
    except KeyError:
        raise ValidationError({"subject_type": "Not an item you can escalate."}) from None
    if item_type.key == ESCALATION_KEY:
        raise ValidationError({"subject_type": "Not an item you can escalate."})
    items = item_type.items()
    if actor is not None:
        items = items.visible_to(actor, item_type.permission)  # type: ignore[attr-defined]
    item = items.filter(pk=subject_id).first()
    if item is None:
        raise ValidationError({"subject_id": "No such item (or not one you may see)."})
    return item_type, item


def _away(practice_id: int, user_ids: list[int], today: dt.date) -> set[int]:
    return set(
        Membership.objects.filter(
            practice_id=practice_id, user_id__in=user_ids, away_until__gte=today
        ).values_list("user_id", flat=True)
    )


def answerer(function: BillingFunction, today: dt.date) -> int:
    """Who answers now: the owner, or the backup when the owner is away (and the backup is
    not); the owner when both are away."""
    chain = [function.owner_id] + ([function.backup_id] if function.backup_id else [])
    can_see = holders_by_practice(perms.VIEW_PRACTICE, [function.practice_id], chain)
    chain = [u for u in chain if u in can_see[function.practice_id]] or [function.owner_id]
    away = _away(function.practice_id, chain, today)
    present = [u for u in chain if u not in away]
    return (present or chain)[0]


def _check_question(question: str, errors: dict[str, str]) -> str:
    question = " ".join(question.split())
    if not question:
        errors["question"] = "Ask one specific question."
    elif len(question) > QUESTION_MAX:
        errors["question"] = f"Keep it short: {QUESTION_MAX} characters at most."
    elif question.count("?") > 1:
        errors["question"] = "Exactly one question: raise another escalation for the next one."
    return question


@transaction.atomic
def escalation_raise(
    *,
    actor: Actor,
    subject_type: str,
    subject_id: int,
    function_kind: str,
    question: str,
    deadline: dt.date | None = None,
    patient_impact: str = "",
    is_routine: bool = False,
    today: dt.date | None = None,
) -> Escalation:
    """Ask the practice one question about a work item; it goes to the function's owner."""
    today = today or timezone.localdate()
    item_type, item = subject_of(actor, subject_type, subject_id)
    errors: dict[str, str] = {}
    question = _check_question(question, errors)
    patient_impact = " ".join(patient_impact.split())
    if is_routine and (deadline is not None or patient_impact):
        errors["is_routine"] = "A routine question has no deadline or patient impact."
    if not is_routine and deadline is None and not patient_impact:
        errors["deadline"] = "Give a deadline or the patient impact (else: a routine question)."
    if deadline is not None and deadline < today:
        errors["deadline"] = "The deadline has passed."
    function = BillingFunction.objects.filter(
        practice_id=item.practice_id, kind=function_kind
    ).first()
    if function is None:
        errors["function_kind"] = "The practice has named nobody for this function yet."
    if errors:
        raise ValidationError(errors)
    assert function is not None
    # Routine: no deadline; the turnaround is when it comes up in the owner's day.
    turnaround = dt.timedelta(days=function.turnaround_days)
    due = today + turnaround if is_routine else deadline or today
    escalation = Escalation(
        practice_id=item.practice_id,
        function=function,
        question=question,
        is_routine=is_routine,
        deadline=deadline,
        patient_impact=patient_impact,
        subject_type=item_type.key,
        subject_id=item.pk,
        subject_label=item_type.describe(item)[:200],
        owner_id=answerer(function, today),
        next_action=EscalationAction.ANSWER,
        next_action_due=due,
        raised_by=actor,
    )
    save_checked(escalation, actor, today)
    return escalation


def may_answer(actor: Any, escalation: Escalation) -> bool:
    function = escalation.function
    return actor is not None and (
        actor.pk in (escalation.owner_id, function.owner_id, function.backup_id)
        or has_perm(actor, perms.MANAGE_SOPS, escalation.practice_id)
    )


@transaction.atomic
def escalation_answer(
    *,
    actor: Actor,
    escalation: Escalation,
    answer: str,
    expected_version: int | None = None,
    today: dt.date | None = None,
) -> Escalation:
    """The answer: closes the escalation and tells whoever raised it."""
    today = today or timezone.localdate()
    escalation = lock_for_update(escalation, expected_version, "function")
    if not may_answer(actor, escalation):
        raise PermissionDenied("Only the function's owner, backup or a manager answers.")
    if not escalation.is_open:
        raise ValidationError({"answer": "This escalation is no longer open."})
    answer = answer.strip()
    if not answer:
        raise ValidationError({"answer": "Write the answer."})
    escalation.answer = answer
    escalation.answered_by = actor
    escalation.answered_at = timezone.now()
    escalation.status = EscalationStatus.ANSWERED
    escalation.next_action, escalation.next_action_due, escalation.wait_reason = "", None, ""
    save_checked(escalation, actor, today)
    if escalation.raised_by_id and escalation.raised_by_id != getattr(actor, "pk", None):
        insert_new(
            [
                notification_for(
                    registry.type(ESCALATION_KEY),
                    escalation,
                    NotificationKind.ESCALATION,
                    f"Answered: {escalation.question}",
                    today,
                    f"escalation-answer:{escalation.pk}",
                    user_id=escalation.raised_by_id,
                )
            ]
        )
    return escalation


def _manager(practice_id: int, today: dt.date, exclude: int | None) -> int | None:
    rows = Membership.objects.filter(
        practice_id=practice_id, role=Role.PRACTICE_MANAGER, is_active=True
    ).order_by("pk")
    ids = [u for u in rows.values_list("user_id", flat=True) if u != exclude]
    can_see = holders_by_practice(perms.VIEW_PRACTICE, [practice_id], ids)[practice_id]
    ids = [u for u in ids if u in can_see]
    away = _away(practice_id, ids, today)
    present = [u for u in ids if u not in away]
    return (present or ids or [None])[0]


def reroute_overdue(today: dt.date) -> dict[str, int]:
    """Escalations past their due date move on: to the function's backup, then to a
    practice manager; each move gives a day and tells the new owner. Running again the
    same day moves nothing (the new due date is tomorrow)."""
    counts = {"backup": 0, "manager": 0, "stuck": 0}
    item_type = registry.type(ESCALATION_KEY)
    overdue = Escalation.objects.filter(
        status=EscalationStatus.OPEN,
        is_routine=False,
        next_action_due__lt=today,
        stage__lt=EscalationStage.MANAGER,
    ).values_list("pk", flat=True)
    for pk in list(overdue):
        with transaction.atomic():
            escalation = (
                Escalation.objects.select_for_update(of=("self",))
                .select_related("function")
                .get(pk=pk)
            )
            if not escalation.is_open or escalation.next_action_due >= today:  # type: ignore[operator]
                continue
            function = escalation.function
            backup = function.backup_id
            target: int | None
            if (
                escalation.stage == EscalationStage.FIRST
                and backup
                and backup != escalation.owner_id
            ):
                target, stage = backup, EscalationStage.BACKUP
            else:
                target = _manager(escalation.practice_id, today, None)
                stage = EscalationStage.MANAGER
            if target is None:
                counts["stuck"] += 1
                continue
            escalation.owner_id = target
            escalation.stage = stage
            escalation.next_action_due = today + dt.timedelta(days=1)
            save_checked(escalation, None, today)
            counts["backup" if stage == EscalationStage.BACKUP else "manager"] += 1
            insert_new(
                [
                    notification_for(
                        item_type,
                        escalation,
                        NotificationKind.ESCALATION,
                        f"Overdue escalation now yours: {escalation.question}",
                        today,
                        f"escalation-reroute:{escalation.pk}:{stage}",
                    )
                ]
            )
    return counts
