"""Registers the chore type and a queue with the work core."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from tests.workitems.models import Chore
from work.registry import ItemType, Queue, registry

LOG: list[tuple[int, str, str]] = []


def log_activity(item: Any, actor: Any, kind: str, text: str) -> None:
    LOG.append((item.pk, kind, text))


CHORE = ItemType(
    key="chore",
    model=Chore,
    label="Chore",
    permission="work_recare",
    open_condition=Q(done=False),
    detail_url_name="chore-detail",
    describe=lambda chore: f"Chore {chore.title}",
    log_activity=log_activity,
)


def _all(items: QuerySet[Any], user: Any, today: dt.date) -> QuerySet[Any]:
    return items


def register() -> None:
    registry.register_type(CHORE)
    registry.register_queue(Queue("chores", "Chores", "Every open chore.", "chore", _all))
