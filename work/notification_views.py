"""The signed-in user's notifications: page, mark read, and the read-only API list."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_POST
from django.views.generic import ListView
from rest_framework import generics, permissions, serializers

from billing_ops.access import VIEW_PRACTICE
from billing_ops.pages import ScopedPageMixin, get_scoped_or_404, scoped_page
from work import notifications
from work.models import Notification
from work.notifications import item_url


# The pages below show the user's own notifications from every practice they can still
# see, so they are not tied to the switcher's practice (no current practice required).
# ListView is generic only to the type checker (not subscriptable at runtime).
class NotificationListView(ScopedPageMixin, ListView):  # type: ignore[type-arg]
    """My notifications, unread first; only practices I can still see."""

    model = Notification
    scope_permission = VIEW_PRACTICE
    current_practice_only = False
    paginate_by = 50
    template_name = "work/notifications.html"
    context_object_name = "notifications"

    def get_queryset(self) -> QuerySet[Notification]:
        return notifications.notifications_for(self.request.user)

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(**kwargs)
        unread = self.get_queryset().filter(read_at__isnull=True).order_by()
        context["unread_count"] = unread.count()
        for notification in context["notifications"]:
            notification.url = item_url(notification)
        return context


@scoped_page(VIEW_PRACTICE, current_practice=False)
@require_POST
def notification_read(request: HttpRequest, pk: int) -> HttpResponse:
    """Mark one of my notifications read; anyone else's is a 404."""
    notification = get_scoped_or_404(notifications.notifications_for(request.user), pk=pk)
    notifications.notification_mark_read(actor=request.user, notification=notification)
    return redirect("notification-list")


@scoped_page(VIEW_PRACTICE, current_practice=False)
@require_POST
def notification_read_all(request: HttpRequest) -> HttpResponse:
    """Mark all my notifications read."""
    notifications.notifications_mark_all_read(actor=request.user)
    return redirect("notification-list")


class NotificationSerializer(serializers.ModelSerializer[Notification]):
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    practice_name = serializers.CharField(source="practice.name", read_only=True)
    item_url = serializers.SerializerMethodField()

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "kind_display",
            "message",
            "practice",
            "practice_name",
            "item_type",
            "item_id",
            "item_url",
            "for_date",
            "created_at",
            "read_at",
        ]
        read_only_fields = fields

    def get_item_url(self, obj: Notification) -> str | None:
        return item_url(obj)


class NotificationListAPIView(generics.ListAPIView[Notification]):
    """GET /api/v1/notifications/: my notifications, unread first, paginated."""

    serializer_class = NotificationSerializer
    permission_classes = [permissions.IsAuthenticated]
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[Notification]:
        return notifications.notifications_for(self.request.user)
