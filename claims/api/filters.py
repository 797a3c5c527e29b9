"""Query-string filters of the claim list: the queue filters of the pages, plus ``queue``."""

from __future__ import annotations

from typing import Any

import django_filters
from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet

from claims.models import Claim
from claims.queues import API_QUEUES, ClaimQueueFilter, claims_in_queue


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
