from typing import Any

from django.urls import path
from rest_framework.routers import SimpleRouter

from denials import api, views
from denials.views import ACTIONS

urlpatterns = [
    path("denials/rules/", views.category_rules, name="denial-rules"),
    path(
        "denials/rules/<int:pk>/delete/",
        views.category_rule_delete,
        name="denial-rule-delete",
    ),
    path(
        "denials/proposals/<int:pk>/confirm/",
        views.proposal_confirm,
        name="denial-proposal-confirm",
    ),
    path(
        "denials/proposals/<int:pk>/dismiss/",
        views.proposal_dismiss,
        name="denial-proposal-dismiss",
    ),
    path("denials/<int:pk>/", views.denial_detail, name="denial-detail"),
    *(
        path(
            f"denials/<int:pk>/{action}/",
            views.denial_action,
            {"action": action},
            name=f"denial-{action}",
        )
        for action in ACTIONS
    ),
    path("appeals/<int:pk>/", views.appeal_detail, name="appeal-detail"),
    path("appeals/<int:pk>/send/", views.appeal_send, name="appeal-send"),
    path("appeals/<int:pk>/decide/", views.appeal_decide, name="appeal-decide"),
    path("appeals/<int:pk>/letter.pdf", views.appeal_letter_pdf, name="appeal-letter-pdf"),
]

_router = SimpleRouter()
_router.register("denials", api.DenialViewSet, basename="api-denial")
_router.register("appeals", api.AppealViewSet, basename="api-appeal")
api_urlpatterns: list[Any] = list(_router.urls)
