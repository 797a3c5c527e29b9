"""The one scoping primitive: ``Model.objects.visible_to(user, codename)``.

Every page, endpoint, export and aggregate starts from it. The practices a user may see
come from ``billing_ops.access.grants_for`` (one query per request), so the permission
table is not joined into every list.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Self, TypeVar

from django.db import models

from billing_ops.access import visible_practice_ids
from billing_ops.bulk import any_of

if TYPE_CHECKING:
    from billing_ops.access import AnyUser

_M = TypeVar("_M", bound=models.Model)


class PracticeScopedQuerySet(models.QuerySet[_M]):
    """A queryset whose model names the path to its practice in ``practice_lookup``."""

    def visible_to(self, user: AnyUser | None, codename: str) -> Self:
        """Only the rows of practices on which ``user`` holds the permission ``codename``."""
        ids = visible_practice_ids(user, codename)
        if not ids:
            return self.none()
        return self.in_practices(ids)

    def in_practices(self, practice_ids: Iterable[int], *, as_array: bool = False) -> Self:
        """Only the rows of these practices (``visible_to`` once the user's are known).
        ``as_array``: the ids as one array parameter (``billing_ops.bulk.any_of``), the
        shape a statement compiled once with a mark for them needs (``claims.page_reads``)."""
        lookup = getattr(self.model, "practice_lookup", "practice")
        if as_array:
            return self.filter(any_of(lookup, sorted(practice_ids)))
        return self.filter(**{f"{lookup}__in": sorted(practice_ids)})

    def of_practice(self, practice_id: int) -> Self:
        """Only the rows of one practice."""
        lookup = getattr(self.model, "practice_lookup", "practice")
        return self.filter(**{lookup: practice_id})
