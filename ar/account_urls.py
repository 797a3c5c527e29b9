"""Patient account pages (/patient-accounts/, /adjustment-requests/) and their API."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from ar import account_api, cycle_views
from ar import account_views as views

urlpatterns = [
    path("patient-accounts/", views.account_list, name="patient-account-list"),
    path("patient-accounts/export/", views.account_export, name="patient-account-export"),
    path("patient-accounts/<int:pk>/", views.account_detail, name="patient-account-detail"),
    path(
        "patient-accounts/<int:pk>/follow-up/",
        views.account_follow_up,
        name="patient-account-follow-up",
    ),
    path(
        "patient-accounts/<int:pk>/adjustments/",
        views.account_adjustment,
        name="patient-account-adjustment",
    ),
    path(
        "patient-accounts/<int:pk>/disputes/",
        views.account_dispute,
        name="patient-account-dispute",
    ),
    path("disputes/<int:pk>/resolve/", views.dispute_resolve, name="dispute-resolve"),
    path("patients/<int:patient_pk>/payments/", views.patient_payment, name="patient-payment"),
    path("ledger-entries/<int:pk>/reverse/", views.entry_reverse, name="ledger-entry-reverse"),
    path("statements/", views.statement_list, name="statement-list"),
    path("statements/batch/", views.statement_batch, name="statement-batch"),
    path("statements/cycle/", cycle_views.statement_cycle, name="statement-cycle"),
    path("statements/<int:pk>/pdf/", views.statement_pdf, name="statement-pdf"),
    path("adjustment-requests/<int:pk>/", views.request_detail, name="adjustment-request-detail"),
    path(
        "adjustment-requests/<int:pk>/approve/",
        views.request_approve,
        name="adjustment-request-approve",
    ),
    path(
        "adjustment-requests/<int:pk>/refuse/",
        views.request_refuse,
        name="adjustment-request-refuse",
    ),
]

_router = SimpleRouter()
_router.register(
    "patient-accounts", account_api.PatientAccountViewSet, basename="api-patient-account"
)
_router.register(
    "adjustment-requests", account_api.AdjustmentRequestViewSet, basename="api-adjustment-request"
)
_router.register("statements", account_api.StatementViewSet, basename="api-statement")
api_urlpatterns: list = _router.urls
