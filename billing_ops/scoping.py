"""The one scoping primitive: which practices a user holds a permission on.

Every page, endpoint, export and aggregate starts from ``visible_to(user, codename)``;
permissions live on Practice objects (django-guardian, direct foreign-key tables) and are
derived from memberships and assignments only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.db import models

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


def visible_practice_ids(user: AbstractBaseUser | AnonymousUser, codename: str) -> Any:
    """A subquery of the ids of practices on which ``user`` holds ``practices.<codename>``."""
    from practices.models import Practice, PracticeUserPermission

    if not user.is_authenticated or not user.is_active:
        return Practice.objects.none().values("pk")
    if user.is_superuser:
        return Practice.objects.filter(is_active=True).values("pk")
    return PracticeUserPermission.objects.filter(
        user_id=user.pk,
        permission__codename=codename,
        permission__content_type__app_label="practices",
        content_object__is_active=True,
    ).values("content_object_id")


class PracticeScopedQuerySet(models.QuerySet):
    """A queryset whose model names the path to its practice in ``practice_lookup``."""

    def visible_to(self, user: AbstractBaseUser | AnonymousUser, codename: str) -> Self:
        """Only the rows of practices on which ``user`` holds the permission ``codename``."""
        lookup = getattr(self.model, "practice_lookup", "practice")
        return self.filter(**{f"{lookup}__in": visible_practice_ids(user, codename)})


def user_has_practice_perm(user: Any, codename: str, practice_id: int) -> bool:
    """Whether ``user`` holds ``codename`` on one practice (same rule as ``visible_to``)."""
    from practices.models import Practice

    return Practice.objects.visible_to(user, codename).filter(pk=practice_id).exists()
