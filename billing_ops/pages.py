"""The page side of the scoping primitive: every staff page resolves its practice here.

Class-based pages use ``ScopedPageMixin``; function views use ``scoped_page`` (same rule,
same object). Both read ``request.access`` (``billing_ops.access``), resolved once per
request, and answer 404 for objects outside the scope exactly like for missing ones.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse

from billing_ops.access import request_access
from billing_ops.audit import OutOfScope, exists_unscoped

if TYPE_CHECKING:
    from billing_ops.scoping import PracticeScopedQuerySet

P = ParamSpec("P")
R = TypeVar("R", bound=HttpResponse)


class ScopedPageMixin(LoginRequiredMixin):
    """Restricts the view's queryset to rows of practices where the user holds
    ``scope_permission``; with ``current_practice_only`` the page needs that permission at
    the switcher's practice (else 404) and lists show that practice only."""

    request: HttpRequest
    model: Any = None
    scope_permission: str | None = None
    current_practice_only = True
    raise_exception = False
    practice: Any = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if self.scope_permission is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs scope_permission.")
        if self.current_practice_only:
            self.practice = request_access(request).practice_or_404(self.scope_permission)
        return super().dispatch(request, *args, **kwargs)

    def scoped_queryset(self) -> PracticeScopedQuerySet[Any]:
        if self.model is None or self.scope_permission is None:
            raise ImproperlyConfigured(f"{type(self).__name__} needs model and scope_permission.")
        queryset: PracticeScopedQuerySet[Any] = self.model._default_manager.visible_to(
            self.request.user, self.scope_permission
        )
        return queryset

    def get_queryset(self) -> QuerySet[Any]:
        queryset = self.scoped_queryset()
        if self.current_practice_only:
            queryset = queryset.of_practice(self.practice.pk)
        return queryset

    def get_object(self, queryset: QuerySet[Any] | None = None) -> Any:
        """Detail pages: Django's lookup on the scoped queryset; when that finds nothing,
        the same lookup on the whole table tells a forbidden object (logged) from a
        missing one (one more query, only then). Both answer 404."""
        try:
            return super().get_object(queryset)  # type: ignore[misc]
        except Http404:
            if queryset is not None or self.model is None:
                raise
            try:
                super().get_object(self.model._default_manager.all())  # type: ignore[misc]
            except Http404:
                raise Http404("Not found.") from None
            raise OutOfScope(self.model) from None


def scoped_page(
    permission: str, *, current_practice: bool = True
) -> Callable[[Callable[P, R]], Callable[P, HttpResponse]]:
    """Function-view form of ``ScopedPageMixin``: signed in (else the login page) and, with
    ``current_practice``, holding ``permission`` at the switcher's practice (else 404).
    The practice is ``request.access.practice``."""

    def decorate(view: Callable[P, R]) -> Callable[P, HttpResponse]:
        @wraps(view)
        def wrapper(*args: P.args, **kwargs: P.kwargs) -> HttpResponse:
            request = args[0]
            assert isinstance(request, HttpRequest)
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if current_practice:
                request_access(request).practice_or_404(permission)
            return view(*args, **kwargs)

        wrapper.scope_permission = permission  # type: ignore[attr-defined]
        return wrapper

    return decorate


def get_scoped_or_404(queryset: QuerySet[Any], **lookup: Any) -> Any:
    """One object of an already-scoped queryset, or 404 whether it is missing or forbidden
    (a forbidden one is logged: one more query, only when the scoped lookup found nothing)."""
    try:
        return queryset.get(**lookup)
    except queryset.model.DoesNotExist:
        if exists_unscoped(queryset.model, **lookup):
            raise OutOfScope(queryset.model) from None
        raise Http404("Not found.") from None
