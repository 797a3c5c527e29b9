"""Pages and API routes of billing functions and SOPs."""

from typing import Any

from django.urls import path
from rest_framework.routers import SimpleRouter

from sops import (
    access_review_api,
    access_review_views,
    api,
    escalation_api,
    escalation_views,
    qa_api,
    qa_audit_api,
    qa_audit_views,
    qa_views,
    rule_api,
    rule_views,
    sop_views,
    views,
)

urlpatterns = [
    path("sops/functions/", views.function_list, name="billing-function-list"),
    path("sops/functions/<slug:kind>/", views.function_edit, name="billing-function-edit"),
    path("sops/functions/<slug:kind>/sop/", sop_views.sop_edit, name="sop-edit"),
    path("sops/contacts/", views.contacts, name="sop-contacts"),
    path("sops/", sop_views.sop_list, name="sop-list"),
    path("sops/<int:pk>/", sop_views.sop_detail, name="sop-detail"),
    path("sops/<int:pk>/diff/", sop_views.sop_diff, name="sop-diff"),
    path("sops/<int:pk>/sign-off/", sop_views.sop_sign_off, name="sop-sign-off"),
    path("sops/sign-offs/<int:pk>/", sop_views.sign_off_request, name="sop-sign-off-request"),
    path("sops/payer-rules/", rule_views.rule_list, name="payer-rule-list"),
    path("sops/payer-rules/add/", rule_views.rule_edit, name="payer-rule-add"),
    path("sops/payer-rules/<int:pk>/", rule_views.rule_edit, name="payer-rule-edit"),
    path("sops/payer-rules/<int:pk>/confirm/", rule_views.rule_confirm, name="payer-rule-confirm"),
    path(
        "sops/payer-rules/<int:pk>/reviewed/", rule_views.rule_reviewed, name="payer-rule-reviewed"
    ),
    path("sops/payer-rules/reviews/<int:pk>/", rule_views.rule_review, name="payer-rule-review"),
    path(
        "sops/payer-rules/proposals/<slug:source>/<int:pk>/confirm/",
        rule_views.proposal_confirm,
        name="payer-rule-proposal-confirm",
    ),
    path(
        "sops/payer-rules/proposals/<slug:source>/<int:pk>/dismiss/",
        rule_views.proposal_dismiss,
        name="payer-rule-proposal-dismiss",
    ),
    path("sops/qa/", qa_views.qa_list, name="qa-list"),
    path("sops/qa/<int:pk>/", qa_views.qa_review, name="qa-review"),
    path("sops/mini-audits/", qa_audit_views.audit_list, name="mini-audit-list"),
    path("sops/mini-audits/<int:pk>/", qa_audit_views.audit_detail, name="mini-audit"),
    path(
        "sops/access-review/",
        access_review_views.access_review_list,
        name="access-review-list",
    ),
    path(
        "sops/access-review/<int:pk>/",
        access_review_views.access_review_detail,
        name="access-review",
    ),
    path("escalations/raise/", escalation_views.escalation_raise, name="escalation-raise"),
    path("escalations/<int:pk>/", escalation_views.escalation_detail, name="escalation-detail"),
    path(
        "escalations/<int:pk>/answer/",
        escalation_views.escalation_answer,
        name="escalation-answer",
    ),
]

_router = SimpleRouter()
_router.register("billing-functions", api.BillingFunctionViewSet, basename="api-billing-function")
_router.register("sops", api.SopViewSet, basename="api-sop")
_router.register("payer-rules", rule_api.HouseRuleViewSet, basename="api-payer-rule")
_router.register("qa-reviews", qa_api.QaReviewViewSet, basename="api-qa-review")
_router.register("mini-audits", qa_audit_api.MiniAuditViewSet, basename="api-mini-audit")
_router.register("escalations", escalation_api.EscalationViewSet, basename="api-escalation")
_router.register(
    "access-reviews", access_review_api.AccessReviewViewSet, basename="api-access-review"
)
api_urlpatterns: list[Any] = list(_router.urls)
