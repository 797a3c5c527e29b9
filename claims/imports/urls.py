"""Import pages at /imports/ and the import API at /api/v1/imports/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from claims.imports import api, views

urlpatterns = [
    path("imports/", views.import_list, name="import-list"),
    path("imports/<int:pk>/", views.ImportDetailView.as_view(), name="import-detail"),
    path("imports/<int:pk>/run/", views.import_run, name="import-run"),
    path("imports/templates/<slug:name>.csv", views.import_template, name="import-template"),
]

_router = SimpleRouter()
_router.register("imports", api.ImportJobViewSet, basename="api-import")
api_urlpatterns: list = _router.urls
