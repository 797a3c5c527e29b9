"""271 import pages at /eligibility-responses/, the API at /api/v1/eligibility-responses/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from eligibility import response_api, response_views

urlpatterns = [
    path("eligibility-responses/", response_views.response_list, name="eligibility-response-list"),
    path(
        "eligibility-responses/270/",
        response_views.export_270_download,
        name="eligibility-270-export",
    ),
    path(
        "eligibility-responses/<int:pk>/",
        response_views.ResponseDetailView.as_view(),
        name="eligibility-response-detail",
    ),
]

_router = SimpleRouter()
_router.register(
    "eligibility-responses",
    response_api.EligibilityResponseViewSet,
    basename="api-eligibility-response",
)
api_urlpatterns: list = _router.urls
