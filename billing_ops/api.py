"""The API side of the scoping primitive: base viewset, filter backend and permission."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from django.core.exceptions import ImproperlyConfigured
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import QuerySet
from django.http import Http404
from rest_framework import permissions, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.filters import BaseFilterBackend

from billing_ops.access import has_perm
from billing_ops.audit import exists_unscoped, log_scope_denial

if TYPE_CHECKING:
    from billing_ops.scoping import PracticeScopedQuerySet


class PracticeScopeFilter(BaseFilterBackend):
    """Keeps only rows of practices on which the user holds the view's scope permission."""

    def filter_queryset(self, request: Any, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        # Every scoped model's manager is a PracticeScopedQuerySet.
        scoped = cast("PracticeScopedQuerySet[Any]", queryset)
        return scoped.visible_to(request.user, view.scope_permission)


def object_practice_id(obj: Any) -> int | None:
    """The practice an object belongs to, along its model's ``practice_lookup`` (the path
    ``PracticeScopedQuerySet`` filters on): ``"practice"`` reads ``obj.practice_id``,
    ``"denial__practice"`` reads ``obj.denial.practice_id``, ``"pk"`` is the object itself
    (a practice). None when a link on the path is empty."""
    lookup = getattr(obj, "practice_lookup", "practice")
    if lookup == "pk":
        return cast("int | None", obj.pk)
    *path, last = lookup.split("__")
    target = obj
    for name in path:
        target = getattr(target, name, None)
        if target is None:
            return None
    if last in ("pk", "id"):
        return cast("int | None", target.pk)
    if last.endswith("_id"):
        return cast("int | None", getattr(target, last, None))
    return cast("int | None", getattr(target, f"{last}_id", None))


class HasScopePermission(permissions.IsAuthenticated):
    """Authenticated, and writes need ``write_permission`` on the practice of the object."""

    def has_object_permission(self, request: Any, view: Any, obj: Any) -> bool:
        if request.method in permissions.SAFE_METHODS:
            return True
        write = getattr(view, "write_permission", None)
        if write is None:
            return False
        practice_id = object_practice_id(obj)
        if not has_perm(request.user, write, practice_id):
            # Readable but not writable: same answer as for an object one cannot see.
            log_scope_denial(request, type(obj), "write")
            raise NotFound()
        return True


class ScopedViewSet(viewsets.GenericViewSet[Any]):
    """Base for every API viewset: refuses to run without a scope permission."""

    scope_permission: str | None = None
    write_permission: str | None = None
    permission_classes = [HasScopePermission]

    def get_queryset(self) -> QuerySet[Any]:
        if self.scope_permission is None:
            raise ImproperlyConfigured(f"{type(self).__name__} has no scope_permission.")
        queryset = super().get_queryset()
        return PracticeScopeFilter().filter_queryset(self.request, queryset, self)

    def get_object(self) -> Any:
        """The scoped object, or 404; a 404 for an object that exists outside the scope is
        logged (one more query, only when the scoped lookup found nothing)."""
        try:
            return super().get_object()
        except Http404:
            value = self.kwargs.get(self.lookup_url_kwarg or self.lookup_field)
            model = self.get_queryset().model
            if value is not None and exists_unscoped(model, **{self.lookup_field: value}):
                log_scope_denial(self.request, model)
            raise

    def call_service(self, func: Any, **kwargs: Any) -> Any:
        """Run a service and turn its Django errors into API errors."""
        try:
            return func(actor=self.request.user, **kwargs)
        except DjangoValidationError as exc:
            detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
            raise ValidationError(detail) from None
        except DjangoPermissionDenied:
            raise NotFound() from None
