"""Remittance pages at /remittances/ (and a claim's paper EOB), the API at /api/v1/remittances/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from ar import api, views

urlpatterns = [
    path("remittances/", views.remittance_list, name="remittance-list"),
    path("remittances/<int:pk>/", views.RemittanceDetailView.as_view(), name="remittance-detail"),
    path("remittances/<int:pk>/run/", views.remittance_run, name="remittance-run"),
    path("remittances/unmatched/<int:pk>/", views.unmatched_detail, name="unmatched-detail"),
    path("remittances/unmatched/<int:pk>/match/", views.unmatched_match, name="unmatched-match"),
    path(
        "remittances/unmatched/<int:pk>/not-ours/",
        views.unmatched_not_ours,
        name="unmatched-not-ours",
    ),
    path(
        "remittances/underpayments/<int:pk>/",
        views.underpayment_detail,
        name="underpayment-detail",
    ),
    path("claims/<int:pk>/eob/", views.claim_eob, name="claim-eob"),
]

_router = SimpleRouter()
_router.register("remittances", api.RemittanceViewSet, basename="api-remittance")
api_urlpatterns: list = _router.urls
