"""The work item: anything somebody must act on (a claim, a denial, a balance, a check...).

``WorkItem`` is abstract: each domain app's item model inherits its fields (practice,
owner, next action, due date, wait reason, hold, stored priority with its explanation,
version) and registers its type with ``work.registry``. ``Notification`` is the one table
of reminders and alerts, for every registered type.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, ClassVar

from django.conf import settings
from django.db import models

from billing_ops.scoping import PracticeScopedQuerySet
from work.choices import NotificationKind


@dataclass(frozen=True)
class Priority:
    """A queue rank and the reasons behind it, heaviest first."""

    score: int
    reasons: tuple[str, ...]


class WorkItem(models.Model):
    """Abstract: one owner, one next action with its due date, a hold, a rank and a version.

    Subclasses override ``next_action`` to give it their choices (which include
    ``work.choices.WAIT``), implement ``is_open`` and ``compute_priority``, and are written
    only through ``work.services`` (the one save path) or their app's services built on it.
    """

    practice_lookup: ClassVar[str] = "practice"

    practice = models.ForeignKey("practices.Practice", on_delete=models.PROTECT, related_name="+")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    next_action = models.CharField(max_length=30, blank=True)
    next_action_due = models.DateField(null=True, blank=True)
    wait_reason = models.CharField(max_length=300, blank=True)
    # The hold of "work next": who has the item right now, and until when. No index on
    # either (nothing looks items up by their holder): a hold and its release then change
    # no indexed column and PostgreSQL updates the row in place (HOT) instead of adding an
    # entry to each of the table's indexes (claims: 13; issue 10).
    locked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    locked_until = models.DateTimeField(null=True, blank=True)
    # Queue rank, refreshed on every write and nightly, so queues sort on an indexed column;
    # the reasons are what the row shows ("$1,240 · 3 days overdue").
    priority = models.IntegerField(default=0)
    priority_reasons = models.JSONField(default=list, blank=True)
    version = models.PositiveIntegerField(default=1)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        abstract = True

    @property
    def is_open(self) -> bool:
        """Whether the item still needs somebody (closed items have no next action)."""
        raise NotImplementedError

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        """The item's rank today and why."""
        raise NotImplementedError

    @property
    def priority_explanation(self) -> str:
        """The stored reasons; computed now for rows saved before reasons were stored."""
        reasons = self.priority_reasons or self.compute_priority().reasons
        return " · ".join(reasons)

    def next_action_label(self) -> str:
        choices = next_action_choices(type(self))
        return str(choices.get(self.next_action, "No next action"))


def next_action_choices(model: type[WorkItem]) -> dict[Any, Any]:
    """The next actions an item type offers: value -> label."""
    field = model._meta.get_field("next_action")
    return dict(getattr(field, "choices", None) or [])


class Notification(models.Model):
    """One reminder or alert for one person about one item; ``dedupe_key`` makes every job
    idempotent. The item is named by its registered type and id."""

    practice_lookup = "practice"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    practice = models.ForeignKey("practices.Practice", on_delete=models.CASCADE, related_name="+")
    item_type = models.CharField(max_length=30, blank=True)
    item_id = models.PositiveBigIntegerField(null=True, blank=True)
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    message = models.CharField(max_length=400)
    for_date = models.DateField()
    dedupe_key = models.CharField(max_length=120, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["user", "read_at"]),
            models.Index(fields=["item_type", "item_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.message}"
