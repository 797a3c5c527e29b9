"""Writes common to every work item: the next-action invariant, optimistic locking, the
one save path, setting the next action, bulk changes, "work next" and its hold.

Domain services (``claims.services`` ...) build on these: they lock the item with
``lock_for_update``, change their own fields, and end with ``save_checked``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, cast

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from billing_ops.access import has_perm, visible_practice_ids
from practices.copy_rows import copy_with_history
from work import handoff
from work.choices import WAIT
from work.handoff import unheld
from work.models import WorkItem, next_action_choices
from work.registry import ItemType, registry

if TYPE_CHECKING:
    from django.contrib.auth.models import User

    from billing_ops.access import Actor

LOCK_MINUTES = 30


class ItemConflict(Exception):
    """Somebody else saved the item after the caller loaded it; nothing was saved."""


def require_work_perm(actor: Actor, item_type: ItemType, practice_id: int) -> None:
    """Refuse unless the actor (None: the system itself) may work this type at the practice."""
    if actor is None:
        return
    if not has_perm(actor, item_type.permission, practice_id):
        raise PermissionDenied("You may not work this item.")


def check_next_action(item: WorkItem) -> None:
    """The invariant: an open item has one next action, an owner and a due date; "wait"
    also has a reason; a closed item has no next action."""
    errors: dict[str, str] = {}
    noun = registry.type_of(item).label.lower()
    if not item.is_open:
        if item.next_action or item.next_action_due:
            errors["next_action"] = f"A closed {noun} has no next action."
    else:
        if item.next_action not in next_action_choices(type(item)):
            errors["next_action"] = f"Choose the next action for this open {noun}."
        if item.owner_id is None:
            errors["owner"] = f"An open {noun} needs an owner."
        if item.next_action_due is None:
            errors["next_action_due"] = "Set the date the next action is due."
        if item.next_action == WAIT and not item.wait_reason.strip():
            errors["wait_reason"] = (
                "Say what we are waiting for (and the due date is the recheck date)."
            )
    if errors:
        raise ValidationError(errors)


def check_owner(item_type: ItemType, owner: User | None, practice_id: int) -> None:
    """A new owner must be able to work the item type at the item's practice."""
    if owner is not None and not has_perm(owner, item_type.permission, practice_id):
        raise ValidationError({"owner": f"{owner} cannot work {item_type.label.lower()}s here."})


def lock_for_update[T: WorkItem](item: T, expected_version: int | None, *related: str) -> T:
    """The item's row, locked for this transaction; a stale ``expected_version`` raises
    ``ItemConflict`` naming who changed it (when the type's timeline knows)."""
    model = type(item)
    rows = model._default_manager.select_for_update(of=("self",))
    current = cast("T", rows.select_related("practice", *related).get(pk=item.pk))
    if expected_version is not None and current.version != expected_version:
        who = _last_actor(current)
        raise ItemConflict(
            f"{current} was changed{f' by {who}' if who else ''} after you opened it. "
            "Your change was not saved: reload to see the latest version and apply it again."
        )
    return current


def _last_actor(item: WorkItem) -> str:
    history = getattr(item, "history", None)
    if history is None:
        return ""
    last = history.select_related("history_user").order_by("-history_date").first()
    user = last.history_user if last is not None else None
    return (user.get_full_name() or user.username) if user is not None else ""


def release_hold(item: WorkItem, actor: Actor) -> None:
    """Setting a next action or closing the item completes the actor's "work next" hold."""
    if actor is not None and item.locked_by_id == actor.pk:
        item.locked_by, item.locked_until = None, None


def _checked(item: WorkItem, today: dt.date | None) -> None:
    if not item.is_open:
        item.locked_by, item.locked_until = None, None
    check_next_action(item)
    rank = item.compute_priority(today)
    item.priority, item.priority_reasons = rank.score, list(rank.reasons)
    item.version += 1


def save_checked[T: WorkItem](item: T, actor: Actor, today: dt.date | None = None) -> T:
    """Save a locked item: invariant checked, priority and its reasons refreshed, version
    bumped, history written with the actor. Every work-item write ends here."""
    _checked(item, today)
    item._history_user = actor  # type: ignore[attr-defined]  # read by simple_history
    item.save()
    return item


def create_checked_bulk[T: WorkItem](
    items: Sequence[T], actor: Actor, today: dt.date | None = None
) -> list[T]:
    """The bulk sibling of ``save_checked`` for NEW items of one type (imports): each is
    checked, ranked and versioned exactly as ``save_checked`` does (an invariant error
    refuses the whole batch: check rows first with ``check_next_action`` to report them
    one by one), then the items written by COPY and their history by one INSERT ... SELECT,
    with the actor (``practices.copy_rows``; ``bulk_create`` on SQLite)."""
    if not items:
        return []
    model = type(items[0])
    for item in items:
        if type(item) is not model or item.pk is not None:
            raise ValueError("create_checked_bulk creates new items of one type only")
        _checked(item, today)
    return copy_with_history(items, model, actor)


@transaction.atomic
def item_set_next_action[T: WorkItem](
    *,
    actor: Actor,
    item: T,
    next_action: str,
    next_action_due: dt.date,
    wait_reason: str = "",
    owner: User | None = None,
    expected_version: int | None = None,
) -> T:
    """Set the one next action (and optionally a new owner) of an open item."""
    item_type = registry.type_of(item)
    require_work_perm(actor, item_type, item.practice_id)
    item = lock_for_update(item, expected_version, "owner")
    if not item.is_open:
        raise ValidationError({"next_action": f"The {item_type.label.lower()} is closed."})
    choices = next_action_choices(type(item))
    if next_action not in choices:
        raise ValidationError({"next_action": f"Unknown next action {next_action!r}."})
    item.next_action = next_action
    item.next_action_due = next_action_due
    item.wait_reason = wait_reason if next_action == WAIT else ""
    text = ""
    if owner is not None and owner.pk != item.owner_id:
        check_owner(item_type, owner, item.practice_id)
        text = f"Owner: {item.owner} → {owner}. "
        item.owner = owner
    release_hold(item, actor)
    save_checked(item, actor)
    text += f"Next: {choices[next_action]}, due {next_action_due:%m/%d/%Y}"
    if item.wait_reason:
        text += f" (waiting for {item.wait_reason})"
    item_type.log_activity(item, actor, "next_action", text)
    return item


def parse_item_refs(refs: Iterable[str]) -> dict[str, set[int]]:
    """``["claim:12", "task:3"]`` -> {"claim": {12}, "task": {3}}; a bad reference is a
    ValidationError naming it."""
    by_type: dict[str, set[int]] = defaultdict(set)
    for ref in refs:
        key, _, raw_id = str(ref).partition(":")
        try:
            registry.type(key)
            by_type[key].add(int(raw_id))
        except (KeyError, ValueError):
            raise ValidationError(f"{ref!r} is not an item you can select.") from None
    return dict(by_type)


@transaction.atomic
def items_bulk_update(
    *,
    actor: Actor,
    items: dict[str, set[int]],
    owner: User | None = None,
    next_action: str | None = None,
    next_action_due: dt.date | None = None,
    wait_reason: str = "",
) -> int:
    """Reassign and/or set the next action of many items of any types: all or nothing, one
    timeline entry each."""
    if owner is None and not next_action:
        raise ValidationError("Choose a new owner or a next action.")
    if next_action and next_action_due is None:
        raise ValidationError({"next_action_due": "Set the date the next action is due."})
    if next_action == WAIT and not wait_reason.strip():
        raise ValidationError({"wait_reason": "Say what we are waiting for."})
    if not any(items.values()):
        raise ValidationError("Select at least one item.")
    changed = 0
    for key, ids in items.items():
        item_type = registry.type(key)
        if next_action and next_action not in next_action_choices(item_type.model):
            raise ValidationError(
                {"next_action": f"{item_type.label}s have no next action {next_action!r}."}
            )
        rows = list(
            item_type.visible(actor)
            .filter(pk__in=ids)
            .select_related("owner")
            .select_for_update(of=("self",))
        )
        if len(rows) != len(ids):
            raise ValidationError(
                "Some selected items are closed or not yours to change; nothing was changed."
            )
        if owner is not None:
            needed = {row.practice_id for row in rows}
            if not needed <= visible_practice_ids(owner, item_type.permission):
                raise ValidationError(
                    {
                        "owner": f"{owner} cannot work {item_type.label.lower()}s of every "
                        "selected practice."
                    }
                )
        for row in rows:
            parts = []
            if owner is not None and owner.pk != row.owner_id:
                parts.append(f"Owner: {row.owner} → {owner}")
                row.owner = owner
            if next_action:
                row.next_action = next_action
                row.next_action_due = next_action_due
                row.wait_reason = wait_reason if next_action == WAIT else ""
                label = next_action_choices(type(row))[next_action]
                parts.append(f"Next: {label}, due {next_action_due:%m/%d/%Y}")
            save_checked(row, actor)
            kind = "owner" if owner is not None else "next_action"
            item_type.log_activity(row, actor, kind, "Bulk: " + "; ".join(parts))
            changed += 1
    return changed


# --- "work next" ---------------------------------------------------------------------


def work_next(
    *, actor: Actor, practice_id: int | None = None, types: list[str] | None = None
) -> WorkItem | None:
    """Hand the caller the top item of their day, of any type, that nobody holds (not even
    the caller, so two tabs get two items), or None when nothing is left.

    The item is held for ``LOCK_MINUTES`` by one UPDATE that locks only the row it takes
    (``FOR UPDATE SKIP LOCKED``), so two people asking at once never get the same item;
    the hold writes no history (it is not a change of the item). Two queries, from SQL
    compiled once per caller and day: ``work.handoff``. The returned item carries its own
    columns; its related rows load on access.
    """
    now = timezone.now()
    return handoff.hand_off(
        actor=actor,
        practice_id=practice_id,
        types=types,
        today=timezone.localdate(),
        now=now,
        until=now + dt.timedelta(minutes=LOCK_MINUTES),
    )


def work_next_plain(
    *, actor: Actor, practice_id: int | None = None, types: list[str] | None = None
) -> WorkItem | None:
    """``work_next`` through the ORM, one candidate query per registered type: the
    reference the fast path is proven against (``tests/work/test_work_next_fast.py``) and
    the baseline of ``bench/work_next_bench.py``."""
    now = timezone.now()
    today = timezone.localdate()
    skip_locked = connection.features.has_select_for_update_skip_locked
    for _attempt in range(5):
        with transaction.atomic():
            # Each type's best candidate nobody else is taking right now (their rows are
            # locked by a concurrent call: SKIP LOCKED passes over them), then the best.
            best: tuple[int, int, ItemType] | None = None
            for item_type in registry.types():
                if types is not None and item_type.key not in types:
                    continue
                candidates = handoff.candidates(item_type, actor, today, now, practice_id)
                candidates = candidates.order_by("-priority", "-pk")
                if skip_locked:
                    candidates = candidates.select_for_update(skip_locked=True, of=("self",))
                top = candidates.values_list("priority", "pk").first()
                if top is not None and (best is None or top > best[:2]):
                    best = (top[0], top[1], item_type)
            if best is None:
                return None
            _priority, pk, item_type = best
            held = (
                item_type.items()
                .filter(Q(pk=pk) & unheld(now))
                .update(locked_by=actor, locked_until=now + dt.timedelta(minutes=LOCK_MINUTES))
            )
        if held:
            taken: WorkItem = item_type.items().select_related(*item_type.select_related).get(pk=pk)
            return taken
    return None


def release(item: WorkItem, actor: Actor) -> None:
    """Give back an item the actor holds (done with it, or skipping it): one UPDATE of
    that row, only while the actor holds it (``work.handoff.give_back``)."""
    if actor is None:  # the system holds nothing
        return
    handoff.give_back(item, actor)
