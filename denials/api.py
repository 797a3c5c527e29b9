"""``/api/v1/denials/`` (list, detail, PATCH) and ``/api/v1/appeals/`` (list, create, and
``POST {id}/send/`` and ``POST {id}/decide/`` through ``denials.appeals``):
the same services and scoping as the pages (``work_claims``: "Work claims and denials").

A denial or appeal of a practice the caller cannot work answers 404 like a missing one;
ids of other practices' rows in a body read as "Invalid pk". A stale ``version`` answers
409 with the current version. Responses carry no patient names (claim number and id only).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import django_filters
from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from billing_ops.access import visible_practice_ids
from billing_ops.api import ScopedViewSet
from claims.api.fields import ClaimWorkerField, WorkableRelatedField
from claims.api.pagination import KeysetPagination
from claims.models import Attachment
from denials import appeals, services
from denials.choices import (
    AppealLevel,
    AppealMethod,
    AppealOutcome,
    DenialCategory,
    DenialStatus,
    NextAction,
    RootCause,
    Route,
)
from denials.models import Appeal, Denial
from practices import permissions as perms
from practices.phi_log import PhiReadViewSetMixin
from work.services import ItemConflict, item_set_next_action

NOT_FOUND = OpenApiResponse(description="No such denial (or not one you may work).")
BAD_REQUEST = OpenApiResponse(description="Field errors, or the service's reason for refusing.")
CONFLICT = OpenApiResponse(description="Stale version: nothing was saved.")


class DenialPagination(KeysetPagination):
    """Denials by queue rank (amount x urgency of the appeal deadline)."""

    ordering = ("-priority", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class AppealPagination(KeysetPagination):
    ordering = ("-id",)
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class DenialSerializer(serializers.ModelSerializer[Denial]):
    claim_number = serializers.CharField(source="claim.pms_claim_number", read_only=True)
    payer = serializers.CharField(source="claim.payer.name", read_only=True)
    line_number = serializers.IntegerField(source="line.line_number", read_only=True)

    class Meta:
        model = Denial
        fields = [
            "id",
            "practice",
            "claim",
            "claim_number",
            "payer",
            "line_number",
            "group_code",
            "carc",
            "rarcs",
            "amount",
            "received_on",
            "category",
            "route",
            "appeal_deadline",
            "root_cause",
            "status",
            "outcome",
            "amount_recovered",
            "owner",
            "next_action",
            "next_action_due",
            "wait_reason",
            "priority",
            "priority_reasons",
            "source",
            "source_ref",
            "version",
        ]
        read_only_fields = fields


class DenialUpdateSerializer(serializers.Serializer[Any]):
    version = serializers.IntegerField()
    category = serializers.ChoiceField(choices=DenialCategory.choices, required=False)
    route = serializers.ChoiceField(choices=Route.choices, required=False)
    root_cause = serializers.ChoiceField(
        choices=[("", "—"), *RootCause.choices], required=False, allow_blank=True
    )
    next_action = serializers.ChoiceField(choices=NextAction.choices, required=False)
    next_action_due = serializers.DateField(required=False)
    wait_reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    owner = ClaimWorkerField(required=False)


class DenialFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=DenialStatus.choices)
    category = django_filters.MultipleChoiceFilter(choices=DenialCategory.choices, distinct=False)
    route = django_filters.ChoiceFilter(choices=Route.choices)
    carc = django_filters.CharFilter(max_length=10)
    payer = django_filters.NumberFilter(field_name="claim__payer_id")
    claim = django_filters.NumberFilter(field_name="claim_id")

    class Meta:
        model = Denial
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Denials you may work, highest rank first"),
    retrieve=extend_schema(responses={200: DenialSerializer, 404: NOT_FOUND}),
    partial_update=extend_schema(
        summary="Recategorize, reroute, root cause, owner and next action",
        request=DenialUpdateSerializer,
        responses={200: DenialSerializer, 400: BAD_REQUEST, 404: NOT_FOUND, 409: CONFLICT},
    ),
)
class DenialViewSet(  # type: ignore[misc]  # the mixin and DRF both declare `action`
    PhiReadViewSetMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet
):
    """Denials of the practices where the caller holds ``work_claims``; reads are logged
    as PHI reads of the claims' patients."""

    phi_what = "denials API"

    queryset = Denial.objects.select_related("claim__payer", "line")
    serializer_class = DenialSerializer
    scope_permission = perms.WORK_CLAIMS
    write_permission = perms.WORK_CLAIMS
    pagination_class = DenialPagination
    filterset_class = DenialFilter
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "patch", "head", "options"]

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ItemConflict):
            current = (
                Denial.objects.visible_to(self.request.user, perms.WORK_CLAIMS)
                .filter(pk=self.kwargs.get("pk", 0))
                .values_list("version", flat=True)
                .first()
            )
            return Response(
                {"detail": str(exc), "current_version": current}, status=status.HTTP_409_CONFLICT
            )
        return super().handle_exception(exc)

    def partial_update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        denial = self.get_object()
        serializer = DenialUpdateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        with transaction.atomic():
            denial = self.call_service(
                services.denial_update,
                denial=denial,
                expected_version=data["version"],
                category=data.get("category"),
                route=data.get("route"),
                root_cause=data.get("root_cause"),
            )
            wanted = {"next_action", "next_action_due", "wait_reason", "owner"} & set(data)
            if wanted:
                denial = self.call_service(
                    item_set_next_action,
                    item=denial,
                    next_action=data.get("next_action", denial.next_action),
                    next_action_due=data.get("next_action_due", denial.next_action_due),
                    wait_reason=data.get("wait_reason", denial.wait_reason),
                    owner=data.get("owner"),
                )
        fresh = self.get_queryset().get(pk=denial.pk)
        return Response(DenialSerializer(fresh).data)


class AttachmentOfVisibleClaimField(serializers.PrimaryKeyRelatedField[Attachment]):
    """An attachment of a claim the caller may work (the service checks the claim and the
    clinical visibility)."""

    def get_queryset(self) -> QuerySet[Attachment]:
        ids = visible_practice_ids(self.context["request"].user, perms.WORK_CLAIMS)
        return Attachment.objects.filter(claim__practice_id__in=sorted(ids))


class AppealSerializer(serializers.ModelSerializer[Appeal]):
    class Meta:
        model = Appeal
        fields = [
            "id",
            "denial",
            "level",
            "method",
            "sent_on",
            "deadline",
            "outcome",
            "decided_on",
            "amount_recovered",
            "documents",
            "created_at",
        ]
        read_only_fields = fields


class AppealSendSerializer(serializers.Serializer[Any]):
    method = serializers.ChoiceField(
        choices=[("", "—"), *AppealMethod.choices], required=False, default=""
    )
    sent_on = serializers.DateField(required=False)


class AppealDecideSerializer(serializers.Serializer[Any]):
    outcome = serializers.ChoiceField(choices=AppealOutcome.choices)
    amount_recovered = serializers.DecimalField(
        max_digits=12, decimal_places=2, required=False, default=Decimal("0")
    )
    decided_on = serializers.DateField(required=False)


class AppealCreateSerializer(serializers.Serializer[Any]):
    denial = WorkableRelatedField(queryset=Denial.objects.all())
    level = serializers.ChoiceField(choices=AppealLevel.choices, default=AppealLevel.FIRST)
    method = serializers.ChoiceField(
        choices=[("", "—"), *AppealMethod.choices], required=False, default=""
    )
    deadline = serializers.DateField(required=False)
    letter = serializers.CharField(max_length=20000, required=False)
    documents = AttachmentOfVisibleClaimField(
        queryset=Attachment.objects.all(), many=True, required=False
    )


@extend_schema_view(
    list=extend_schema(summary="Appeals of denials you may work"),
    create=extend_schema(
        summary="Draft an appeal (letter from the category's template unless given)",
        request=AppealCreateSerializer,
        responses={201: AppealSerializer, 400: BAD_REQUEST},
    ),
    send=extend_schema(
        summary="Record that the appeal went to the payer (the claim becomes appealed)",
        request=AppealSendSerializer,
        responses={200: AppealSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    ),
    decide=extend_schema(
        summary="Record the payer's decision (overturned closes the denial, upheld asks "
        "for the next level)",
        request=AppealDecideSerializer,
        responses={200: AppealSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    ),
)
class AppealViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, ScopedViewSet):
    """Appeals of denials at practices where the caller holds ``work_claims``."""

    queryset = Appeal.objects.prefetch_related("documents")
    serializer_class = AppealSerializer
    scope_permission = perms.WORK_CLAIMS
    write_permission = perms.WORK_CLAIMS
    pagination_class = AppealPagination
    filterset_fields = ["denial", "level", "outcome"]

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        serializer = AppealCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        appeal = self.call_service(
            appeals.appeal_create,
            denial=data.pop("denial"),
            documents=data.pop("documents", []),
            **data,
        )
        fresh = self.get_queryset().get(pk=appeal.pk)
        return Response(AppealSerializer(fresh).data, status=status.HTTP_201_CREATED)

    @action(detail=True, methods=["post"])
    def send(self, request: Any, pk: str | None = None) -> Response:
        appeal = self.get_object()
        serializer = AppealSendSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appeal = self.call_service(appeals.appeal_send, appeal=appeal, **serializer.validated_data)
        return Response(AppealSerializer(self.get_queryset().get(pk=appeal.pk)).data)

    @action(detail=True, methods=["post"])
    def decide(self, request: Any, pk: str | None = None) -> Response:
        appeal = self.get_object()
        serializer = AppealDecideSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        appeal = self.call_service(
            appeals.appeal_decide, appeal=appeal, **serializer.validated_data
        )
        return Response(AppealSerializer(self.get_queryset().get(pk=appeal.pk)).data)
