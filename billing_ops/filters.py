"""The API filter backend (kept apart from billing_ops.api: DRF imports it from settings
while its own viewsets module is still loading)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django_filters.rest_framework import (
    DjangoFilterBackend,
    ModelChoiceFilter,
    ModelMultipleChoiceFilter,
)


class ScopedFilterBackend(DjangoFilterBackend):  # type: ignore[misc]  # django-filter is untyped
    """django-filter, with every model-choice filter limited to what the user may see, so a
    filter form never lists another practice's rows and an id of another practice is
    refused exactly like an id that does not exist."""

    def get_filterset(self, request: Any, queryset: QuerySet[Any], view: Any) -> Any:
        filterset = super().get_filterset(request, queryset, view)
        if filterset is None:
            return None
        codename = getattr(view, "scope_permission", None) or "view_practice"
        for name, filter_ in filterset.filters.items():
            if not isinstance(filter_, ModelChoiceFilter | ModelMultipleChoiceFilter):
                continue
            model = filter_.queryset.model if filter_.queryset is not None else None
            if model is not None and hasattr(model.objects, "visible_to"):
                scoped = model.objects.visible_to(request.user, codename)
                filter_.queryset = scoped
                filterset.form.fields[name].queryset = scoped
        return filterset
