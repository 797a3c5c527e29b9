"""``/api/v1/billing-functions/`` and ``/api/v1/sops/`` (with ``versions`` and
``sign-off``): the same services and scoping as the pages.

Functions are read by everybody who works the practice (``view_practice``) and changed by
managers (``manage_sops``); SOPs are read by the performers of their function (managers:
all), new versions are written by managers, and a reader signs off the current version.
Objects outside the caller's scope answer 404 like missing ones.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import F, Max, QuerySet
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from billing_ops.access import has_perm
from billing_ops.api import ScopedViewSet
from claims.api.pagination import KeysetPagination
from practices import permissions as perms
from sops import function_services, sop_services
from sops.choices import Sourcing
from sops.models import BillingFunction
from sops.sop_models import Sop, SopSignOff, SopVersion

NOT_FOUND = OpenApiResponse(description="No such object (or not one you may see or change).")
BAD_REQUEST = OpenApiResponse(description="Field errors, or the service's reason for refusing.")


class IdPagination(KeysetPagination):
    ordering = ("id",)
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200


class BillingFunctionSerializer(serializers.ModelSerializer[BillingFunction]):
    sop = serializers.SerializerMethodField()

    class Meta:
        model = BillingFunction
        fields = [
            "id",
            "practice",
            "kind",
            "owner",
            "backup",
            "sourcing",
            "turnaround_days",
            "escalation_contact",
            "how_to_reach",
            "sop",
        ]
        read_only_fields = fields

    def get_sop(self, function: BillingFunction) -> int | None:
        if hasattr(function, "sop_pk"):  # annotated by the viewset
            return function.sop_pk  # type: ignore[no-any-return]
        return Sop.objects.filter(function=function).values_list("pk", flat=True).first()


@extend_schema_field(OpenApiTypes.INT)  # an id
class PracticePersonField(serializers.PrimaryKeyRelatedField[Any]):
    """A user id; the service checks that the person works at the practice."""

    def get_queryset(self) -> QuerySet[Any]:
        return get_user_model()._default_manager.filter(is_active=True)


class BillingFunctionUpdateSerializer(serializers.Serializer[Any]):
    owner = PracticePersonField(required=False)
    backup = PracticePersonField(required=False, allow_null=True)
    escalation_contact = PracticePersonField(required=False, allow_null=True)
    sourcing = serializers.ChoiceField(choices=Sourcing.choices, required=False)
    turnaround_days = serializers.IntegerField(min_value=1, max_value=90, required=False)
    how_to_reach = serializers.CharField(max_length=300, required=False, allow_blank=True)


@extend_schema_view(
    list=extend_schema(summary="Billing functions of the practices you work"),
    retrieve=extend_schema(responses={200: BillingFunctionSerializer, 404: NOT_FOUND}),
    partial_update=extend_schema(
        summary="Change owner, backup, sourcing, turnaround, escalation contact (managers)",
        request=BillingFunctionUpdateSerializer,
        responses={200: BillingFunctionSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    ),
)
class BillingFunctionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = BillingFunction.objects.select_related("practice").annotate(sop_pk=F("sop__pk"))
    serializer_class = BillingFunctionSerializer
    scope_permission = perms.VIEW_PRACTICE
    write_permission = perms.MANAGE_SOPS
    pagination_class = IdPagination
    filterset_fields = ["practice", "kind"]
    lookup_value_regex = r"[0-9]+"
    http_method_names = ["get", "patch", "head", "options"]

    def partial_update(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        function = self.get_object()
        serializer = BillingFunctionUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        values = {
            "owner": function.owner,
            "backup": function.backup,
            "escalation_contact": function.escalation_contact,
            "sourcing": function.sourcing,
            "turnaround_days": function.turnaround_days,
            "how_to_reach": function.how_to_reach,
            **data,
        }
        function = self.call_service(
            function_services.billing_function_set,
            practice=function.practice,
            kind=function.kind,
            **values,
        )
        return Response(BillingFunctionSerializer(function).data)


class SopVersionSerializer(serializers.ModelSerializer[SopVersion]):
    signed_by = serializers.SerializerMethodField()

    class Meta:
        model = SopVersion
        fields = [
            "id",
            "number",
            "objective",
            "steps",
            "owner",
            "timeline",
            "escalation_path",
            "payer_requirements",
            "change_summary",
            "created_by",
            "created_at",
            "signed_by",
        ]
        read_only_fields = fields

    def get_signed_by(self, version: SopVersion) -> list[int]:
        return [sign_off.user_id for sign_off in version.sign_offs.all()]


class SopSerializer(serializers.ModelSerializer[Sop]):
    kind = serializers.CharField(source="function.kind", read_only=True)
    current_version = serializers.SerializerMethodField()

    class Meta:
        model = Sop
        fields = ["id", "practice", "function", "kind", "title", "current_version"]
        read_only_fields = fields

    def get_current_version(self, sop: Sop) -> int | None:
        if hasattr(sop, "current_number"):  # annotated by the viewset
            return sop.current_number  # type: ignore[no-any-return]
        current = sop.current_version()
        return current.number if current else None


class SopVersionCreateSerializer(serializers.Serializer[Any]):
    objective = serializers.CharField(max_length=5000)
    steps = serializers.ListField(
        child=serializers.CharField(max_length=1000), min_length=1, max_length=100
    )
    owner = PracticePersonField()
    timeline = serializers.CharField(max_length=300)
    escalation_path = serializers.CharField(max_length=5000)
    payer_requirements = serializers.CharField(max_length=5000, required=False, allow_blank=True)
    change_summary = serializers.CharField(max_length=300)


class SignOffSerializer(serializers.Serializer[Any]):
    version = serializers.IntegerField(min_value=1, max_value=2**31 - 1)


class SignOffResultSerializer(serializers.ModelSerializer[SopSignOff]):
    version = serializers.IntegerField(source="version.number", read_only=True)

    class Meta:
        model = SopSignOff
        fields = ["id", "version", "user", "signed_at"]
        read_only_fields = fields


@extend_schema_view(
    list=extend_schema(summary="SOPs of the functions you perform (managers: all)"),
    retrieve=extend_schema(responses={200: SopSerializer, 404: NOT_FOUND}),
)
class SopViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, ScopedViewSet):
    queryset = Sop.objects.select_related("function").annotate(
        current_number=Max("versions__number")
    )
    serializer_class = SopSerializer
    scope_permission = perms.VIEW_PRACTICE
    # Readers sign off; writing a version checks ``manage_sops`` itself.
    write_permission = perms.VIEW_PRACTICE
    pagination_class = IdPagination
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self) -> QuerySet[Any]:
        return super().get_queryset().filter(sop_services.readable_condition_sop(self.request.user))

    @extend_schema(
        methods=["GET"],
        summary="Every version, newest first",
        responses={200: SopVersionSerializer(many=True), 404: NOT_FOUND},
    )
    @extend_schema(
        methods=["POST"],
        summary="Write a new version (managers)",
        request=SopVersionCreateSerializer,
        responses={201: SopVersionSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["get", "post"])
    def versions(self, request: Any, pk: str | None = None) -> Response:
        sop = self.get_object()
        if request.method == "GET":
            rows = sop.versions.prefetch_related("sign_offs").order_by("-number")
            return Response(SopVersionSerializer(rows, many=True).data)
        if not has_perm(request.user, perms.MANAGE_SOPS, sop.practice_id):
            raise NotFound()
        serializer = SopVersionCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = self.call_service(
            sop_services.sop_save, function=sop.function, **serializer.validated_data
        )
        version = sop.versions.prefetch_related("sign_offs").get(pk=version.pk)
        return Response(SopVersionSerializer(version).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Sign off the current version (the number you read)",
        request=SignOffSerializer,
        responses={201: SignOffResultSerializer, 400: BAD_REQUEST, 404: NOT_FOUND},
    )
    @action(detail=True, methods=["post"], url_path="sign-off")
    def sign_off(self, request: Any, pk: str | None = None) -> Response:
        sop = self.get_object()
        serializer = SignOffSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        version = sop.versions.filter(number=serializer.validated_data["version"]).first()
        if version is None:
            raise NotFound()
        sign_off = self.call_service(sop_services.sop_sign_off, version=version)
        return Response(SignOffResultSerializer(sign_off).data, status=status.HTTP_201_CREATED)
