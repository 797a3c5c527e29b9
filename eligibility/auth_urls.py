"""Prior authorization pages at /authorizations/, the API at /api/v1/prior-authorizations/."""

from typing import Any

from django.urls import path
from rest_framework.routers import SimpleRouter

from eligibility import auth_api, auth_views

urlpatterns = [
    path("authorizations/", auth_views.authorization_list, name="authorization-list"),
    path("authorizations/<int:pk>/", auth_views.authorization_detail, name="authorization-detail"),
    *(
        path(
            f"authorizations/<int:pk>/{action}/",
            auth_views.authorization_action,
            {"action": action},
            name=f"authorization-{action}",
        )
        for action in auth_views.ACTIONS
    ),
]

_router = SimpleRouter()
_router.register(
    "prior-authorizations", auth_api.PriorAuthorizationViewSet, basename="api-prior-authorization"
)
api_urlpatterns: list[Any] = list(_router.urls)
