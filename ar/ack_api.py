"""REST endpoints for 277CA acknowledgements: upload a file (applied now: 201, or 400 with
the segments when it is refused), list the practice's imports, and one import with its
claims."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from ar.ack_models import Acknowledgement, ClaimAcknowledgement
from ar.acknowledgements import acknowledgement_upload
from billing_ops.api import ScopedViewSet
from practices import permissions as perms
from practices.api import ScopedPracticeField


@extend_schema_field(OpenApiTypes.INT)
class AckPracticeField(ScopedPracticeField):
    """A practice where the caller posts payments (any other id: 400)."""


class ClaimAcknowledgementSerializer(serializers.ModelSerializer[ClaimAcknowledgement]):
    class Meta:
        model = ClaimAcknowledgement
        fields = [
            "segment",
            "patient_control_number",
            "payer_claim_number",
            "status_codes",
            "reason",
            "status_date",
            "amount",
            "outcome",
            "applied",
            "claim",
        ]


ACK_FIELDS = [
    "id",
    "practice",
    "status",
    "dry_run",
    "filename",
    "payer_name",
    "trace",
    "accepted_count",
    "rejected_count",
    "unmatched_count",
    "already_count",
    "not_applied_count",
    "entries",
    "created_at",
]


class AcknowledgementSerializer(serializers.ModelSerializer[Acknowledgement]):
    class Meta:
        model = Acknowledgement
        fields = ACK_FIELDS
        read_only_fields = fields


class AcknowledgementDetailSerializer(serializers.ModelSerializer[Acknowledgement]):
    claims = ClaimAcknowledgementSerializer(many=True, read_only=True)

    class Meta:
        model = Acknowledgement
        fields = [*ACK_FIELDS, "claims"]
        read_only_fields = fields


class AcknowledgementUploadSerializer(serializers.Serializer[Any]):
    practice = AckPracticeField(help_text="A practice where you post payments.")
    file = serializers.FileField(help_text="An X12 277CA (005010X214) file, at most 10 MB.")
    dry_run = serializers.BooleanField(default=False, help_text="Preview: apply nothing.")


class AcknowledgementViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """277CA imports of the practices where the caller posts payments."""

    queryset = Acknowledgement.objects.order_by("-created_at", "-pk")
    serializer_class = AcknowledgementSerializer
    scope_permission = perms.POST_PAYMENTS
    write_permission = perms.POST_PAYMENTS
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["practice", "status"]

    def get_queryset(self) -> Any:
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related("claims")
        return queryset

    def get_serializer_class(self) -> Any:
        if self.action == "create":
            return AcknowledgementUploadSerializer
        if self.action == "retrieve":
            return AcknowledgementDetailSerializer
        return AcknowledgementSerializer

    @extend_schema(
        request=AcknowledgementUploadSerializer,
        responses={202: AcknowledgementSerializer},
    )
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        """Upload a 277CA: 202, queued for a worker (status "pending"); its detail says
        what it did once run (refused: nothing applied, the entries name the segments)."""
        upload = self.get_serializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        batch = self.call_service(
            acknowledgement_upload,
            practice=data["practice"],
            content=data["file"].read(),
            filename=data["file"].name,
            dry_run=data["dry_run"],
        )
        body = AcknowledgementSerializer(batch, context=self.get_serializer_context()).data
        location = reverse("api-acknowledgement-detail", args=[batch.pk])
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})
