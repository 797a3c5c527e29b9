"""Handing all of a person's open work at a practice to somebody else, in one step.

When access ends (``practices.people_services``), every open item the person owns at that
practice, of every registered type, moves to one successor through the work core's one
save path (``save_checked``: invariant, rank, version, history with the actor) with one
timeline entry per item, so nothing is left to the "Unassigned" queues. Registered with
``practices.handover`` by ``WorkConfig.ready``.

An assignment that ends by date hands over in the 15-minute job (``hand_over_at_end``):
to the successor named with the end date; when none was named (or they can no longer take
it all), each type's items go to the owner (else the backup) of the billing function that
governs it, and the practice's managers are told, so nothing falls to Unassigned silently.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from billing_ops.access import holders
from practices.handover import OpenWork
from work.choices import NotificationKind
from work.functions import function_holders
from work.models import Notification
from work.notifications import clip, insert_new
from work.registry import ItemType, registry
from work.services import require_work_perm, save_checked

if TYPE_CHECKING:
    from django.db.models import QuerySet

    from billing_ops.access import Actor


def _owned(item_type: ItemType, user: Any, practice_id: int) -> QuerySet[Any]:
    return item_type.open_items().filter(owner_id=user.pk, practice_id=practice_id)


def open_counts(user: Any, practice_id: int) -> dict[str, int]:
    """The user's open items at a practice per type label (types with none omitted)."""
    counts = {t.label: _owned(t, user, practice_id).count() for t in registry.types()}
    return {label: count for label, count in counts.items() if count}


def successor_candidates(user: Any, practice_id: int) -> list[Any]:
    """Active users who may work every type the user has open items of at the practice
    (personal items are withdrawn, not handed over: they ask nothing of the successor)."""
    found: dict[int, Any] | None = None
    for item_type in registry.types():
        if item_type.withdraw_on_handover or not _owned(item_type, user, practice_id).exists():
            continue
        able = {u.pk: u for u in holders(item_type.permission, practice_id)}
        found = able if found is None else {pk: u for pk, u in found.items() if pk in able}
    return [u for pk, u in (found or {}).items() if pk != user.pk]


@transaction.atomic
def reassign_all(*, actor: Actor, from_user: Any, to_user: Any, practice_id: int) -> int:
    """Move every open item ``from_user`` owns at a practice, of every type, to ``to_user``:
    all or nothing, one history row and one timeline entry per item. The actor must be
    able to work each type there (None: the system), and so must the new owner."""
    if to_user is None or to_user.pk == from_user.pk:
        raise ValidationError({"new_owner": "Choose somebody else to take the work over."})
    moved = 0
    for item_type in registry.types():
        rows = list(
            _owned(item_type, from_user, practice_id)
            .select_related("owner")
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        if not rows:
            continue
        if item_type.withdraw_on_handover is not None:
            item_type.withdraw_on_handover(rows, actor)
            continue
        try:
            require_work_perm(actor, item_type, practice_id)
        except PermissionDenied:
            raise PermissionDenied(
                f"You may not reassign {item_type.label.lower()}s at this practice."
            ) from None
        if not holders(item_type.permission, practice_id).filter(pk=to_user.pk).exists():
            raise ValidationError(
                {"new_owner": f"{to_user} cannot work {item_type.label.lower()}s here."}
            )
        moved += _move(item_type, rows, actor, from_user, to_user)
    return moved


def _move(item_type: ItemType, rows: list[Any], actor: Actor, from_user: Any, to_user: Any) -> int:
    for row in rows:
        text = f"Handed over: owner {row.owner} → {to_user} (access of {from_user} ended)"
        row.owner = to_user
        row.locked_by, row.locked_until = None, None
        save_checked(row, actor)
        item_type.log_activity(row, actor, "owner", text)
    return len(rows)


# Item types that name no billing function are governed by claim follow-up (as for
# escalations: sops.escalations); the kind's value, since work cannot import sops.
DEFAULT_FUNCTION = "claim_follow_up"
MANAGE_ACCESS = "manage_access"


def _function_owner(item_type: ItemType, from_user: Any, practice_id: int) -> Any:
    """The billing function's owner, else its backup, who may work the type there."""
    ids = function_holders(practice_id, item_type.billing_function or DEFAULT_FUNCTION)
    able = {
        u.pk: u
        for u in holders(item_type.permission, practice_id).filter(pk__in=ids)
        if u.pk != from_user.pk
    }
    return next((able[pk] for pk in ids if pk in able), None)


@transaction.atomic
def hand_over_at_end(*, from_user: Any, successor: Any, practice_id: int, ended: str) -> int:
    """The system's handover when access ends by date (``ended`` says which, for people):
    everything to ``successor`` when they may take it all; otherwise each type to its
    billing function's owner or backup, and the practice's managers are notified (also of
    items nobody could take, which then stay in the Unassigned queue). Returns items moved."""
    counts = open_counts(from_user, practice_id)
    if not counts:
        return 0
    if successor is not None:
        try:
            with transaction.atomic():
                return reassign_all(
                    actor=None, from_user=from_user, to_user=successor, practice_id=practice_id
                )
        except ValidationError:
            pass  # the named successor can no longer work it all: the functions' owners
    moved, went, stuck = 0, [], []
    for item_type in registry.types():
        rows = list(
            _owned(item_type, from_user, practice_id)
            .select_related("owner")
            .select_for_update(of=("self",))
            .order_by("pk")
        )
        if not rows:
            continue
        label = f"{len(rows)} {item_type.label.lower()}(s)"
        if item_type.withdraw_on_handover is not None:
            item_type.withdraw_on_handover(rows, None)
            went.append(f"{label} withdrawn (they were {from_user}'s own)")
            continue
        to_user = _function_owner(item_type, from_user, practice_id)
        if to_user is None:
            stuck.append(label)
            continue
        moved += _move(item_type, rows, None, from_user, to_user)
        went.append(f"{label} to {to_user}")
    _tell_managers(from_user, practice_id, ended, successor, went, stuck)
    return moved


def _tell_managers(
    from_user: Any, practice_id: int, ended: str, successor: Any, went: list[str], stuck: list[str]
) -> int:
    why = (
        f"{successor} could no longer take it over"
        if successor is not None
        else "nobody was named to take it over"
    )
    parts = [f"{ended}; {why}."]
    if went:
        parts.append(f"Handed to the billing function owners: {', '.join(went)}.")
    if stuck:
        parts.append(f"Nobody could take {', '.join(stuck)}: see the Unassigned queue.")
    message = clip(" ".join(parts))
    today = timezone.localdate()
    return insert_new(
        Notification(
            user_id=manager.pk,
            practice_id=practice_id,
            kind=NotificationKind.HANDOVER,
            message=message,
            for_date=today,
            dedupe_key=f"handover:{practice_id}:{from_user.pk}:{manager.pk}:{today.isoformat()}",
        )
        for manager in holders(MANAGE_ACCESS, practice_id).filter(is_superuser=False)
    )


PROVIDER = OpenWork(
    count=open_counts,
    reassign=lambda actor, from_user, to_user, practice_id: reassign_all(
        actor=actor, from_user=from_user, to_user=to_user, practice_id=practice_id
    ),
    candidates=successor_candidates,
    at_end=lambda from_user, successor, practice_id, ended: hand_over_at_end(
        from_user=from_user, successor=successor, practice_id=practice_id, ended=ended
    ),
)
