"""The one scoping primitive: ``Model.objects.visible_to(user, codename)``.

Every page, endpoint, export and aggregate starts from it. The practices a user may see
come from ``billing_ops.access.grants_for`` (one query per request), so the permission
table is not joined into every list.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self, TypeVar

from django.db import models

from billing_ops.access import visible_practice_ids

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
        lookup = getattr(self.model, "practice_lookup", "practice")
        return self.filter(**{f"{lookup}__in": sorted(ids)})

    def of_practice(self, practice_id: int) -> Self:
        """Only the rows of one practice."""
        lookup = getattr(self.model, "practice_lookup", "practice")
        return self.filter(**{lookup: practice_id})
