"""REST endpoints for imports: multipart upload (202 + Location) and the job's progress."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from billing_ops.api import ScopedViewSet
from claims.choices import ImportKind
from claims.imports import services
from claims.imports.selectors import KINDS, job_report
from claims.models import ImportJob
from practices import permissions as perms
from practices.api import ScopedPracticeField


@extend_schema_field(OpenApiTypes.INT)
class ImportPracticeField(ScopedPracticeField):
    """A practice where the caller works claims (any other id: 400)."""


class ImportRecordSerializer(serializers.Serializer):
    """Something the import created or changed (a preview's records were rolled back)."""

    kind = serializers.ChoiceField(choices=sorted(KINDS))
    id = serializers.IntegerField()
    label = serializers.CharField()
    action = serializers.CharField(help_text="created, updated, replaced or voided")


class ImportJobSerializer(serializers.ModelSerializer):
    warning_count = serializers.SerializerMethodField()
    change_count = serializers.SerializerMethodField()
    records = ImportRecordSerializer(many=True, read_only=True)

    @extend_schema_field(OpenApiTypes.INT)
    def get_warning_count(self, job: ImportJob) -> int:
        """Warnings about the file (e.g. the wrong kind for the practice, undated claims)."""
        return job_report(job).warning_count

    @extend_schema_field(OpenApiTypes.INT)
    def get_change_count(self, job: ImportJob) -> int:
        """Records on file the import changed (each listed with before/after in errors)."""
        return job_report(job).change_count

    class Meta:
        model = ImportJob
        fields = [
            "id",
            "practice",
            "kind",
            "filename",
            "column_mapping",
            "dry_run",
            "status",
            "total",
            "processed",
            "created_count",
            "updated_count",
            "skipped_count",
            "rejected_count",
            "conflict_count",
            "warning_count",
            "change_count",
            "errors",
            "records",
            "created_at",
            "started_at",
            "finished_at",
        ]
        read_only_fields = fields


class ImportUploadSerializer(serializers.Serializer):
    """Reads the upload; what the file must be (size, text, kind, mapping) is checked by
    ``services.import_file``, whose errors ``call_service`` answers as 400 per field."""

    practice = ImportPracticeField(help_text="A practice where you work claims.")
    file = serializers.FileField(help_text="CSV (UTF-8) or X12 837P/837D text, at most 10 MB.")
    # "auto" also keeps this enum apart from ImportJob.kind in the schema (one component
    # each, so drf-spectacular names them without a collision).
    kind = serializers.ChoiceField(
        choices=[("auto", "Detect from the content"), *ImportKind.choices],
        default="auto",
        help_text="What the file holds; auto: X12 if it starts with ISA, else from the header.",
    )
    dry_run = serializers.BooleanField(default=False, help_text="Preview: write nothing.")
    column_mapping = serializers.JSONField(
        binary=True, required=False, help_text='JSON {"our_field": "Their header"}.'
    )


class ImportJobViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, ScopedViewSet
):
    """Import jobs of the practices where the caller works claims."""

    queryset = ImportJob.objects.order_by("-created_at", "-pk")
    serializer_class = ImportJobSerializer
    scope_permission = perms.WORK_CLAIMS
    write_permission = perms.WORK_CLAIMS
    parser_classes = [MultiPartParser, FormParser]
    filterset_fields = ["practice", "status", "kind"]

    def get_serializer_class(self) -> Any:
        return ImportUploadSerializer if self.action == "create" else ImportJobSerializer

    @extend_schema(request=ImportUploadSerializer, responses={202: ImportJobSerializer})
    def create(self, request: Any, *args: Any, **kwargs: Any) -> Response:
        """Upload a file; the import runs in the background (poll the Location)."""
        upload = self.get_serializer(data=request.data)
        upload.is_valid(raise_exception=True)
        data = upload.validated_data
        job = self.call_service(
            services.import_file,
            practice=data["practice"],
            content=data["file"].read(),
            filename=data["file"].name,
            kind=None if data["kind"] == "auto" else data["kind"],
            dry_run=data["dry_run"],
            column_mapping=data.get("column_mapping"),
        )
        body = ImportJobSerializer(job, context=self.get_serializer_context()).data
        location = reverse("api-import-detail", args=[job.pk])
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})
