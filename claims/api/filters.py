"""Query-string filters of the claim list: the queue filters of the pages, plus ``queue``."""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from claims.models import Claim
from claims.queues import API_QUEUES, ClaimQueueFilter, claims_in_queue

# Parameters of the list that are not filters: the cursor pagination's.
PAGE_PARAMS = frozenset({"cursor", "page_size"})


class ClaimFilter(ClaimQueueFilter):
    """The queue filters of the pages, plus ``queue`` (default: every claim, closed too)."""

    queue = django_filters.ChoiceFilter(
        choices=[(slug, slug) for slug in API_QUEUES], method="filter_queue"
    )

    def __init__(self, data: Any = None, queryset: Any = None, *, request: Any = None, **kw: Any):
        self.user = getattr(request, "user", None) or AnonymousUser()
        super().__init__(data, queryset, request=request, user=self.user, **kw)

    def filter_queue(self, queryset: QuerySet[Claim], name: str, value: str) -> QuerySet[Claim]:
        return claims_in_queue(value, self.user, queryset)


def queue_only(params: Any) -> str | None:
    """The queue of a list request that asks for nothing but one valid ``queue`` (and a
    page), else None. For such a request ``ClaimFilter`` applies ``filter_queue`` alone
    (every other filter is empty), so the list narrows by ``claims_in_queue`` without
    building and cleaning the filterset's form (about 1.5 ms a request; the API's load
    run and its users ask for a queue and its pages). Anything else (another filter, an
    unknown parameter, a repeated or invalid ``queue``) goes through the filterset, which
    answers its errors."""
    if not params.keys() <= PAGE_PARAMS | {"queue"}:
        return None
    slugs = params.getlist("queue")
    if len(slugs) != 1 or slugs[0] not in API_QUEUES:
        return None
    return str(slugs[0])
