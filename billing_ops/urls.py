"""Root URLs: staff pages, the API under /api/v1/, and the admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from ar import account_urls, ack_urls, plan_urls
from ar import urls as ar_urls
from claims import urls as claims_urls
from claims.imports import urls as import_urls
from denials import urls as denials_urls
from eligibility import auth_urls as eligibility_auth_urls
from eligibility import recare_urls as eligibility_recare_urls
from eligibility import response_urls as eligibility_response_urls
from eligibility import urls as eligibility_urls
from practices import api as practices_api
from practices import audit_views
from reports import urls as reports_urls
from sops import urls as sops_urls
from work import notification_urls
from work import urls as work_urls

router = DefaultRouter()
router.register("practices", practices_api.PracticeViewSet, basename="practice")
router.register("payers", practices_api.PayerViewSet, basename="payer")
router.register("patients", practices_api.PatientViewSet, basename="patient")
router.register("coverages", practices_api.CoverageViewSet, basename="coverage")
router.register("appointments", practices_api.AppointmentViewSet, basename="appointment")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path(
        "api/v1/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"
    ),
    path("api/v1/", include(claims_urls.api_urlpatterns)),
    path("api/v1/", include(import_urls.api_urlpatterns)),
    path("api/v1/", include(notification_urls.api_urlpatterns)),
    path("api/v1/", include(denials_urls.api_urlpatterns)),
    path("api/v1/", include(ar_urls.api_urlpatterns)),
    path("api/v1/", include(ack_urls.api_urlpatterns)),
    path("api/v1/", include(account_urls.api_urlpatterns)),
    path("api/v1/", include(plan_urls.api_urlpatterns)),
    path("api/v1/", include(sops_urls.api_urlpatterns)),
    path("api/v1/", include(reports_urls.api_urlpatterns)),
    path("api/v1/", include(eligibility_urls.api_urlpatterns)),
    path("api/v1/", include(eligibility_response_urls.api_urlpatterns)),
    path("api/v1/", include(eligibility_auth_urls.api_urlpatterns)),
    path("api/v1/", include(eligibility_recare_urls.api_urlpatterns)),
    path("api/v1/", include(router.urls)),
    path("", include("practices.urls")),
    path("audit/", audit_views.audit, name="audit"),
    path("audit/export/", audit_views.audit_export, name="audit-export"),
    path("", include(claims_urls.urlpatterns)),
    path("", include(work_urls.urlpatterns)),
    path("", include(import_urls.urlpatterns)),
    path("", include(notification_urls.urlpatterns)),
    path("", include(ar_urls.urlpatterns)),
    path("", include(ack_urls.urlpatterns)),
    path("", include(account_urls.urlpatterns)),
    path("", include(plan_urls.urlpatterns)),
    path("", include(denials_urls.urlpatterns)),
    path("", include(eligibility_urls.urlpatterns)),
    path("", include(sops_urls.urlpatterns)),
    path("", include(reports_urls.urlpatterns)),
    path("", include(eligibility_response_urls.urlpatterns)),
    path("", include(eligibility_auth_urls.urlpatterns)),
    path("", include(eligibility_recare_urls.urlpatterns)),
]
