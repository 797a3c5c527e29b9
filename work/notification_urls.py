from django.urls import path

from work import notification_views as views

# Page routes; api_urlpatterns are mounted under /api/v1/.
urlpatterns = [
    path("notifications/", views.NotificationListView.as_view(), name="notification-list"),
    path("notifications/read-all/", views.notification_read_all, name="notification-read-all"),
    path("notifications/<int:pk>/read/", views.notification_read, name="notification-read"),
]
api_urlpatterns = [
    path(
        "notifications/",
        views.NotificationListAPIView.as_view(),
        name="api-notification-list",
    ),
]
