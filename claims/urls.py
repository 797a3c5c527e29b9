from django.urls import path
from rest_framework.routers import SimpleRouter

from claims import api, estimate_views, search_views, views

urlpatterns = [
    path("claims/<int:pk>/", views.claim_detail, name="claim-detail"),
    path("claims/<int:pk>/next-action/", views.claim_next_action, name="claim-next-action"),
    path("claims/<int:pk>/follow-up/", views.claim_follow_up, name="claim-follow-up"),
    path("claims/<int:pk>/note/", views.claim_note, name="claim-note"),
    path("claims/<int:pk>/transition/", views.claim_transition, name="claim-transition"),
    path("claims/<int:pk>/attachments/", views.claim_attachment_add, name="claim-attachment-add"),
    path(
        "claims/<int:pk>/attachments/<int:attachment_pk>/",
        views.claim_attachment_download,
        name="claim-attachment-download",
    ),
    path(
        "claims/<int:pk>/attachments/<int:attachment_pk>/status/",
        views.claim_attachment_status,
        name="claim-attachment-status",
    ),
    path("claims/<int:pk>/release/", views.claim_release, name="claim-release"),
    path("search/", search_views.search_page, name="search"),
    path("estimates/", estimate_views.estimate_list, name="estimate-list"),
    path("estimates/<int:pk>/", estimate_views.estimate_detail, name="estimate-detail"),
]
# /api/v1/claims/...: SimpleRouter lists the detail=False "work-next" route before the
# detail routes, and the numeric lookup keeps "work-next" from ever reading as an id.
_router = SimpleRouter()
_router.register("claims", api.ClaimViewSet, basename="api-claim")
api_urlpatterns: list = [
    *_router.urls,
    path("search/", search_views.SearchAPIView.as_view(), name="api-search"),
]
