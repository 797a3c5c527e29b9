"""The registry of work-item types and their queues.

Each domain app registers, in its ``AppConfig.ready``, the item types it owns and the
queues that show them; My day, "work next", bulk actions, the by-owner page, reminders and
escalations read the registry and so work over every type without knowing any of them.

One thing, one row: when an item is represented by another (a denied claim and the denial
opened for it), only the item that carries the next action is a work item; the other is
closed or keeps no next action (``docs/work-items.md``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.db.models import Q, QuerySet

if TYPE_CHECKING:
    from work.models import WorkItem

# (item, actor, kind, text) -> None: writes one timeline entry for the item.
ActivityLogger = Callable[[Any, Any, str, str], None]


@dataclass(frozen=True)
class ItemType:
    """One kind of work item and how the core treats it."""

    key: str  # short and stable: used in URLs, notifications and dedupe keys
    model: type[WorkItem]
    label: str  # "Claim"
    permission: str  # the practice permission needed to see and work it
    open_condition: Q  # which rows still need somebody
    detail_url_name: str  # URL name taking ``pk``
    describe: Callable[[Any], str]  # minimum-necessary label for reminders (no patient names)
    log_activity: ActivityLogger
    row_template: str = "work/item_row.html"
    select_related: tuple[str, ...] = ("owner",)
    # sops.BillingFunction kind whose turnaround and contacts govern escalations.
    billing_function: str = ""
    # Whether the hourly overdue job (sops.escalations) tells the practice's primary
    # contact of this type's overdue items. Off for internal chores that have their own
    # follow-up (SOP sign-offs, QA, payer rule reviews, mini-audits) or their own rerouting
    # (escalations): for those the message would be noise.
    escalate_when_overdue: bool = True
    # Items that are one person's own (a request for *their* sign-off) are not handed to
    # anyone when that person's access ends (work.handover): this closes them instead,
    # (rows, actor) -> None; None means the items are handed over like any other.
    withdraw_on_handover: Callable[[list[Any], Any], None] | None = None
    # What a page's rows show besides their own columns and ``select_related``, read for
    # the whole page at once: (items) -> None, called by the queue pages and My day on the
    # items they show (claims: their teeth). None: nothing more.
    load_rows: Callable[[list[Any]], None] | None = None
    # What a queue page's rows show of their ``select_related`` rows ("patient__last_name"):
    # the page reads only these columns of them (and their ids), the item's own in full.
    # Minimum necessary (no birth date, address or password hash on a page that shows a
    # name) and less to read and build (issue 10). Empty: every column.
    page_related_fields: tuple[str, ...] = ()

    def load_page(self, items: list[Any]) -> None:
        """Read what the page's rows show besides their columns (``load_rows``)."""
        if self.load_rows is not None and items:
            self.load_rows(items)

    def page_fields(self) -> tuple[str, ...]:
        """``only()``'s fields for a queue page (the item's own and
        ``page_related_fields``); empty: every column."""
        if not self.page_related_fields:
            return ()
        own = tuple(f.name for f in self.model._meta.concrete_fields)
        # A join through a related row needs its foreign key ("sop_version__sop").
        through = tuple(path for path in self.select_related if "__" in path)
        return own + self.page_related_fields + through

    def shown_on_page(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        """``queryset`` reading only ``page_fields()`` (every column when there are none)."""
        fields = self.page_fields()
        return queryset.only(*fields) if fields else queryset

    def items(self) -> QuerySet[Any]:
        return self.model._default_manager.all()

    def open_items(self) -> QuerySet[Any]:
        return self.items().filter(self.open_condition)

    def visible(self, user: Any) -> QuerySet[Any]:
        """Open items the user may see and work."""
        return (
            self.model._default_manager.visible_to(user, self.permission)
            .filter(self.open_condition)
            .select_related(*self.select_related)
        )


@dataclass(frozen=True)
class Queue:
    """A named, ranked list of items of one type (My day is the core's, over every type)."""

    slug: str
    title: str
    description: str
    item_type: str
    # (queryset of visible open items, user, today) -> the queue's rows, before filters.
    select: Callable[[QuerySet[Any], Any, dt.date], QuerySet[Any]]
    filterset: Any = None  # a django_filters.FilterSet class taking ``user=``
    sorts: dict[str, tuple[str, bool, str]] = field(
        default_factory=lambda: {"priority": ("priority", True, "Priority")}
    )
    table_template: str = "work/item_table.html"
    order: int = 100
    # Whether ``select`` narrows its queryset by fixed conditions only (no read of the
    # database, as the holders of a practice): its unfiltered pages are then read by
    # statements kept per user, practice, day, grants and page shape (``work.queue_reads``).
    compiled_pages: bool = False


class Registry:
    """Item types and queues by key; filled once at start-up."""

    def __init__(self) -> None:
        self._types: dict[str, ItemType] = {}
        self._queues: dict[str, Queue] = {}

    def register_type(self, item_type: ItemType) -> None:
        existing = self._types.get(item_type.key)
        if existing is not None and existing.model is not item_type.model:
            raise ValueError(f"Item type {item_type.key!r} is registered twice.")
        self._types[item_type.key] = item_type

    def register_queue(self, queue: Queue) -> None:
        if queue.item_type not in self._types:
            raise ValueError(f"Queue {queue.slug!r} names unknown item type {queue.item_type!r}.")
        if queue.slug == "my-day":
            raise ValueError("The slug my-day belongs to the work core.")
        self._queues[queue.slug] = queue

    def types(self) -> Iterator[ItemType]:
        return iter(sorted(self._types.values(), key=lambda t: t.key))

    def type(self, key: str) -> ItemType:
        return self._types[key]

    def type_of(self, item: Any) -> ItemType:
        for item_type in self._types.values():
            if isinstance(item, item_type.model):
                return item_type
        raise LookupError(f"{type(item).__name__} is not a registered work item type.")

    def queues(self) -> list[Queue]:
        return sorted(self._queues.values(), key=lambda q: (q.order, q.slug))

    def queue(self, slug: str) -> Queue | None:
        return self._queues.get(slug)


registry = Registry()
