"""Notifications: reading them, marking them read, and inserting them idempotently.

Each notification has a ``dedupe_key`` (unique in the database): rows whose key exists are
skipped and the insert ignores conflicts, so two overlapping job runs still leave one row
per key.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db.models import Case, Q, QuerySet, Value, When
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from billing_ops.access import grants_for
from work.models import Notification
from work.registry import registry

BATCH = 500
MESSAGE_MAX = Notification._meta.get_field("message").max_length or 400
VIEW_PRACTICE = "view_practice"


def clip(message: str) -> str:
    return message if len(message) <= MESSAGE_MAX else message[: MESSAGE_MAX - 1] + "…"


def item_url(notification: Notification) -> str | None:
    """Where a notification's item is worked (its detail page)."""
    if not notification.item_type or notification.item_id is None:
        return None
    try:
        item_type = registry.type(notification.item_type)
        return reverse(item_type.detail_url_name, kwargs={"pk": notification.item_id})
    except (KeyError, NoReverseMatch):
        return None


def notifications_for(user: Any) -> QuerySet[Notification]:
    """The user's own notifications, unread first: only for practices they can still see,
    and a notification about an item only while they may still work that item's type there
    (a reminder names the item: it follows the item's visibility rule)."""
    grants = grants_for(user)
    about_items = Q()
    for item_type in registry.types():
        about_items |= Q(
            item_type=item_type.key,
            practice_id__in=sorted(grants.practice_ids(item_type.permission)),
        )
    return (
        Notification.objects.visible_to(user, VIEW_PRACTICE)
        .filter(user_id=user.pk)
        .filter(Q(item_type="") | about_items)
        .select_related("practice")
        .order_by(
            Case(When(read_at__isnull=True, then=Value(0)), default=Value(1)),
            "-created_at",
            "-pk",
        )
    )


def insert_new(notifications: Iterable[Notification]) -> int:
    """Insert the notifications whose dedupe key is new; how many this run inserted.

    A concurrent run inserting the same key at the same moment is absorbed by the unique
    constraint (``ignore_conflicts``); the count may then include a row the other run won.
    """
    created = 0
    iterator: Iterator[Notification] = iter(notifications)
    while batch := list(itertools.islice(iterator, BATCH)):
        keys = [n.dedupe_key for n in batch]
        existing = set(
            Notification.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True)
        )
        fresh = {n.dedupe_key: n for n in batch if n.dedupe_key not in existing}
        Notification.objects.bulk_create(fresh.values(), ignore_conflicts=True)
        created += len(fresh)
    return created


def notification_mark_read(*, actor: Any, notification: Notification) -> Notification:
    """Mark one of the actor's own notifications read (again: no change)."""
    if notification.user_id != actor.pk:
        raise PermissionDenied("Not your notification.")
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


def notifications_mark_all_read(*, actor: Any) -> int:
    """Mark every unread notification the actor can see read; how many changed."""
    unread = notifications_for(actor).filter(read_at__isnull=True)
    return unread.update(read_at=timezone.now())
