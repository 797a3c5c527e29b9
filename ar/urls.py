from django.urls import path

from ar import queue_views

urlpatterns = [
    path("queues/work-next/", queue_views.work_next, name="work-next"),
    path("queues/bulk/", queue_views.bulk, name="queue-bulk"),
    path("queues/owners/", queue_views.owners, name="queue-owners"),
    path("queues/<slug:slug>/", queue_views.queue, name="queue"),
]
api_urlpatterns: list = []
