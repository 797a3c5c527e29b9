"""The recare item type and the Recare queue, registered with the work core."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from eligibility.recare import PERM, RECARE_KEY, log_activity
from eligibility.recare_models import RecareItem
from work.registry import ItemType, Queue, registry


def describe(item: RecareItem) -> str:
    """``Recare R-4 (recall due 03/01/2027, 2 attempts)``: no patient names."""
    return f"Recare {item.label} ({item.get_kind_display().lower()}, due {item.due_on:%m/%d/%Y})"


RECARE = ItemType(
    key=RECARE_KEY,
    model=RecareItem,
    label="Recare",
    permission=PERM,
    open_condition=Q(closed_at__isnull=True),
    detail_url_name="recare-detail",
    describe=describe,
    log_activity=log_activity,
    row_template="eligibility/recare_row.html",
    select_related=("practice", "patient", "owner"),
    billing_function="recare",
)


def _all_open(items: QuerySet[Any], user: Any, today: dt.date) -> QuerySet[Any]:
    return items


RECARE_QUEUE = Queue(
    "recare",
    "Recare",
    "Patients to call back: recalls due and planned treatment not booked, longest due first.",
    RECARE_KEY,
    _all_open,
    order=45,
)


def register() -> None:
    """Called from ``EligibilityConfig.ready``."""
    registry.register_type(RECARE)
    registry.register_queue(RECARE_QUEUE)
