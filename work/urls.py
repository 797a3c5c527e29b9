from django.urls import path

from work import views

urlpatterns = [
    path("queues/work-next/", views.work_next, name="work-next"),
    path("queues/bulk/", views.bulk, name="queue-bulk"),
    path("queues/owners/", views.owners, name="queue-owners"),
    path("queues/<slug:slug>/", views.queue, name="queue"),
    path("queues/<slug:slug>/filters/", views.queue_filters, name="queue-filters"),
]
