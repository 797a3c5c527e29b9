"""277CA pages at /acknowledgements/, the API at /api/v1/acknowledgements/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from ar import ack_api, ack_views

urlpatterns = [
    path("acknowledgements/", ack_views.acknowledgement_list, name="acknowledgement-list"),
    path(
        "acknowledgements/<int:pk>/",
        ack_views.AcknowledgementDetailView.as_view(),
        name="acknowledgement-detail",
    ),
]

_router = SimpleRouter()
_router.register("acknowledgements", ack_api.AcknowledgementViewSet, basename="api-acknowledgement")
api_urlpatterns: list = _router.urls
