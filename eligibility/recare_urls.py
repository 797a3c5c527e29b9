"""Recare pages at /recare/, the API at /api/v1/recare/."""

from typing import Any

from django.urls import path
from rest_framework.routers import SimpleRouter

from eligibility import recare_api, recare_views

urlpatterns = [
    path("recare/", recare_views.recare_list, name="recare-list"),
    path("recare/import/", recare_views.recare_import, name="recare-import"),
    path("recare/<int:pk>/", recare_views.recare_detail, name="recare-detail"),
    path("recare/<int:pk>/call/", recare_views.recare_call, name="recare-call"),
]

_router = SimpleRouter()
_router.register("recare", recare_api.RecareViewSet, basename="api-recare")
api_urlpatterns: list[Any] = list(_router.urls)
