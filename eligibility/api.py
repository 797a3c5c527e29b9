"""``/api/v1/eligibility-checks/`` (list with ``?appointment_date=``, detail, PATCH): the
same services and scoping as the pages (``verify_eligibility``).

PATCH records a result (``status`` and ``method`` with the result fields: the same
``CheckResult`` and service as the check page) and/or sets the next action and owner. A
check of a practice the caller cannot verify answers 404 like a missing one; a stale
``version`` answers 409 with the current version. Responses carry no patient names.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.response import Response

from billing_ops.access import holders_among, visible_practice_ids
from billing_ops.api import ScopedViewSet
from claims.api.pagination import KeysetPagination
from eligibility import services
from eligibility.choices import RESULT_OUTCOMES, CheckMethod, CheckOutcome, NextAction
from eligibility.models import EligibilityCheck
from eligibility.results import CheckResult, FrequencyLimit
from practices import permissions as perms
from practices.phi_log import PhiReadViewSetMixin
from work.services import ItemConflict, item_set_next_action

NOT_FOUND = OpenApiResponse(description="No such check (or not one you may verify).")
BAD_REQUEST = OpenApiResponse(description="Field errors, or the service's reason for refusing.")
CONFLICT = OpenApiResponse(description="Stale version: nothing was saved.")
MONEY: dict[str, Any] = {
    "max_digits": 12,
    "decimal_places": 2,
    "min_value": Decimal(0),
    "required": False,
    "allow_null": True,
}


class CheckPagination(KeysetPagination):
    """Checks by queue rank (nearest appointment and problems first)."""

    ordering = ("-priority", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class CheckSerializer(serializers.ModelSerializer[EligibilityCheck]):
    appointment_starts_at = serializers.DateTimeField(source="appointment.starts_at")
    payer_name = serializers.CharField(source="payer.name")
    is_open = serializers.BooleanField()

    class Meta:
        model = EligibilityCheck
        fields = [
            "id",
            "practice",
            "appointment",
            "appointment_starts_at",
            "coverage",
            "payer",
            "payer_name",
            "due_at",
            "target_at",
            "is_open",
            "closed_reason",
            "status",
            "method",
            "plan_name",
            "group_number",
            "member_id",
            "reference",
            "copay",
            "coinsurance_percent",
            "deductible",
            "deductible_remaining",
            "annual_max_remaining",
            "frequency_limits",
            "problems",
            "note",
            "verified_by",
            "verified_at",
            "owner",
            "next_action",
            "next_action_due",
            "wait_reason",
            "priority",
            "priority_reasons",
            "version",
        ]
        read_only_fields = fields


@extend_schema_field(OpenApiTypes.INT)
class VerifierField(serializers.PrimaryKeyRelatedField):
    """A user who may verify eligibility at one of the caller's practices (the check's own
    practice is checked by the work core's service)."""

    def get_queryset(self) -> QuerySet[Any]:
        ids = visible_practice_ids(self.context["request"].user, perms.VERIFY_ELIGIBILITY)
        return holders_among(perms.VERIFY_ELIGIBILITY, ids)


class FrequencyLimitSerializer(serializers.Serializer[Any]):
    description = serializers.CharField(max_length=300)
    last_done = serializers.CharField(max_length=30, required=False, allow_blank=True)


class CheckUpdateSerializer(serializers.Serializer[Any]):
    version = serializers.IntegerField()
    status = serializers.ChoiceField(
        choices=[(v, CheckOutcome(v).label) for v in RESULT_OUTCOMES], required=False
    )
    method = serializers.ChoiceField(choices=CheckMethod.choices, required=False)
    plan_name = serializers.CharField(max_length=200, required=False, allow_blank=True)
    group_number = serializers.CharField(max_length=40, required=False, allow_blank=True)
    member_id = serializers.CharField(max_length=40, required=False, allow_blank=True)
    reference = serializers.CharField(max_length=80, required=False, allow_blank=True)
    copay = serializers.DecimalField(**MONEY)
    coinsurance_percent = serializers.DecimalField(
        max_digits=5,
        decimal_places=2,
        min_value=Decimal(0),
        max_value=Decimal(100),
        required=False,
        allow_null=True,
    )
    deductible = serializers.DecimalField(**MONEY)
    deductible_remaining = serializers.DecimalField(**MONEY)
    annual_max_remaining = serializers.DecimalField(**MONEY)
    frequency_limits = FrequencyLimitSerializer(many=True, required=False)
    problems = serializers.ListField(
        child=serializers.CharField(max_length=300), required=False, max_length=50
    )
    note = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    next_action = serializers.ChoiceField(choices=NextAction.choices, required=False)
    next_action_due = serializers.DateField(required=False)
    wait_reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    owner = VerifierField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if ("status" in attrs) != ("method" in attrs):
            raise serializers.ValidationError("A result needs both status and method.")
        return attrs


RESULT_FIELDS = {
    "plan_name",
    "group_number",
    "member_id",
    "reference",
    "copay",
    "coinsurance_percent",
    "deductible",
    "deductible_remaining",
    "annual_max_remaining",
    "note",
}


def result_of(data: dict[str, Any]) -> CheckResult:
    """The ``CheckResult`` a PATCH body describes (fields left out: not reported)."""
    return CheckResult(
        status=data["status"],
        method=data["method"],
        frequency_limits=tuple(
            FrequencyLimit(row["description"], row.get("last_done", ""))
            for row in data.get("frequency_limits", [])
        ),
        problems=tuple(data.get("problems", [])),
        **{name: data[name] for name in RESULT_FIELDS if data.get(name) is not None},
    )


class CheckFilter(django_filters.FilterSet):
    appointment_date = django_filters.DateFilter(
        field_name="appointment__starts_at", lookup_expr="date"
    )
    status = django_filters.ChoiceFilter(choices=CheckOutcome.choices)
    is_open = django_filters.BooleanFilter(field_name="closed_at", lookup_expr="isnull")
    practice = django_filters.NumberFilter(field_name="practice_id")
    appointment = django_filters.NumberFilter(field_name="appointment_id")

    class Meta:
        model = EligibilityCheck
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Eligibility checks you may verify, highest rank first"),
    retrieve=extend_schema(responses={200: CheckSerializer, 404: NOT_FOUND}),
    partial_update=extend_schema(
        summary="Record a result (status + method) and/or set the next action and owner",
        request=CheckUpdateSerializer,
        responses={200: CheckSerializer, 400: BAD_REQUEST, 404: NOT_FOUND, 409: CONFLICT},
    ),
)
class EligibilityCheckViewSet(  # type: ignore[misc]  # the mixin and DRF both declare `action`
    PhiReadViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet
):
    """Checks of the practices where the caller holds ``verify_eligibility``; reads are
    logged as PHI reads of the appointments' patients."""

    phi_what = "eligibility checks API"

    queryset = EligibilityCheck.objects.select_related("appointment", "payer")
    serializer_class = CheckSerializer
    scope_permission = perms.VERIFY_ELIGIBILITY
    write_permission = perms.VERIFY_ELIGIBILITY
    pagination_class = CheckPagination
    filterset_class = CheckFilter
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "patch", "head", "options"]

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ItemConflict):
            current = (
                EligibilityCheck.objects.visible_to(self.request.user, perms.VERIFY_ELIGIBILITY)
                .filter(pk=self.kwargs.get("pk", 0))
                .values_list("version", flat=True)
                .first()
            )
            return Response(
                {"detail": str(exc), "current_version": current}, status=status.HTTP_409_CONFLICT
            )
        return super().handle_exception(exc)

    def partial_update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        check = self.get_object()
        serializer = CheckUpdateSerializer(data=request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        version = data["version"]
        with transaction.atomic():
            if "status" in data:
                check = self.call_service(
                    services.check_record_result,
                    check=check,
                    result=result_of(data),
                    expected_version=version,
                )
                version = check.version
            wanted = {"next_action", "next_action_due", "wait_reason", "owner"} & set(data)
            if wanted:
                check = self.call_service(
                    item_set_next_action,
                    item=check,
                    next_action=data.get("next_action", check.next_action),
                    next_action_due=data.get("next_action_due", check.next_action_due),
                    wait_reason=data.get("wait_reason", check.wait_reason),
                    owner=data.get("owner"),
                    expected_version=version,
                )
        fresh = self.get_queryset().get(pk=check.pk)
        return Response(CheckSerializer(fresh).data)
