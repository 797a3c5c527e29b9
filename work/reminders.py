"""The reminder jobs over every registered item type: next-action reminders and digests.

Every job takes the date it runs for and can run any number of times (dedupe keys, see
``work.notifications``). Each returns counts (plain ints, so Celery can serialise them).

Messages and e-mails name an item by its type's ``describe`` (claim number, payer, amount:
no patient names, minimum necessary) and reach only owners who may still work the item's
practice (``billing_ops.access.holder_condition``).
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator
from typing import Any

from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string

from billing_ops.access import holder_condition
from work.choices import NotificationKind
from work.models import Notification, WorkItem
from work.notifications import BATCH, clip, insert_new
from work.registry import ItemType, registry

# A digest lists at most this many items; the rest are counted.
DIGEST_MAX_ITEMS = 100


def plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def due_phrase(due: dt.date, today: dt.date) -> str:
    """``due today``, ``1 day overdue``, ``3 days overdue``."""
    late = (today - due).days
    return "due today" if late <= 0 else f"{plural(late, 'day')} overdue"


def person(user: Any) -> str:
    if user is None:
        return "nobody"
    return str(user.get_full_name() or user.get_username())


def due_for_owners(item_type: ItemType, today: dt.date) -> QuerySet[Any]:
    """Open items of one type due today or overdue, whose owner may still work them."""
    return (
        item_type.open_items()
        .filter(practice__is_active=True, next_action_due__lte=today, owner__isnull=False)
        .filter(holder_condition(item_type.permission, "owner"))
        .select_related("practice", *item_type.select_related)
        .order_by("owner_id", "practice__name", "next_action_due", "pk")
    )


def notification_for(
    item_type: ItemType,
    item: WorkItem,
    kind: str,
    message: str,
    today: dt.date,
    key: str,
    user_id: int | None = None,
) -> Notification:
    """An unsaved notification about one item (to its owner unless ``user_id`` is given)."""
    return Notification(
        # Reminders are about open items, which always have an owner (the invariant).
        user_id=user_id or item.owner_id,  # type: ignore[misc]
        practice_id=item.practice_id,
        item_type=item_type.key,
        item_id=item.pk,
        kind=kind,
        message=clip(message),
        for_date=today,
        dedupe_key=key,
    )


def send_next_action_reminders(today: dt.date) -> dict[str, int]:
    """In-app reminder to each owner of an open item whose next action is due or overdue."""
    counts = {"due_today": 0, "overdue": 0}

    def build() -> Iterator[Notification]:
        for item_type in registry.types():
            for item in due_for_owners(item_type, today).iterator(chunk_size=BATCH):
                due = item.next_action_due
                kind = NotificationKind.DUE_TODAY if due >= today else NotificationKind.OVERDUE
                counts[str(kind)] += 1
                yield notification_for(
                    item_type,
                    item,
                    kind,
                    f"{item_type.describe(item)}: {item.next_action_label()} — "
                    f"{due_phrase(due, today)}",
                    today,
                    f"{kind}:{item_type.key}:{item.pk}:{item.owner_id}:{today.isoformat()}",
                )

    created = insert_new(build())
    return {**counts, "created": created}


def _digest_item(item_type: ItemType, item: Any, today: dt.date) -> dict[str, Any]:
    return {
        "label": item_type.describe(item),
        "action": item.next_action_label(),
        "when": due_phrase(item.next_action_due, today),
        "overdue": item.next_action_due < today,
        "practice": item.practice.name,
    }


def _digest_email(owner: Any, items: list[dict[str, Any]], today: dt.date) -> tuple[str, str, str]:
    """(subject, body, one-line summary) of one owner's digest."""
    overdue = sum(1 for item in items if item["overdue"])
    due_today = len(items) - overdue
    shown = items[:DIGEST_MAX_ITEMS]
    practices: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for item in shown:
        section = practices.setdefault(item["practice"], {"overdue": [], "due_today": []})
        section["overdue" if item["overdue"] else "due_today"].append(item)
    summary = f"{plural(overdue, 'item')} overdue, {due_today} due today"
    body = render_to_string(
        "work/digest_email.txt",
        {
            "name": person(owner),
            "today": today,
            "summary": summary,
            "practices": practices,
            "more": len(items) - len(shown),
        },
    )
    subject = f"billing-ops: {summary} ({today:%m/%d/%Y})"
    return subject, body, summary


def send_daily_digests(today: dt.date) -> dict[str, int]:
    """One e-mail per owner listing their due and overdue items, at most once a day.

    The DIGEST notification is the "sent" marker: it is inserted and the e-mail sent in
    one transaction, so a failed send leaves no marker (the retry sends it) and a second
    run finds the marker and sends nothing. A concurrent run blocks on the marker's unique
    key until the first commits, then skips.
    """
    rows: list[tuple[int, str, dt.date, str, int, Any, ItemType]] = []
    for item_type in registry.types():
        for item in due_for_owners(item_type, today):
            rows.append(
                (
                    item.owner_id,
                    item.practice.name,
                    item.next_action_due,
                    item_type.key,
                    item.pk,
                    item,
                    item_type,
                )
            )
    rows.sort(key=lambda r: r[:5])
    already = set(
        Notification.objects.filter(kind=NotificationKind.DIGEST, for_date=today).values_list(
            "dedupe_key", flat=True
        )
    )
    counts = {"owners": 0, "sent": 0, "already_sent": 0, "no_email": 0}
    for _owner_id, group in itertools.groupby(rows, key=lambda r: r[0]):
        owned = list(group)
        first = owned[0][5]
        owner = first.owner
        counts["owners"] += 1
        key = f"{NotificationKind.DIGEST}:{owner.pk}:{today.isoformat()}"
        if key in already:
            counts["already_sent"] += 1
            continue
        if not owner.email:
            counts["no_email"] += 1
            continue
        items = [_digest_item(r[6], r[5], today) for r in owned]
        subject, body, summary = _digest_email(owner, items, today)
        with transaction.atomic():
            _, created = Notification.objects.get_or_create(
                dedupe_key=key,
                defaults={
                    "user": owner,
                    "practice_id": first.practice_id,
                    "kind": NotificationKind.DIGEST,
                    "message": clip(f"Daily digest e-mailed: {summary}."),
                    "for_date": today,
                },
            )
            if not created:
                counts["already_sent"] += 1
                continue
            EmailMessage(subject=subject, body=body, to=[owner.email]).send()
        counts["sent"] += 1
    return counts


def refresh_priorities(today: dt.date, batch: int = 2000) -> int:
    """Recompute stored priorities of open items of every type (nightly: age and overdue
    grow daily); how many changed."""
    changed = 0
    for item_type in registry.types():
        pending: list[Any] = []
        for item in item_type.open_items().iterator(chunk_size=batch):
            rank = item.compute_priority(today)
            reasons = list(rank.reasons)
            if rank.score != item.priority or reasons != item.priority_reasons:
                item.priority, item.priority_reasons = rank.score, reasons
                pending.append(item)
            if len(pending) >= batch:
                changed += _flush(item_type, pending)
        changed += _flush(item_type, pending)
    return changed


def _flush(item_type: ItemType, items: list[Any]) -> int:
    with transaction.atomic():
        item_type.model._default_manager.bulk_update(items, ["priority", "priority_reasons"])
    count = len(items)
    items.clear()
    return count
