"""The page side of the scoping primitive: every staff page view builds on ScopedPageMixin."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.http import Http404


class ScopedPageMixin(LoginRequiredMixin):
    """Restricts the view's queryset to rows of practices where the user holds
    ``scope_permission``; with ``current_practice_only`` lists show the switcher's practice.

    Objects outside the scope answer 404, exactly like missing ones.
    """

    model: Any = None
    scope_permission: str | None = None
    current_practice_only = True
    raise_exception = False

    def scoped_queryset(self) -> QuerySet[Any]:
        if self.model is None or self.scope_permission is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs model and scope_permission.")
        return self.model._default_manager.visible_to(self.request.user, self.scope_permission)

    def get_queryset(self) -> QuerySet[Any]:
        queryset = self.scoped_queryset()
        if self.current_practice_only:
            from practices.selectors import current_practice

            practice = current_practice(self.request)
            if practice is None:
                return queryset.none()
            lookup = getattr(self.model, "practice_lookup", "practice")
            queryset = queryset.filter(**{lookup: practice.pk})
        return queryset


def get_scoped_or_404(queryset: QuerySet[Any], **lookup: Any) -> Any:
    """One object of an already-scoped queryset, or 404 whether it is missing or forbidden."""
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404("Not found.") from None
