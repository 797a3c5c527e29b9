from django.urls import path

from claims import views

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
    path("claims/<int:pk>/release/", views.claim_release, name="claim-release"),
]
api_urlpatterns: list = []
