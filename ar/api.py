"""REST endpoints for remittances: upload an 835 (202 + Location, posted by a Celery task),
list the practice's batches, and one batch with its claim payments."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from ar import services
from ar.models import Adjustment, ClaimPayment, Remark, Remittance, ServiceLinePayment
from billing_ops.api import ScopedViewSet
from practices import permissions as perms
from practices.api import ScopedPracticeField


@extend_schema_field(OpenApiTypes.INT)
class RemittancePracticeField(ScopedPracticeField):
    """A practice where the caller posts payments (any other id: 400)."""


class AdjustmentSerializer(serializers.ModelSerializer[Adjustment]):
    class Meta:
        model = Adjustment
        fields = ["segment", "group", "reason_code", "amount", "quantity"]


class RemarkSerializer(serializers.ModelSerializer[Remark]):
    class Meta:
        model = Remark
        fields = ["segment", "source", "code"]


class LinePaymentSerializer(serializers.ModelSerializer[ServiceLinePayment]):
    class Meta:
        model = ServiceLinePayment
        fields = [
            "id",
            "segment",
            "procedure_code",
            "modifiers",
            "charge",
            "paid",
            "allowed",
            "patient_responsibility",
            "units",
            "service_date_from",
            "service_date_to",
            "claim_line",
        ]


class ClaimPaymentSerializer(serializers.ModelSerializer[ClaimPayment]):
    lines = LinePaymentSerializer(many=True, read_only=True)
    adjustments = serializers.SerializerMethodField()
    remarks = RemarkSerializer(many=True, read_only=True)

    class Meta:
        model = ClaimPayment
        fields = [
            "id",
            "segment",
            "patient_control_number",
            "payer_claim_number",
            "status_code",
            "charge",
            "paid",
            "allowed",
            "patient_responsibility",
            "adjusted",
            "filing_indicator",
            "claim",
            "reversal_of",
            "state",
            "problem",
            "posted_at",
            "lines",
            "adjustments",
            "remarks",
        ]

    @extend_schema_field(AdjustmentSerializer(many=True))
    def get_adjustments(self, payment: ClaimPayment) -> list[dict[str, Any]]:
        """Every adjustment with the line it belongs to (null: claim level)."""
        return [
            {**AdjustmentSerializer(a).data, "line": a.line_id} for a in payment.adjustments.all()
        ]


REMITTANCE_FIELDS = [
    "id",
    "practice",
    "source",
    "status",
    "dry_run",
    "payer_id",
    "trace",
    "payer_name",
    "payee_name",
    "method",
    "amount",
    "payment_date",
    "filename",
    "claim_count",
    "posted_count",
    "skipped_count",
    "unmatched_count",
    "entries",
    "created_at",
    "finished_at",
]


class RemittanceSerializer(serializers.ModelSerializer[Remittance]):
    class Meta:
        model = Remittance
        fields = REMITTANCE_FIELDS
        read_only_fields = fields


class RemittanceDetailSerializer(serializers.ModelSerializer[Remittance]):
    payments = ClaimPaymentSerializer(many=True, read_only=True)

    class Meta:
        model = Remittance
        fields = [*REMITTANCE_FIELDS, "payments"]
        read_only_fields = fields


class RemittanceUploadSerializer(serializers.Serializer[Any]):
    """Reads the upload; ``services.remittance_upload`` checks what the file must be."""

    practice = RemittancePracticeField(help_text="A practice where you post payments.")
    file = serializers.FileField(help_text="An X12 835 remittance file, at most 10 MB.")
    dry_run = serializers.BooleanField(default=False, help_text="Preview: post nothing.")


class RemittanceViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Remittances of the practices where the caller posts payments."""

    queryset = Remittance.objects.order_by("-created_at", "-pk")
    serializer_class = RemittanceSerializer
    scope_permission = perms.POST_PAYMENTS
    write_permission = perms.POST_PAYMENTS
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["practice", "status"]

    def get_queryset(self) -> Any:
        queryset = super().get_queryset()
        if self.action == "retrieve":
            queryset = queryset.prefetch_related(
                "payments__lines", "payments__adjustments", "payments__remarks"
            )
        return queryset

    def get_serializer_class(self) -> Any:
        if self.action == "create":
            return RemittanceUploadSerializer
        if self.action == "retrieve":
            return RemittanceDetailSerializer
        return RemittanceSerializer

    @extend_schema(request=RemittanceUploadSerializer, responses={202: RemittanceSerializer})
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        """Upload an 835; it is posted in the background (poll the Location)."""
        upload = self.get_serializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        batch = self.call_service(
            services.remittance_upload,
            practice=data["practice"],
            content=data["file"].read(),
            filename=data["file"].name,
            dry_run=data["dry_run"],
        )
        body = RemittanceSerializer(batch, context=self.get_serializer_context()).data
        location = reverse("api-remittance-detail", args=[batch.pk])
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})
