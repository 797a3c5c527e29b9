"""A chore: the smallest possible work item, for tests only."""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.utils import timezone

from work.models import Priority, WorkItem


class ChoreAction(models.TextChoices):
    WAIT = "wait", "Wait"
    DO_IT = "do_it", "Do it"


class Chore(WorkItem):
    """Something the front desk must do, e.g. "call back Mrs. A"."""

    title = models.CharField(max_length=100)
    done = models.BooleanField(default=False)
    next_action = models.CharField(max_length=30, choices=ChoreAction.choices, blank=True)

    def __str__(self) -> str:
        return f"Chore {self.title}"

    @property
    def is_open(self) -> bool:
        return not self.done

    def compute_priority(self, today: dt.date | None = None) -> Priority:
        today = today or timezone.localdate()
        if self.done or self.next_action_due is None:
            return Priority(0, ())
        late = (today - self.next_action_due).days
        return Priority(max(late, 0) * 10, (f"{late} days overdue",) if late > 0 else ())
