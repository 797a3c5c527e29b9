"""REST endpoints for 271 imports: upload a file (applied now: 201, or 400 with the segments
when it is refused), list the practice's imports, and one import with its members."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from billing_ops.api import ScopedViewSet
from eligibility.response_models import (
    EligibilityResponseImport,
    EligibilityResponseMember,
    ResponseStatus,
)
from eligibility.responses import response_import
from practices import permissions as perms
from practices.api import ScopedPracticeField


@extend_schema_field(OpenApiTypes.INT)
class ResponsePracticeField(ScopedPracticeField):
    """A practice where the caller verifies eligibility (any other id: 400)."""


class ResponseMemberSerializer(serializers.ModelSerializer[EligibilityResponseMember]):
    class Meta:
        model = EligibilityResponseMember
        fields = [
            "segment",
            "level",
            "last_name",
            "first_name",
            "date_of_birth",
            "member_id",
            "trace",
            "result_status",
            "problems",
            "outcome",
            "message",
            "applied",
            "check_item",
        ]


RESPONSE_FIELDS = [
    "id",
    "practice",
    "status",
    "filename",
    "payer_name",
    "member_count",
    "applied_count",
    "already_count",
    "unmatched_count",
    "problem_count",
    "other_count",
    "entries",
    "created_at",
]


class ResponseSerializer(serializers.ModelSerializer[EligibilityResponseImport]):
    class Meta:
        model = EligibilityResponseImport
        fields = RESPONSE_FIELDS
        read_only_fields = fields


class ResponseDetailSerializer(serializers.ModelSerializer[EligibilityResponseImport]):
    members = ResponseMemberSerializer(many=True, read_only=True)

    class Meta:
        model = EligibilityResponseImport
        fields = [*RESPONSE_FIELDS, "members"]
        read_only_fields = fields


class ResponseUploadSerializer(serializers.Serializer[Any]):
    practice = ResponsePracticeField(help_text="A practice where you verify eligibility.")
    file = serializers.FileField(help_text="An X12 271 (005010X279A1) file, at most 10 MB.")


class EligibilityResponseViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """271 imports of the practices where the caller verifies eligibility."""

    queryset = EligibilityResponseImport.objects.order_by("-created_at", "-pk")
    serializer_class = ResponseSerializer
    scope_permission = perms.VERIFY_ELIGIBILITY
    write_permission = perms.VERIFY_ELIGIBILITY
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["practice", "status"]

    def get_queryset(self) -> Any:
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("members")
        return queryset

    def get_serializer_class(self) -> Any:
        if self.action == "create":
            return ResponseUploadSerializer
        if self.action == "retrieve":
            return ResponseDetailSerializer
        return ResponseSerializer

    @extend_schema(
        request=ResponseUploadSerializer,
        responses={201: ResponseSerializer, 400: ResponseSerializer},
    )
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        """Upload a 271; it is applied now (400 with the segments when it is refused)."""
        upload = self.get_serializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        batch = self.call_service(
            response_import,
            practice=data["practice"],
            content=data["file"].read(),
            filename=data["file"].name,
        )
        body = ResponseSerializer(batch, context=self.get_serializer_context()).data
        refused = batch.status == ResponseStatus.REFUSED
        code = status.HTTP_400_BAD_REQUEST if refused else status.HTTP_201_CREATED
        location = reverse("api-eligibility-response-detail", args=[batch.pk])
        return Response(body, status=code, headers={"Location": location})
