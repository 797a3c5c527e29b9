"""The project's URLs plus a chore page, for tests that open chores."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def chore_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return HttpResponse(f"chore {pk}")


urlpatterns = [
    path("chores/<int:pk>/", chore_detail, name="chore-detail"),
    path("", include("billing_ops.urls")),
]
