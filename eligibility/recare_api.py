"""``/api/v1/recare/``: list, detail and PATCH (log a call with its outcome, or set the
next action and owner), through the same services and scoping as the pages
(``work_recare``). Another practice's item answers 404 like a missing one; a stale
``version`` answers 409 with the current version."""

from __future__ import annotations

from typing import Any

import django_filters
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
from eligibility import recare as services
from eligibility.recare_models import CallOutcome, RecareItem, RecareKind, RecareNextAction
from practices.models import Appointment
from practices.phi_log import PhiReadViewSetMixin
from work.services import ItemConflict, item_set_next_action

PERM = services.PERM
NOT_FOUND = OpenApiResponse(description="No such recare item (or not one you may work).")
BAD_REQUEST = OpenApiResponse(description="Field errors, or the service's reason for refusing.")
CONFLICT = OpenApiResponse(description="Stale version: nothing was saved.")


@extend_schema_field(OpenApiTypes.INT)
class RecareWorkerField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A user who works recare at one of the caller's practices."""

    def get_queryset(self) -> QuerySet[Any]:
        return holders_among(PERM, visible_practice_ids(self.context["request"].user, PERM))


class RecareAppointmentField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """An appointment at a practice where the caller works recare (the service checks it
    is the item's patient's)."""

    def get_queryset(self) -> QuerySet[Any]:
        return Appointment.objects.visible_to(self.context["request"].user, PERM)


class RecarePagination(KeysetPagination):
    ordering = ("-priority", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class RecareSerializer(serializers.ModelSerializer[RecareItem]):
    class Meta:
        model = RecareItem
        fields = [
            "id",
            "practice",
            "patient",
            "kind",
            "due_on",
            "recall_type",
            "procedure_codes",
            "source_appointment",
            "attempts",
            "last_outcome",
            "last_called_at",
            "booked_appointment",
            "owner",
            "next_action",
            "next_action_due",
            "wait_reason",
            "priority",
            "priority_reasons",
            "closed_at",
            "closed_reason",
            "version",
        ]
        read_only_fields = fields


class RecareUpdateSerializer(serializers.Serializer[Any]):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    outcome = serializers.ChoiceField(
        choices=CallOutcome.choices, required=False, help_text="Log a call with this outcome."
    )
    next_call_on = serializers.DateField(required=False, allow_null=True)
    appointment = RecareAppointmentField(
        queryset=Appointment.objects.all(), required=False, allow_null=True
    )
    next_action = serializers.ChoiceField(choices=RecareNextAction.choices, required=False)
    next_action_due = serializers.DateField(required=False)
    wait_reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    owner = RecareWorkerField(required=False)


class RecareFilter(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=RecareKind.choices)
    patient = django_filters.NumberFilter(field_name="patient_id")
    open = django_filters.BooleanFilter(field_name="closed_at", lookup_expr="isnull")

    class Meta:
        model = RecareItem
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="The recare list you may work, highest rank first"),
    retrieve=extend_schema(responses={200: RecareSerializer, 404: NOT_FOUND}),
    partial_update=extend_schema(
        summary="Log a call (booked and declined close the item); next action and owner",
        request=RecareUpdateSerializer,
        responses={200: RecareSerializer, 400: BAD_REQUEST, 404: NOT_FOUND, 409: CONFLICT},
    ),
)
class RecareViewSet(  # type: ignore[misc]  # the mixin and DRF both declare `action`
    PhiReadViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet
):
    """Recare items of the practices where the caller works recare; reads are logged as
    PHI reads of their patients."""

    phi_what = "recare API"

    queryset = RecareItem.objects.all()
    serializer_class = RecareSerializer
    scope_permission = PERM
    write_permission = PERM
    pagination_class = RecarePagination
    filterset_class = RecareFilter
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "patch", "head", "options"]

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ItemConflict):
            current = (
                RecareItem.objects.visible_to(self.request.user, PERM)
                .filter(pk=self.kwargs.get("pk", 0))
                .values_list("version", flat=True)
                .first()
            )
            return Response(
                {"detail": str(exc), "current_version": current}, status=status.HTTP_409_CONFLICT
            )
        return super().handle_exception(exc)

    def partial_update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        serializer = RecareUpdateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        work = {"next_action", "next_action_due", "wait_reason", "owner"} & set(data)
        if ("outcome" in data) == bool(work):
            raise serializers.ValidationError(
                "Log a call (outcome, next_call_on, appointment) or set the next action and "
                "owner: one of the two per request."
            )
        if "outcome" in data:
            item = self.call_service(
                services.recare_log_call,
                item=item,
                outcome=data["outcome"],
                next_call_on=data.get("next_call_on"),
                appointment=data.get("appointment"),
                expected_version=data["version"],
            )
        else:
            item = self.call_service(
                item_set_next_action,
                item=item,
                next_action=data.get("next_action", item.next_action),
                next_action_due=data.get("next_action_due", item.next_action_due),
                wait_reason=data.get("wait_reason", item.wait_reason),
                owner=data.get("owner"),
                expected_version=data["version"],
            )
        fresh = self.get_queryset().get(pk=item.pk)
        return Response(RecareSerializer(fresh).data)
