from typing import Any

from django.urls import path
from rest_framework.routers import SimpleRouter

from eligibility import api, views

urlpatterns = [
    path("day-sheet/", views.day_sheet, name="day-sheet"),
    path("eligibility/checks/<int:pk>/", views.check_detail, name="eligibility-check"),
]

_router = SimpleRouter()
_router.register(
    "eligibility-checks", api.EligibilityCheckViewSet, basename="api-eligibility-check"
)
api_urlpatterns: list[Any] = list(_router.urls)
