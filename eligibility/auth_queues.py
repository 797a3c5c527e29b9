"""The prior-authorization item type and its queue, registered with the work core."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from eligibility.auth_models import PriorAuthorization
from eligibility.authorizations import PERM, PRIOR_AUTH_KEY, describe, log_activity
from work.registry import ItemType, Queue, registry

PRIOR_AUTH = ItemType(
    key=PRIOR_AUTH_KEY,
    model=PriorAuthorization,
    label="Prior authorization",
    permission=PERM,
    open_condition=Q(closed_at__isnull=True),
    detail_url_name="authorization-detail",
    describe=describe,
    log_activity=log_activity,
    row_template="eligibility/authorization_row.html",
    select_related=("practice", "patient", "payer", "owner"),
    billing_function="eligibility",
)


def _all_open(items: QuerySet[Any], user: Any, today: dt.date) -> QuerySet[Any]:
    return items


PRIOR_AUTH_QUEUE = Queue(
    "prior-authorizations",
    "Prior authorizations",
    "Authorizations to request, follow up and renew: needed first, then the soonest to end.",
    PRIOR_AUTH_KEY,
    _all_open,
    order=40,
)


def register() -> None:
    """Called from ``EligibilityConfig.ready``."""
    registry.register_type(PRIOR_AUTH)
    registry.register_queue(PRIOR_AUTH_QUEUE)
