"""Payment plan pages (/payment-plans/, /installments/, an account's "set up a plan") and
their API (/api/v1/payment-plans/)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from ar import plan_api
from ar import plan_views as views

urlpatterns = [
    path("payment-plans/", views.plan_list, name="payment-plan-list"),
    path("payment-plans/<int:pk>/", views.plan_detail, name="payment-plan-detail"),
    path("payment-plans/<int:pk>/cancel/", views.plan_cancel, name="payment-plan-cancel"),
    path("patient-accounts/<int:pk>/plans/", views.plan_create, name="payment-plan-create"),
    path("installments/<int:pk>/", views.installment_detail, name="installment-detail"),
    path(
        "installments/<int:pk>/next-action/",
        views.installment_next_action,
        name="installment-next-action",
    ),
]

_router = SimpleRouter()
_router.register("payment-plans", plan_api.PaymentPlanViewSet, basename="api-payment-plan")
api_urlpatterns: list = _router.urls
