"""``/api/v1/prior-authorizations/``: list, detail, create (POST) and PATCH, through the
same services and scoping as the pages (``verify_eligibility``).

An authorization of a practice the caller cannot verify eligibility at answers 404 like a
missing one; ids of other practices' patients or payers in a body read as "Invalid pk". A
stale ``version`` answers 409 with the current version.
"""

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
from eligibility import authorizations as services
from eligibility.auth_models import AuthNextAction, AuthStatus, PriorAuthorization
from practices.models import Appointment, Patient, Payer
from practices.phi_log import PhiReadViewSetMixin
from work.services import ItemConflict

PERM = services.PERM
NOT_FOUND = OpenApiResponse(description="No such authorization (or not one you may work).")
BAD_REQUEST = OpenApiResponse(description="Field errors, or the service's reason for refusing.")
CONFLICT = OpenApiResponse(description="Stale version: nothing was saved.")


class VerifiableRelatedField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """An id of a row of a practice where the caller verifies eligibility; any other reads
    as "Invalid pk", exactly like a missing one. ``queryset`` only names the model."""

    def __init__(self, *, model: Any, **kwargs: Any) -> None:
        self.scoped_model = model
        super().__init__(queryset=model._default_manager.all(), **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        user = self.context["request"].user
        scoped: QuerySet[Any] = self.scoped_model._default_manager.visible_to(user, PERM)
        return scoped


@extend_schema_field(OpenApiTypes.INT)
class VerifierField(serializers.PrimaryKeyRelatedField):  # type: ignore[type-arg]
    """A user who verifies eligibility at one of the caller's practices (the item's own
    practice is checked by the service)."""

    def get_queryset(self) -> QuerySet[Any]:
        ids = visible_practice_ids(self.context["request"].user, PERM)
        return holders_among(PERM, ids)


class AuthorizationPagination(KeysetPagination):
    ordering = ("-priority", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class AuthorizationSerializer(serializers.ModelSerializer[PriorAuthorization]):
    payer_name = serializers.CharField(source="payer.name", read_only=True)
    units_left = serializers.IntegerField(read_only=True)

    class Meta:
        model = PriorAuthorization
        fields = [
            "id",
            "practice",
            "patient",
            "payer",
            "payer_name",
            "appointment",
            "procedure_codes",
            "status",
            "number",
            "valid_from",
            "valid_to",
            "units_approved",
            "units_used",
            "units_left",
            "renews",
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


class AuthorizationCreateSerializer(serializers.Serializer[Any]):
    patient = VerifiableRelatedField(model=Patient)
    payer = VerifiableRelatedField(model=Payer)
    appointment = VerifiableRelatedField(model=Appointment, required=False, allow_null=True)
    procedure_codes = serializers.ListField(
        child=serializers.RegexField(r"^[A-Za-z0-9]{1,10}$"), min_length=1, max_length=30
    )
    status = serializers.ChoiceField(
        choices=[(s, AuthStatus(s).label) for s in ("needed", "requested", "approved")],
        default=AuthStatus.NEEDED,
    )
    number = serializers.CharField(max_length=50, required=False, default="", allow_blank=True)
    valid_from = serializers.DateField(required=False, allow_null=True, default=None)
    valid_to = serializers.DateField(required=False, allow_null=True, default=None)
    units_approved = serializers.IntegerField(min_value=0, max_value=9999, default=0)
    owner = VerifierField(required=False, allow_null=True, default=None)


class AuthorizationUpdateSerializer(serializers.Serializer[Any]):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)
    status = serializers.ChoiceField(choices=AuthStatus.choices, required=False)
    number = serializers.CharField(max_length=50, required=False, allow_blank=True)
    valid_from = serializers.DateField(required=False, allow_null=True)
    valid_to = serializers.DateField(required=False, allow_null=True)
    units_approved = serializers.IntegerField(min_value=0, max_value=9999, required=False)
    units_used = serializers.IntegerField(min_value=0, max_value=9999, required=False)
    procedure_codes = serializers.ListField(
        child=serializers.RegexField(r"^[A-Za-z0-9]{1,10}$"),
        min_length=1,
        max_length=30,
        required=False,
    )
    next_action = serializers.ChoiceField(choices=AuthNextAction.choices, required=False)
    next_action_due = serializers.DateField(required=False)
    wait_reason = serializers.CharField(max_length=300, required=False, allow_blank=True)
    owner = VerifierField(required=False)


class AuthorizationFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=AuthStatus.choices)
    patient = django_filters.NumberFilter(field_name="patient_id")
    payer = django_filters.NumberFilter(field_name="payer_id")
    open = django_filters.BooleanFilter(field_name="closed_at", lookup_expr="isnull")

    class Meta:
        model = PriorAuthorization
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(summary="Prior authorizations you may work, highest rank first"),
    retrieve=extend_schema(responses={200: AuthorizationSerializer, 404: NOT_FOUND}),
    create=extend_schema(
        summary="Record a needed, requested or approved authorization",
        request=AuthorizationCreateSerializer,
        responses={201: AuthorizationSerializer, 400: BAD_REQUEST},
    ),
    partial_update=extend_schema(
        summary="Status, number, dates, units, codes; next action and owner",
        request=AuthorizationUpdateSerializer,
        responses={200: AuthorizationSerializer, 400: BAD_REQUEST, 404: NOT_FOUND, 409: CONFLICT},
    ),
)
class PriorAuthorizationViewSet(  # type: ignore[misc]  # the mixin and DRF both declare `action`
    PhiReadViewSetMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    ScopedViewSet,
):
    """Prior authorizations of the practices where the caller verifies eligibility; reads
    are logged as PHI reads of their patients."""

    phi_what = "prior authorizations API"

    queryset = PriorAuthorization.objects.select_related("payer")
    serializer_class = AuthorizationSerializer
    scope_permission = PERM
    write_permission = PERM
    pagination_class = AuthorizationPagination
    filterset_class = AuthorizationFilter
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "post", "patch", "head", "options"]

    def filter_queryset(self, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return super().filter_queryset(queryset) if self.action == "list" else queryset

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, ItemConflict):
            current = (
                PriorAuthorization.objects.visible_to(self.request.user, PERM)
                .filter(pk=self.kwargs.get("pk", 0))
                .values_list("version", flat=True)
                .first()
            )
            return Response(
                {"detail": str(exc), "current_version": current}, status=status.HTTP_409_CONFLICT
            )
        return super().handle_exception(exc)

    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        serializer = AuthorizationCreateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        item = self.call_service(services.authorization_create, **data)
        fresh = self.get_queryset().get(pk=item.pk)
        return Response(AuthorizationSerializer(fresh).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        item = self.get_object()
        serializer = AuthorizationUpdateSerializer(
            data=request.data, context=self.get_serializer_context()
        )
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        work = {
            k: data.pop(k)
            for k in ("next_action", "next_action_due", "wait_reason", "owner")
            if k in data
        }
        item = self.call_service(
            services.authorization_update,
            authorization=item,
            expected_version=version,
            work=work,
            **data,
        )
        fresh = self.get_queryset().get(pk=item.pk)
        return Response(AuthorizationSerializer(fresh).data)
