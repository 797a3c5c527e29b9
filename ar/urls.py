from django.urls import path  # noqa: F401

# Page routes; api_urlpatterns are mounted under /api/v1/.
urlpatterns: list = []
api_urlpatterns: list = []
