"""Handing all of a person's open work at a practice to somebody else, in one step.

When access ends (``practices.people_services``), every open item the person owns at that
practice, of every registered type, moves to one successor through the work core's one
save path (``save_checked``: invariant, rank, version, history with the actor) with one
timeline entry per item, so nothing is left to the "Unassigned" queues. Registered with
``practices.handover`` by ``WorkConfig.ready``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from billing_ops.access import holders
from practices.handover import OpenWork
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
    """Active users who may work every type the user has open items of at the practice."""
    found: dict[int, Any] | None = None
    for item_type in registry.types():
        if not _owned(item_type, user, practice_id).exists():
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
        for row in rows:
            text = f"Handed over: owner {row.owner} → {to_user} (access of {from_user} ended)"
            row.owner = to_user
            row.locked_by, row.locked_until = None, None
            save_checked(row, actor)
            item_type.log_activity(row, actor, "owner", text)
            moved += 1
    return moved


PROVIDER = OpenWork(
    count=open_counts,
    reassign=lambda actor, from_user, to_user, practice_id: reassign_all(
        actor=actor, from_user=from_user, to_user=to_user, practice_id=practice_id
    ),
    candidates=successor_candidates,
)
